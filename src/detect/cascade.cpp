#include "cascade.h"

#include <cmath>
#include <cstdio>

namespace fer::detect {

namespace {

std::string fmt(const char * f, long a = 0, long b = 0, long c = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c);
    return buf;
}

bool rect_ok(const haar_rect & r, bool tilted, int win_w, int win_h) {
    if (r.w < 0 || r.h < 0 || r.x < 0 || r.y < 0) {
        return false;
    }
    if (!tilted) {
        return r.x + r.w <= win_w && r.y + r.h <= win_h;
    }
    // Tilted (45 degree) rectangle: corners (x,y), (x-h,y+h), (x+w,y+w), (x+w-h,y+w+h).
    return r.x - r.h >= 0 && r.x + r.w <= win_w && r.y + r.w + r.h <= win_h;
}

}  // namespace

bool validate(cascade & c, std::string & err) {
    if (c.win_w < 3 || c.win_h < 3 || c.win_w > k_max_window || c.win_h > k_max_window) {
        err = fmt("cascade window %ldx%ld out of range (3..255)", c.win_w, c.win_h);
        return false;
    }
    if (c.stages.empty()) {
        err = "cascade has no stages";
        return false;
    }
    if (c.features.empty()) {
        err = "cascade has no features";
        return false;
    }
    const size_t n_stages = c.stages.size();
    if (n_stages > size_t(k_max_count) || c.tree_nodes.size() > size_t(k_max_count) ||
        c.nodes.size() > size_t(k_max_count) || c.features.size() > size_t(k_max_count)) {
        err = "cascade is implausibly large";
        return false;
    }
    size_t n_trees = 0;
    for (size_t s = 0; s < n_stages; ++s) {
        if (c.stages[s].n_trees <= 0) {
            err = fmt("stage %ld has no weak classifier", long(s));
            return false;
        }
        if (!std::isfinite(c.stages[s].threshold)) {
            err = fmt("stage %ld threshold is not a finite number", long(s));
            return false;
        }
        n_trees += size_t(c.stages[s].n_trees);
    }
    if (n_trees != c.tree_nodes.size()) {
        err = fmt("stages count %ld weak classifiers, %ld are stored", long(n_trees), long(c.tree_nodes.size()));
        return false;
    }
    const long n_features = long(c.features.size());
    size_t node_ofs = 0, leaf_ofs = 0;
    c.max_tree_nodes = 0;
    for (size_t t = 0; t < n_trees; ++t) {
        const int32_t nn = c.tree_nodes[t];
        if (nn <= 0 || nn > k_max_tree_nodes) {
            err = fmt("weak classifier %ld has %ld nodes (1..256 allowed)", long(t), long(nn));
            return false;
        }
        if (node_ofs + size_t(nn) > c.nodes.size() || leaf_ofs + size_t(nn) + 1 > c.leaves.size()) {
            err = fmt("weak classifier %ld: nodes or leaves past the end of the cascade", long(t));
            return false;
        }
        for (int32_t i = 0; i < nn; ++i) {
            const tree_node & n = c.nodes[node_ofs + size_t(i)];
            if (n.feature < 0 || n.feature >= n_features) {
                err = fmt("weak classifier %ld: feature index %ld out of range (0..%ld)", long(t), long(n.feature),
                          n_features - 1);
                return false;
            }
            if (!std::isfinite(n.threshold)) {
                err = fmt("weak classifier %ld: threshold is not a finite number", long(t));
                return false;
            }
            for (int32_t child : {n.left, n.right}) {
                // Internal children must come later in the tree (no cycles); leaves must exist.
                if ((child > 0 && (child <= i || child >= nn)) || (child <= 0 && -child > nn)) {
                    err = fmt("weak classifier %ld: node %ld has a bad child index %ld", long(t), long(i),
                              long(child));
                    return false;
                }
            }
        }
        for (int32_t i = 0; i <= nn; ++i) {
            if (!std::isfinite(c.leaves[leaf_ofs + size_t(i)])) {
                err = fmt("weak classifier %ld: leaf value is not a finite number", long(t));
                return false;
            }
        }
        if (nn > c.max_tree_nodes) {
            c.max_tree_nodes = nn;
        }
        node_ofs += size_t(nn);
        leaf_ofs += size_t(nn) + 1;
    }
    if (node_ofs != c.nodes.size() || leaf_ofs != c.leaves.size()) {
        err = "cascade stores more nodes or leaves than its weak classifiers use";
        return false;
    }
    c.has_tilted = false;
    for (long f = 0; f < n_features; ++f) {
        haar_feature & ft = c.features[size_t(f)];
        if (ft.n_rects < 1 || ft.n_rects > k_max_rects) {
            err = fmt("feature %ld has %ld rectangles (1..3 allowed)", f, long(ft.n_rects));
            return false;
        }
        for (int r = 0; r < ft.n_rects; ++r) {
            if (!rect_ok(ft.rect[r], ft.tilted, c.win_w, c.win_h)) {
                err = fmt("feature %ld: rectangle %ld lies outside the %ld-pixel window", f, long(r), long(c.win_w));
                return false;
            }
            if (!std::isfinite(ft.rect[r].weight)) {
                err = fmt("feature %ld: rectangle weight is not a finite number", f);
                return false;
            }
        }
        for (int r = ft.n_rects; r < k_max_rects; ++r) {
            ft.rect[r] = haar_rect();
        }
        c.has_tilted = c.has_tilted || ft.tilted;
    }
    return true;
}

}  // namespace fer::detect
