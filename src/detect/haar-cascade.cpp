#include "haar-cascade.h"

#include <algorithm>
#include <cmath>

namespace fer::detect {

namespace {

int round_f(float v) { return int(std::lrintf(v)); }   // cvRound(float)
int round_d(double v) { return int(std::lrint(v)); }  // cvRound(double)

// Offsets of a rectangle's four corners in an integral table (OpenCV's
// CV_SUM_OFS / CV_TILTED_OFS); the sum is t[o0] - t[o1] - t[o2] + t[o3].
void rect_offsets(const haar_rect & r, bool tilted, int32_t stride, int32_t base, int32_t * o) {
    if (!tilted) {
        o[0] = base + r.x + stride * r.y;
        o[1] = base + r.x + r.w + stride * r.y;
        o[2] = base + r.x + stride * (r.y + r.h);
        o[3] = base + r.x + r.w + stride * (r.y + r.h);
    } else {
        o[0] = base + r.x + stride * r.y;
        o[1] = base + r.x - r.h + stride * (r.y + r.h);
        o[2] = base + r.x + r.w + stride * (r.y + r.w);
        o[3] = base + r.x + r.w - r.h + stride * (r.y + r.w + r.h);
    }
}

inline int32_t corner_sum(const uint32_t * p, const int32_t * o) {
    return int32_t(p[o[0]] - p[o[1]] - p[o[2]] + p[o[3]]);
}

struct window_eval {
    const haar_detector & d;
    const int32_t * ofs;   // 12 per feature
    const float * wts;     // 3 per feature
    int32_t norm_ofs[4];
    double area;

    // OpenCV's HaarEvaluator::OptFeature::calc times the normalisation factor.
    inline float feature(int32_t f, const uint32_t * p, float vnf) const {
        const int32_t * o = ofs + 12 * f;
        const float * w = wts + 3 * f;
        float ret = w[0] * float(corner_sum(p, o)) + w[1] * float(corner_sum(p, o + 4));
        if (w[2] != 0.0f) {
            ret += w[2] * float(corner_sum(p, o + 8));
        }
        return ret * vnf;
    }

