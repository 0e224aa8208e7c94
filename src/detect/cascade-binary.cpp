// Compact binary cascade ("FERHAAR1"), what the web app fetches instead of the
// ~1 MB XML. All integers and floats little-endian, floats IEEE-754 binary32:
//
//   char[8]  magic "FERHAAR1"
//   i32      win_w, win_h, n_stages, n_trees, n_nodes, n_features
//   n_stages   x { f32 threshold; i32 n_trees }
//   n_trees    x { i32 n_nodes }                      (a tree has n_nodes+1 leaves)
//   n_nodes    x { i32 left; i32 right; i32 feature; f32 threshold }
//   n_nodes + n_trees x f32 leaf
//   n_features x { u8 tilted; u8 n_rects; 3 x { i16 x, y, w, h; f32 weight } }
//
// Values are the XML's, rounded to float exactly as OpenCV rounds them on
// load, so both forms detect identically. The reader bounds-checks every
// count against the bytes left before allocating, then validate() checks
// indices and rectangles as for XML.
#include "cascade.h"

#include <cstring>

namespace fer::detect {

namespace {

constexpr char k_magic[8] = {'F', 'E', 'R', 'H', 'A', 'A', 'R', '1'};

struct writer {
    std::vector<uint8_t> out;
    void u8(uint8_t v) { out.push_back(v); }
    void u32(uint32_t v) {
        for (int i = 0; i < 4; ++i) {
            out.push_back(uint8_t(v >> (8 * i)));
        }
    }
    void i32(int32_t v) { u32(uint32_t(v)); }
    void i16(int32_t v) {
        out.push_back(uint8_t(uint32_t(v) & 0xff));
        out.push_back(uint8_t((uint32_t(v) >> 8) & 0xff));
    }
    void f32(float v) {
        uint32_t u;
        std::memcpy(&u, &v, 4);
        u32(u);
    }
};

struct byte_reader {
    const uint8_t * p;
    size_t left;
    bool ok = true;
    bool need(size_t n) {
        if (!ok || left < n) {
            ok = false;
            return false;
        }
        return true;
    }
    uint32_t u32() {
        if (!need(4)) {
            return 0;
        }
        const uint32_t v = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
        p += 4;
        left -= 4;
        return v;
    }
    int32_t i32() { return int32_t(u32()); }
    int32_t i16() {
        if (!need(2)) {
            return 0;
        }
        const int32_t v = int16_t(uint16_t(p[0] | p[1] << 8));
        p += 2;
        left -= 2;
        return v;
    }
    uint8_t u8() {
        if (!need(1)) {
            return 0;
        }
        --left;
        return *p++;
    }
    float f32() {
        const uint32_t u = u32();
        float v;
        std::memcpy(&v, &u, 4);
        return v;
    }
};

constexpr size_t k_stage_bytes = 8, k_tree_bytes = 4, k_node_bytes = 16, k_leaf_bytes = 4,
                 k_feature_bytes = 2 + 3 * 12;

}  // namespace

bool is_binary(const void * data, size_t size) {
    return size >= sizeof k_magic && std::memcmp(data, k_magic, sizeof k_magic) == 0;
}

std::vector<uint8_t> write_binary(const cascade & c) {
    writer w;
    for (char ch : k_magic) {
        w.u8(uint8_t(ch));
    }
    w.i32(c.win_w);
    w.i32(c.win_h);
    w.i32(int32_t(c.stages.size()));
    w.i32(int32_t(c.tree_nodes.size()));
    w.i32(int32_t(c.nodes.size()));
    w.i32(int32_t(c.features.size()));
    for (const stage & s : c.stages) {
        w.f32(s.threshold);
        w.i32(s.n_trees);
    }
    for (int32_t n : c.tree_nodes) {
        w.i32(n);
    }
    for (const tree_node & n : c.nodes) {
        w.i32(n.left);
        w.i32(n.right);
        w.i32(n.feature);
        w.f32(n.threshold);
    }
    for (float v : c.leaves) {
        w.f32(v);
    }
    for (const haar_feature & f : c.features) {
        w.u8(f.tilted ? 1 : 0);
        w.u8(uint8_t(f.n_rects));
        for (const haar_rect & r : f.rect) {
            w.i16(r.x);
            w.i16(r.y);
            w.i16(r.w);
            w.i16(r.h);
            w.f32(r.weight);
        }
    }
    return w.out;
}

bool read_binary(const uint8_t * data, size_t size, cascade & c, std::string & err) {
    c = cascade();
    if (!is_binary(data, size)) {
        err = "not a FERHAAR1 binary cascade (bad magic)";
        return false;
    }
    byte_reader r{data + sizeof k_magic, size - sizeof k_magic};
    c.win_w = r.i32();
    c.win_h = r.i32();
    const int32_t n_stages = r.i32(), n_trees = r.i32(), n_nodes = r.i32(), n_features = r.i32();
    if (!r.ok) {
        err = "binary cascade truncated in its header";
        return false;
    }
    if (n_stages <= 0 || n_trees <= 0 || n_nodes <= 0 || n_features <= 0 || n_stages > k_max_count ||
        n_trees > k_max_count || n_nodes > k_max_count || n_features > k_max_count) {
        err = "binary cascade header has impossible counts";
        return false;
    }
    // Sizes are at most 2^22 * 38 bytes: no overflow in size_t.
    const size_t need = size_t(n_stages) * k_stage_bytes + size_t(n_trees) * k_tree_bytes +
                        size_t(n_nodes) * k_node_bytes + (size_t(n_nodes) + size_t(n_trees)) * k_leaf_bytes +
                        size_t(n_features) * k_feature_bytes;
    if (r.left != need) {
        err = r.left < need ? "binary cascade truncated: sections extend past the end of the data"
                            : "binary cascade has trailing bytes after its last section";
        return false;
    }
    c.stages.resize(size_t(n_stages));
    for (stage & s : c.stages) {
        s.threshold = r.f32();
        s.n_trees = r.i32();
    }
    c.tree_nodes.resize(size_t(n_trees));
    for (int32_t & n : c.tree_nodes) {
        n = r.i32();
    }
    c.nodes.resize(size_t(n_nodes));
    for (tree_node & n : c.nodes) {
        n.left = r.i32();
        n.right = r.i32();
        n.feature = r.i32();
        n.threshold = r.f32();
    }
    c.leaves.resize(size_t(n_nodes) + size_t(n_trees));
    for (float & v : c.leaves) {
        v = r.f32();
    }
    c.features.resize(size_t(n_features));
    for (haar_feature & f : c.features) {
        const uint8_t tilted = r.u8();
        if (tilted > 1) {
            err = "binary cascade: bad feature flag";
            return false;
        }
        f.tilted = tilted != 0;
        f.n_rects = r.u8();
        for (haar_rect & rc : f.rect) {
            rc.x = r.i16();
            rc.y = r.i16();
            rc.w = r.i16();
            rc.h = r.i16();
            rc.weight = r.f32();
        }
    }
    if (!r.ok) {
        err = "binary cascade truncated";
        return false;
    }
    return validate(c, err);
}

}  // namespace fer::detect
