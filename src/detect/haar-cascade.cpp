#include "haar-cascade.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fer::detect {

namespace {

int round_f(float v) { return int(std::lrintf(v)); }   // cvRound(float)
int round_d(double v) { return int(std::lrint(v)); }  // cvRound(double)

// Where integral-table column c of a window lies relative to the window's
// origin. Plain layout: c. Split layout (scales scanned with a 2-pixel step):
// each table row stores its even columns, then its odd ones, so that windows
// at x = 0, 2, 4, ... become consecutive (the batched scan loads 8 at once).
struct layout {
    bool split = false;
    int32_t half = 0;  // even columns per row
    int32_t col(int32_t c) const { return !split ? c : (c % 2 == 0 ? c / 2 : half + c / 2); }
};

// Offsets of a rectangle's four corners in an integral table (OpenCV's
// CV_SUM_OFS / CV_TILTED_OFS); the sum is t[o0] - t[o1] - t[o2] + t[o3].
// Tilted features only ever use the plain layout.
void rect_offsets(const haar_rect & r, bool tilted, int32_t stride, int32_t base, const layout & l, int32_t * o) {
    if (!tilted) {
        o[0] = base + l.col(r.x) + stride * r.y;
        o[1] = base + l.col(r.x + r.w) + stride * r.y;
        o[2] = base + l.col(r.x) + stride * (r.y + r.h);
        o[3] = base + l.col(r.x + r.w) + stride * (r.y + r.h);
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
    const int32_t * ofs;  // 12 per feature
    const float * wts;    // 3 per feature
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

    // OpenCV's HaarEvaluator::setWindow: 1/stddev of the inner (w-2)x(h-2)
    // rectangle; false (result -1) for windows with almost no contrast.
    inline bool variance(const uint32_t * p, const uint32_t * q, float & vnf) const {
        const int32_t valsum = corner_sum(p, norm_ofs);
        const uint32_t valsqsum = q[norm_ofs[0]] - q[norm_ofs[1]] - q[norm_ofs[2]] + q[norm_ofs[3]];
        double nf = area * double(valsqsum) - double(valsum) * double(valsum);
        if (!(nf > 0.)) {
            vnf = 1.f;
            return false;
        }
        nf = std::sqrt(nf);
        vnf = float(1. / nf);
        return area * vnf < 1e-1;
    }

    // Reference: the whole cascade for one window, as OpenCV's runAt.
    // 1: face; 0: rejected by the first stage; < 0: rejected later (-stage),
    // or -1 when the window has too little contrast.
    int run(const uint32_t * p, const uint32_t * q) const {
        float vnf;
        if (!variance(p, q, vnf)) {
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

// ---- batched evaluation: one stage for 4 or 8 consecutive windows ----
//
// Lane l computes exactly what window_eval::stage computes for window k0+l,
// in the same order and precision (float features, double stage sums), so
// the decisions are identical. GCC/Clang vector extensions: SSE2 natively,
// AVX2 through target_clones where available, WASM SIMD128 with Emscripten.

constexpr int k_max_lanes = 8;  // windows per batch, at most
constexpr int k_max_batched_tree_nodes = 8;  // deeper trees use the reference loop

template <int N> struct vec;
template <> struct vec<4> {
    typedef uint32_t u __attribute__((vector_size(16)));
    typedef int32_t i __attribute__((vector_size(16)));
    typedef float f __attribute__((vector_size(16)));
    typedef float fh __attribute__((vector_size(8)));
    typedef double dh __attribute__((vector_size(16)));
};
template <> struct vec<8> {
    typedef uint32_t u __attribute__((vector_size(32)));
    typedef int32_t i __attribute__((vector_size(32)));
    typedef float f __attribute__((vector_size(32)));
    typedef float fh __attribute__((vector_size(16)));
    typedef double dh __attribute__((vector_size(32)));
};

template <int N>
__attribute__((always_inline)) inline typename vec<N>::f sum_n(const uint32_t * p, const int32_t * o) {
    typename vec<N>::u a, b, c, d;
    std::memcpy(&a, p + o[0], sizeof a);
    std::memcpy(&b, p + o[1], sizeof b);
    std::memcpy(&c, p + o[2], sizeof c);
    std::memcpy(&d, p + o[3], sizeof d);
    return __builtin_convertvector((typename vec<N>::i)(a - b - c + d), typename vec<N>::f);
}

// Feature f of N consecutive windows (their table corner at p), normalised:
// window_eval::feature in every lane, same operations in the same order.
template <int N>
__attribute__((always_inline)) inline typename vec<N>::f feature_n(const window_eval & ev, int32_t f, const uint32_t * p,
                                                                  typename vec<N>::f vnf) {
    const int32_t * o = ev.ofs + 12 * f;
    const float * w = ev.wts + 3 * f;
    typename vec<N>::f val = w[0] * sum_n<N>(p, o) + w[1] * sum_n<N>(p, o + 4);
    if (w[2] != 0.0f) {
        val += w[2] * sum_n<N>(p, o + 8);
    }
    return val * vnf;
}

// Adds the leaf values whose float bits lie in `bits` to the stage sums of
// their windows (doubles, two vectors of N/2: the reference's precision).
template <int N>
__attribute__((always_inline)) inline void add_leaves_n(typename vec<N>::dh * acc, typename vec<N>::i bits) {
    typename vec<N>::fh lo, hi;
    std::memcpy(&lo, &bits, sizeof lo);
    std::memcpy(&hi, reinterpret_cast<const char *>(&bits) + sizeof lo, sizeof hi);
    acc[0] += __builtin_convertvector(lo, typename vec<N>::dh);
    acc[1] += __builtin_convertvector(hi, typename vec<N>::dh);
}

// pass[l] = 1 when window l's stage sum reaches the stage threshold.
template <int N, int K>
__attribute__((always_inline)) inline void stage_verdict_n(const typename vec<N>::dh * acc, double thr, uint8_t * pass) {
    for (int k = 0; k < 2 * K; ++k) {
        for (int l = 0; l < N / 2; ++l) {
            pass[k * (N / 2) + l] = !(acc[k][l] < thr);
        }
    }
}

// pass[l] = 1 when window l of K x N consecutive ones passes stage si;
// the windows are processed as K vectors of N lanes.
template <int N, int K>
__attribute__((always_inline)) inline void stage_n(const window_eval & ev, int si, const uint32_t * p,
                                                   const float * vnf_in, uint8_t * pass) {
    typedef typename vec<N>::f vf;
    typedef typename vec<N>::i vi;
    typedef typename vec<N>::dh vdh;
    vf vnf[K];
    std::memcpy(vnf, vnf_in, sizeof vnf);
    vdh acc[2 * K] = {};
    const haar_detector::stump * st = ev.d.stumps.data() + ev.d.stage_first_stump[size_t(si)];
    const int nt = ev.d.model.stages[size_t(si)].n_trees;
    for (int i = 0; i < nt; ++i, ++st) {
        int32_t li, ri;
        std::memcpy(&li, &st->left, 4);
        std::memcpy(&ri, &st->right, 4);
        for (int k = 0; k < K; ++k) {
            const vi lt = feature_n<N>(ev, st->feature, p + k * N, vnf[k]) < st->threshold;
            add_leaves_n<N>(acc + 2 * k, (lt & li) | (~lt & ri));
        }
    }
    stage_verdict_n<N, K>(acc, ev.d.stage_thresholds[size_t(si)], pass);
}

// The same for a cascade of trees: every node's comparison is computed for
// all lanes (features are pure: computing unvisited ones changes nothing),
// then masks flow from the root (children have larger indices than their
// parent, checked at load) so that each lane selects the leaf of its own
// path; leaves are added in the reference order and precision.
template <int N, int K>
__attribute__((always_inline)) inline void stage_trees_n(const window_eval & ev, int si, const uint32_t * p,
                                                         const float * vnf_in, uint8_t * pass) {
    typedef typename vec<N>::f vf;
    typedef typename vec<N>::i vi;
    typedef typename vec<N>::dh vdh;
    vf vnf[K];
    std::memcpy(vnf, vnf_in, sizeof vnf);
    vdh acc[2 * K] = {};
    const haar_detector & d = ev.d;
    const int t0 = d.stage_first_tree[size_t(si)];
    const int nt = d.model.stages[size_t(si)].n_trees;
    vi reach[k_max_batched_tree_nodes][K];
    for (int t = t0; t < t0 + nt; ++t) {
        const int nn = d.model.tree_nodes[size_t(t)];
        const tree_node * nodes = d.model.nodes.data() + d.tree_first_node[size_t(t)];
        const float * leaves = d.model.leaves.data() + d.tree_first_leaf[size_t(t)];
        for (int n = 0; n < nn; ++n) {
            for (int k = 0; k < K; ++k) {
                reach[n][k] = n == 0 ? ~vi{} : vi{};
            }
        }
        vi bits[K] = {};
        for (int n = 0; n < nn; ++n) {
            const int32_t left = nodes[n].left, right = nodes[n].right;
            int32_t lb = 0, rb = 0;
            if (left <= 0) {
                std::memcpy(&lb, &leaves[-left], 4);
            }
            if (right <= 0) {
                std::memcpy(&rb, &leaves[-right], 4);
            }
            for (int k = 0; k < K; ++k) {
                const vi lt = feature_n<N>(ev, nodes[n].feature, p + k * N, vnf[k]) < nodes[n].threshold;
                const vi to_left = reach[n][k] & lt, to_right = reach[n][k] & ~lt;
                if (left > 0) {
                    reach[left][k] |= to_left;
                } else {
                    bits[k] |= to_left & lb;
                }
                if (right > 0) {
                    reach[right][k] |= to_right;
                } else {
                    bits[k] |= to_right & rb;
                }
            }
        }
        for (int k = 0; k < K; ++k) {
            add_leaves_n<N>(acc + 2 * k, bits[k]);
        }
    }
    stage_verdict_n<N, K>(acc, d.stage_thresholds[size_t(si)], pass);
}

template <int N, int K>
__attribute__((always_inline)) inline void stage_any_n(const window_eval & ev, int si, const uint32_t * p,
                                                       const float * vnf, uint8_t * pass) {
    if (!ev.d.stumps.empty()) {
        stage_n<N, K>(ev, si, p, vnf, pass);
    } else {
        stage_trees_n<N, K>(ev, si, p, vnf, pass);
    }
}

typedef void (*stage_fn)(const window_eval &, int, const uint32_t *, const float *, uint8_t *);

// How a scan evaluates stages: `all` for stage 0 over every position (8
// windows a call: two 128-bit vectors share each feature's scalar set-up),
// `survivors` for the later stages, `lanes` windows a call. With 128-bit
// vectors, 4-window batches waste fewer lanes on windows already rejected:
// the WebAssembly build's detection took 6.4 ms instead of 6.6 (bench/README.md).
struct stage_path {
    stage_fn all;
    stage_fn survivors;
    int lanes;
};

// 128-bit vectors: SSE2 (any x86-64), NEON, WASM SIMD128.
void stage8_128(const window_eval & ev, int si, const uint32_t * p, const float * vnf, uint8_t * pass) {
    stage_any_n<4, 2>(ev, si, p, vnf, pass);
}
void stage4_128(const window_eval & ev, int si, const uint32_t * p, const float * vnf, uint8_t * pass) {
    stage_any_n<4, 1>(ev, si, p, vnf, pass);
}
constexpr stage_path k_path_128{stage8_128, stage4_128, 4};

#if defined(__x86_64__) && defined(__GNUC__)
#define FER_DETECT_AVX2 1
__attribute__((target("avx2"))) void stage8_avx2(const window_eval & ev, int si, const uint32_t * p,
                                                 const float * vnf, uint8_t * pass) {
    stage_any_n<8, 1>(ev, si, p, vnf, pass);
}
#endif

// Chosen once per process: AVX2 when the CPU has it.
stage_path pick_stage_path() {
#ifdef FER_DETECT_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) {
        return stage_path{stage8_avx2, stage8_avx2, 8};
    }
#endif
    return k_path_128;
}


// One row of window positions k = 0..n_pos-1 (window k at table column k of
// the current layout). Appends the k of every face window to out.
void scan_row_batched(const window_eval & ev, const stage_path & path, const uint32_t * prow, const uint32_t * qrow,
                      int n_pos, scan_scratch & s, std::vector<int> & out) {
    const int n_pad = (n_pos + k_max_lanes - 1) / k_max_lanes * k_max_lanes;
    s.vnf.resize(size_t(n_pad));
    s.state.resize(size_t(n_pad));
    float * vnf = s.vnf.data();
    uint8_t * state = s.state.data();  // 1: valid window / still active; 0: not
    for (int k = 0; k < n_pos; ++k) {
        state[k] = ev.variance(prow + k, qrow + k, vnf[k]) ? 1 : 0;
    }
    for (int k = n_pos; k < n_pad; ++k) {
        state[k] = 0;
        vnf[k] = 1.f;
    }
    // Stage 0 for every position (cheaper in lanes than deciding which are
    // needed), then OpenCV's rule: a window rejected by stage 0 makes the
    // scan skip the next position.
    uint8_t pass[k_max_lanes];
    bool skip = false;
    for (int k0 = 0; k0 < n_pad; k0 += k_max_lanes) {
        path.all(ev, 0, prow + k0, vnf + k0, pass);
        for (int l = 0; l < k_max_lanes; ++l) {
            const int k = k0 + l;
            if (skip) {
                state[k] = 0;
                skip = false;
            } else if (state[k]) {
                state[k] = pass[l];
                skip = !pass[l];
            }
        }
    }
    const int n_stages = int(ev.d.model.stages.size());
    for (int si = 1; si < n_stages; ++si) {
        int alive = 0;
        for (int k0 = 0; k0 < n_pad; k0 += path.lanes) {
            int n = 0;
            for (int l = 0; l < path.lanes; ++l) {
                n += state[k0 + l];
            }
            if (n == 0) {
                continue;
            }
            // Even a lone survivor is cheaper in lanes than alone (measured:
            // scalar fallback below 3 survivors made the scan 2.4x slower).
            path.survivors(ev, si, prow + k0, vnf + k0, pass);
            for (int l = 0; l < path.lanes; ++l) {
                state[k0 + l] &= pass[l];
            }
            for (int l = 0; l < path.lanes; ++l) {
                alive += state[k0 + l];
            }
        }
        if (alive == 0) {
            return;
        }
    }
    for (int k = 0; k < n_pos; ++k) {
        if (state[k]) {
            out.push_back(k);
        }
    }
}

// Rearrange every row of a table into the split layout (evens, then odds).
void split_rows(uint32_t * t, int n_cols, int n_rows, size_t stride, std::vector<uint32_t> & tmp) {
    tmp.resize(size_t(n_cols));
    const int half = (n_cols + 1) / 2;
    for (int y = 0; y < n_rows; ++y) {
        uint32_t * row = t + size_t(y) * stride;
        std::memcpy(tmp.data(), row, size_t(n_cols) * sizeof(uint32_t));
        for (int j = 0; j < half; ++j) {
            row[j] = tmp[size_t(2 * j)];
        }
        for (int j = 0; 2 * j + 1 < n_cols; ++j) {
            row[half + j] = tmp[size_t(2 * j + 1)];
        }
    }
}

}  // namespace

void prepare(haar_detector & d) {
    const float k_threshold_eps = 1e-5f;
    d.stage_thresholds.clear();
    d.stage_first_stump.clear();
    int32_t first = 0;
    for (const stage & s : d.model.stages) {
        d.stage_thresholds.push_back(s.threshold - k_threshold_eps);
        d.stage_first_stump.push_back(first);
        first += s.n_trees;
    }
    d.stage_first_tree = d.stage_first_stump;
    d.tree_first_node.clear();
    d.tree_first_leaf.clear();
    int32_t node = 0, leaf = 0;
    for (int32_t n : d.model.tree_nodes) {
        d.tree_first_node.push_back(node);
        d.tree_first_leaf.push_back(leaf);
        node += n;
        leaf += n + 1;
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

    // One table layout for all scales: the first (largest) level's width,
    // plus slack for the batched scan's loads past the last window.
    const int w0 = round_f(float(w) / scales[0]), h0 = round_f(float(h) / scales[0]);
    const size_t tstride = size_t(w0) + 1;
    const size_t table = tstride * (size_t(h0) + 1) + 64;
    s.sum.assign(c.has_tilted ? 2 * table : table, 0);
    s.sqsum.assign(table, 0);
    s.resized.resize(size_t(w0) * size_t(h0));
    const bool batched = o.evaluator != scan_options::path::reference && !c.has_tilted &&
                         c.max_tree_nodes <= k_max_batched_tree_nodes;
    static const stage_path best = pick_stage_path();
    const stage_path & stages = o.evaluator == scan_options::path::vector128 ? k_path_128 : best;

    const size_t n_features = c.features.size();
    s.offsets.resize(n_features * 12);
    s.weights.resize(n_features * 3);
    for (size_t f = 0; f < n_features; ++f) {
        for (int r = 0; r < k_max_rects; ++r) {
            s.weights[f * 3 + size_t(r)] = c.features[f].rect[r].weight;
        }
    }
    window_eval ev{d, s.offsets.data(), s.weights.data(), {0, 0, 0, 0}, double(c.win_w - 2) * double(c.win_h - 2)};
    layout current;
    bool have_offsets = false;
    std::vector<int> row_hits;

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
        layout lay;
        lay.split = batched && ystep == 2;
        lay.half = (sw + 2) / 2;
        if (lay.split) {
            split_rows(s.sum.data(), sw + 1, sh + 1, tstride, s.row_tmp);
            split_rows(s.sqsum.data(), sw + 1, sh + 1, tstride, s.row_tmp);
        }
        if (!have_offsets || lay.split != current.split || (lay.split && lay.half != current.half)) {
            for (size_t f = 0; f < n_features; ++f) {
                const haar_feature & ft = c.features[f];
                for (int r = 0; r < k_max_rects; ++r) {
                    rect_offsets(ft.rect[r], ft.tilted, int32_t(tstride), ft.tilted ? int32_t(table) : 0, lay,
                                 &s.offsets[f * 12 + size_t(r) * 4]);
                }
            }
            rect_offsets(haar_rect{1, 1, c.win_w - 2, c.win_h - 2, 0.f}, false, int32_t(tstride), 0, lay,
                         ev.norm_ofs);
            current = lay;
            have_offsets = true;
        }

        for (int y = 0; y < szw_h; y += ystep) {
            const uint32_t * prow = s.sum.data() + size_t(y) * tstride;
            const uint32_t * qrow = s.sqsum.data() + size_t(y) * tstride;
            const int ys = round_f(float(y) * sc);
            if (batched) {
                row_hits.clear();
                scan_row_batched(ev, stages, prow, qrow, (szw_w + ystep - 1) / ystep, s, row_hits);
                for (int k : row_hits) {
                    hits.push_back(rect{round_f(float(k * ystep) * sc), ys, win_w, win_h});
                }
                continue;
            }
            for (int x = 0; x < szw_w; x += ystep) {
                const int result = ev.run(prow + x, qrow + x);
                if (result > 0) {
                    hits.push_back(rect{round_f(float(x) * sc), ys, win_w, win_h});
                }
                if (result == 0) {
                    x += ystep;
                }
            }
        }
    }
}

}  // namespace fer::detect