    // 1: face; 0: rejected by the first stage; < 0: rejected later (-stage),
    // or -1 when the window has too little contrast (OpenCV's setWindow).
    int run(const uint32_t * p, const uint32_t * q) const {
        const int32_t valsum = corner_sum(p, norm_ofs);
        const uint32_t valsqsum = q[norm_ofs[0]] - q[norm_ofs[1]] - q[norm_ofs[2]] + q[norm_ofs[3]];
        double nf = area * double(valsqsum) - double(valsum) * double(valsum);
        if (!(nf > 0.)) {
            return -1;
        }
        nf = std::sqrt(nf);
        const float vnf = float(1. / nf);
        if (!(area * vnf < 1e-1)) {
            return -1;
        }
        const int n_stages = int(d.model.stages.size());
        if (!d.stumps.empty()) {
            const haar_detector::stump * st = d.stumps.data();
            for (int si = 0; si < n_stages; ++si) {
                const int nt = d.model.stages[size_t(si)].n_trees;
                double tmp = 0;
                for (int i = 0; i < nt; ++i, ++st) {
                    const float value = feature(st->feature, p, vnf);
                    tmp += value < st->threshold ? st->left : st->right;
                }
                if (tmp < d.stage_thresholds[size_t(si)]) {
                    return -si;
                }
            }
            return 1;
        }
        size_t tree = 0, node_ofs = 0, leaf_ofs = 0;
        const tree_node * nodes = d.model.nodes.data();
        const float * leaves = d.model.leaves.data();
        for (int si = 0; si < n_stages; ++si) {
            const int nt = d.model.stages[size_t(si)].n_trees;
            double sum = 0;
            for (int i = 0; i < nt; ++i, ++tree) {
                const int32_t n_nodes = d.model.tree_nodes[tree];
                int32_t idx = 0;
                do {
                    const tree_node & node = nodes[node_ofs + size_t(idx)];
                    const float val = feature(node.feature, p, vnf);
                    idx = val < node.threshold ? node.left : node.right;
                } while (idx > 0);
                sum += leaves[leaf_ofs + size_t(-idx)];
                node_ofs += size_t(n_nodes);
                leaf_ofs += size_t(n_nodes) + 1;
            }
            if (sum < d.stage_thresholds[size_t(si)]) {
                return -si;
            }
        }
        return 1;
    }
};

}  // namespace

void prepare(haar_detector & d) {
    const float k_threshold_eps = 1e-5f;
    d.stage_thresholds.clear();
    for (const stage & s : d.model.stages) {
        d.stage_thresholds.push_back(s.threshold - k_threshold_eps);
    }
    d.stumps.clear();
    if (d.model.max_tree_nodes == 1) {
        for (size_t i = 0; i < d.model.nodes.size(); ++i) {
            const tree_node & n = d.model.nodes[i];
            d.stumps.push_back({n.feature, n.threshold, d.model.leaves[2 * i], d.model.leaves[2 * i + 1]});
        }
    }
}

void detect_raw(const haar_detector & d, const uint8_t * img, int w, int h, size_t stride, const scan_options & o,
                std::vector<rect> & hits, scan_scratch & s) {
    hits.clear();
    const cascade & c = d.model;
    if (w < c.win_w || h < c.win_h) {
        return;
    }
    const int max_w = o.max_w > 0 ? o.max_w : w;
    const int max_h = o.max_h > 0 ? o.max_h : h;

    // Scales, exactly as OpenCV picks them (float factors from a double product).
    std::vector<float> scales;
    for (double factor = 1;; factor *= o.scale_factor) {
        const int ww = round_d(c.win_w * factor), wh = round_d(c.win_h * factor);
        if (ww > w || wh > h) {
            break;
        }
        const float f = float(factor);
        const int fw = round_f(float(c.win_w) * f), fh = round_f(float(c.win_h) * f);
        if (fw > max_w || fh > max_h) {
            break;
        }
        if (fw < o.min_w || fh < o.min_h) {
            continue;
        }
        scales.push_back(f);
    }
    // OpenCV scans the smallest scale anyway when none is allowed; we do not
    // (a face outside [min, max] is never reported).
    if (scales.empty()) {
        return;
    }

    // One table layout for all scales: the first (largest) level's width.
    const int w0 = round_f(float(w) / scales[0]), h0 = round_f(float(h) / scales[0]);
    const size_t tstride = size_t(w0) + 1;
    const size_t table = tstride * (size_t(h0) + 1);
    s.sum.resize(c.has_tilted ? 2 * table : table);
    s.sqsum.resize(table);
    s.resized.resize(size_t(w0) * size_t(h0));

    const size_t n_features = c.features.size();
    s.offsets.resize(n_features * 12);
    s.weights.resize(n_features * 3);
    for (size_t f = 0; f < n_features; ++f) {
        const haar_feature & ft = c.features[f];
        for (int r = 0; r < k_max_rects; ++r) {
            rect_offsets(ft.rect[r], ft.tilted, int32_t(tstride), ft.tilted ? int32_t(table) : 0,
                         &s.offsets[f * 12 + size_t(r) * 4]);
            s.weights[f * 3 + size_t(r)] = ft.rect[r].weight;
        }
    }
    window_eval ev{d, s.offsets.data(), s.weights.data(), {0, 0, 0, 0}, double(c.win_w - 2) * double(c.win_h - 2)};
    rect_offsets(haar_rect{1, 1, c.win_w - 2, c.win_h - 2, 0.f}, false, int32_t(tstride), 0, ev.norm_ofs);

    for (const float sc : scales) {
        const int sw = round_f(float(w) / sc), sh = round_f(float(h) / sc);
        const int ystep = sc >= 2 ? 1 : 2;
        const int szw_w = std::max(sw + 1 - c.win_w, 0), szw_h = std::max(sh + 1 - c.win_h, 0);
        const int win_w = round_f(float(c.win_w) * sc), win_h = round_f(float(c.win_h) * sc);
        const uint8_t * level = img;
        size_t level_stride = stride;
        if (sw != w || sh != h) {
            resize_linear_u8(img, w, h, stride, s.resized.data(), sw, sh, size_t(sw), s.rs);
            level = s.resized.data();
            level_stride = size_t(sw);
        }
        integral_sum_sqsum(level, sw, sh, level_stride, s.sum.data(), s.sqsum.data(), tstride);
        if (c.has_tilted) {
            integral_tilted(level, sw, sh, level_stride, s.sum.data() + table, tstride, s.tilted_scratch);
        }
        for (int y = 0; y < szw_h; y += ystep) {
            const uint32_t * prow = s.sum.data() + size_t(y) * tstride;
            const uint32_t * qrow = s.sqsum.data() + size_t(y) * tstride;
            for (int x = 0; x < szw_w; x += ystep) {
                const int result = ev.run(prow + x, qrow + x);
                if (result > 0) {
                    hits.push_back(rect{round_f(float(x) * sc), round_f(float(y) * sc), win_w, win_h});
                }
                if (result == 0) {
                    x += ystep;
                }
            }
        }
    }
}

}  // namespace fer::detect
