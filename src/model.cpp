// The model reader (a bounds-checked FlatBuffers reader for the TFLite subset
// of schema/tflite-subset.fbs), graph validation, arena planning, the
// interpreter loop and the C API of include/fer.h.
//
// Model files are untrusted (the web app fetches them): every offset, size,
// index and shape is checked before use, with 64-bit arithmetic, and any
// problem rejects the file with a message naming the op or tensor. After load
// nothing is re-checked and inference allocates nothing.
#include "fer.h"
#include "kernels.h"
#include "top-class.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

using namespace fer_rt;

namespace {

// TFLite numbers (schema/tflite-subset.fbs).
enum : int { t_float32 = 0, t_int32 = 2, t_int8 = 9 };
enum : int {
    b_add = 0, b_average_pool_2d = 1, b_conv_2d = 3, b_depthwise_conv_2d = 4, b_dequantize = 6,
    b_fully_connected = 9, b_logistic = 14, b_max_pool_2d = 17, b_reshape = 22, b_softmax = 25, b_pad = 34,
    b_mean = 40, b_resize_nearest = 97, b_quantize = 114,
};
enum : int {
    o_conv = 1, o_depthwise = 2, o_pool = 5, o_fc = 8, o_softmax = 9, o_add = 11, o_reshape = 17, o_pad = 22,
    o_reducer = 27, o_resize_nearest = 74,
};

constexpr uint64_t k_max_file = 512ull << 20;       // bytes
constexpr uint64_t k_max_elements = 1ull << 28;      // per tensor
constexpr uint64_t k_max_arena = 256ull << 20;       // bytes of activations per context
constexpr uint32_t k_max_count = 1u << 16;           // tensors, ops, buffers, operator codes
constexpr int k_max_dim_param = 1 << 16;             // strides, dilations, filter sizes

struct op_info {
    int builtin;
    const char * name;
    int max_version;  // within the ceilings of common interpreters (interop-recipes.md)
};
const op_info k_ops[] = {
    {b_add, "ADD", 4},
    {b_average_pool_2d, "AVERAGE_POOL_2D", 3},
    {b_conv_2d, "CONV_2D", 6},
    {b_depthwise_conv_2d, "DEPTHWISE_CONV_2D", 6},
    {b_fully_connected, "FULLY_CONNECTED", 9},
    {b_logistic, "LOGISTIC", 3},
    {b_pad, "PAD", 4},
    {b_resize_nearest, "RESIZE_NEAREST_NEIGHBOR", 4},
    {b_max_pool_2d, "MAX_POOL_2D", 3},
    {b_reshape, "RESHAPE", 1},
    {b_softmax, "SOFTMAX", 3},
    {b_mean, "MEAN", 3},
    {b_quantize, "QUANTIZE", 3},
    {b_dequantize, "DEQUANTIZE", 5},
};

const op_info * find_op(int builtin) {
    for (const auto & o : k_ops) {
        if (o.builtin == builtin) {
            return &o;
        }
    }
    return nullptr;
}

const char * builtin_name(int builtin) {
    if (const op_info * o = find_op(builtin)) {
        return o->name;
    }
    switch (builtin) {
    case 2: return "CONCATENATION";
    case 18: return "MUL";
    case 19: return "RELU";
    case 43: return "SQUEEZE";
    case 39: return "TRANSPOSE";
    case 32: return "CUSTOM";
    default: return "builtin op";
    }
}

const char * type_name(int t) {
    static const char * const names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
                                         "INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64"};
    return t >= 0 && t < 13 ? names[t] : "unknown type";
}

struct rt_tensor {
    std::string name;
    int type = t_float32;
    int rank = 0;
    int dims[4] = {1, 1, 1, 1};
    int file_dims[4] = {1, 1, 1, 1};  // as written in the file (dims change when the input size is chosen at load)
    size_t n = 1;
    size_t bytes = 0;
    int elem = 4;           // bytes per element
    // quantisation (INT8 activations: one scale; weights: one per channel along qdim)
    std::vector<float> scales;
    std::vector<int64_t> zps;
    int qdim = 0;
    float scale = 0.0f;
    int32_t zp = 0;
    bool is_const = false;
    size_t const_off = 0;   // into fer_model::consts (bytes)
    int producer = -2;      // -2: none, -1: graph input, else op index
    int last_use = -1;
    bool pinned = false;    // kept alive to the end (outputs, CAM features)
    size_t arena_off = 0;
    bool in_arena = false;
};

enum op_kind { k_conv, k_dwconv, k_maxpool, k_avgpool, k_mean, k_add, k_fc, k_reshape, k_softmax, k_quantize,
               k_dequantize, k_logistic, k_pad, k_resize_nearest };

struct rt_op {
    int kind = k_conv;
    int builtin = 0;
    int in[3] = {-1, -1, -1};
    int out = -1;
    conv_params conv;
    pool_params pool;
    int act = act_none;
    float beta = 1.0f;
    unsigned axes_mask = 0;
    int fc_batch = 0, fc_in = 0, fc_out = 0;
    // int8
    bool q8 = false;
    int32_t in_zp = 0, out_zp = 0, act_min = -128, act_max = 127;
    std::vector<float> scale;  // requantisation scale per output channel
    add_params add;
    // optimised float kernels (chosen once at load)
    std::vector<float> packed, bias_padded;  // conv: HWIO weights for fer_conv2d_f32__avx2
    std::vector<int16_t> packed8;            // int8 conv: weights for fer_conv2d_s8__avx2
    std::vector<int8_t> packed_vnni;         // int8 conv: weights for fer_conv2d_s8__avxvnni (preferred)
    std::vector<int32_t> bias32_padded;
    std::vector<float> scale_padded;
    bool fc_avx2 = false;
    bool dw_avx2 = false;  // depthwise: fer_dwconv2d_{f32,s8}__avx2 (multiplier 1)
    float qscale = 0.0f;  // QUANTIZE/DEQUANTIZE/SOFTMAX: the float side's scale
    int32_t qzp = 0;
    int pad_before[4] = {0, 0, 0, 0}, pad_after[4] = {0, 0, 0, 0};  // PAD (rank-4 NHWC)
};

void default_log(int level, const char * msg, void *) {
    std::fprintf(stderr, "fer: %s%s\n", level == FER_LOG_ERROR ? "error: " : "", msg);
}

}  // namespace

struct fer_model {
    std::vector<rt_tensor> tensors;
    std::vector<rt_op> ops;
    std::vector<float> consts;  // constant tensor data, 16-byte aligned slots (float for alignment)
    int input = -1;
    std::vector<int> outputs;  // the graph's outputs, in file order
    bool classifier = true;    // metadata task is absent or "classifier": output 0 holds the class scores
    int probs = -1;
    bool probs_is_softmax = false;
    int cam_features = -1, cam_weights = -1;
    size_t arena_bytes = 0;
    size_t scratch_words = 0;  // per context: the largest optimised kernel's scratch (int32 words)
    std::vector<std::string> labels;
    std::vector<std::pair<std::string, std::string>> info;
    float pixel_mean = FER_PIXEL_MEAN, pixel_std = FER_PIXEL_STD;
    bool keep_all = false;  // no arena reuse (calibration, debugging)
    bool avx2 = false;      // AVX2/FMA kernels selected
    bool wasm128 = false;   // WebAssembly SIMD128 int8 convolution selected
    bool neon = false;      // AArch64 NEON int8 convolution selected
    bool vnni = false;      // AVX-VNNI int8 convolution selected (with avx2)

    const void * data(const rt_tensor & t) const {
        return reinterpret_cast<const uint8_t *>(consts.data()) + t.const_off;
    }
};

struct fer_context {
    const fer_model * model = nullptr;
    float * arena = nullptr;  // malloc'ed: a failed allocation returns NULL instead of aborting
    int32_t * scratch = nullptr;  // model->scratch_words, for the optimised kernels
    bool has_result = false;
    ~fer_context() {
        std::free(arena);
        std::free(scratch);
    }

    void * raw(int t) {
        const rt_tensor & x = model->tensors[static_cast<size_t>(t)];
        if (x.is_const) {
            return const_cast<void *>(model->data(x));
        }
        return reinterpret_cast<uint8_t *>(arena) + x.arena_off;
    }
    float * ptr(int t) { return static_cast<float *>(raw(t)); }
    const float * cptr(int t) const { return const_cast<fer_context *>(this)->ptr(t); }
    int8_t * p8(int t) { return static_cast<int8_t *>(raw(t)); }
    const int32_t * p32(int t) { return static_cast<const int32_t *>(raw(t)); }
};

namespace {

// ---------------------------------------------------------------------------
// Bounds-checked FlatBuffers access
// ---------------------------------------------------------------------------

struct fb_table {
    uint64_t pos = 0, vt = 0;
    uint32_t vt_size = 0, t_size = 0;
};

class loader {
public:
    loader(const uint8_t * d, uint64_t n) : d_(d), n_(n) {}
    std::string error;

    bool fail(const char * fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (error.empty()) {
            error = buf;
        }
        return false;
    }

    uint32_t u32(uint64_t at) const { uint32_t v; std::memcpy(&v, d_ + at, 4); return v; }
    uint16_t u16(uint64_t at) const { uint16_t v; std::memcpy(&v, d_ + at, 2); return v; }

    bool table_at(uint64_t pos, fb_table * t, const char * what) {
        if (pos % 4 || pos + 4 > n_) {
            return fail("%s: table offset %llu is outside the file (%llu bytes) or misaligned", what,
                        static_cast<unsigned long long>(pos), static_cast<unsigned long long>(n_));
        }
        int32_t soff;
        std::memcpy(&soff, d_ + pos, 4);
        const int64_t vt = static_cast<int64_t>(pos) - soff;
        if (vt < 0 || vt % 2 || static_cast<uint64_t>(vt) + 4 > n_) {
            return fail("%s: vtable offset is outside the file", what);
        }
        t->pos = pos;
        t->vt = static_cast<uint64_t>(vt);
        t->vt_size = u16(t->vt);
        t->t_size = u16(t->vt + 2);
        if (t->vt_size < 4 || t->vt_size % 2 || t->vt + t->vt_size > n_) {
            return fail("%s: vtable of %u bytes does not fit the file", what, t->vt_size);
        }
        if (t->t_size < 4 || pos + t->t_size > n_) {
            return fail("%s: table of %u bytes runs past the end of the file", what, t->t_size);
        }
        return true;
    }

    // Absolute position of field `id` of `size` bytes, 0 when absent.
    bool field(const fb_table & t, int id, uint32_t size, uint64_t * at, const char * what) {
        *at = 0;
        const uint32_t slot = 4 + 2 * static_cast<uint32_t>(id);
        if (slot + 2 > t.vt_size) {
            return true;
        }
        const uint16_t off = u16(t.vt + slot);
        if (off == 0) {
            return true;
        }
        if (off < 4 || off + size > t.t_size) {
            return fail("%s: field %d lies outside its table", what, id);
        }
        *at = t.pos + off;
        return true;
    }

    template <class T> bool scalar(const fb_table & t, int id, T def, T * out, const char * what) {
        uint64_t at;
        if (!field(t, id, sizeof(T), &at, what)) {
            return false;
        }
        *out = def;
        if (at) {
            std::memcpy(out, d_ + at, sizeof(T));
        }
        return true;
    }

    // Target of an offset field; 0 when absent.
    bool ref(const fb_table & t, int id, uint64_t * target, const char * what) {
        uint64_t at;
        if (!field(t, id, 4, &at, what)) {
            return false;
        }
        *target = 0;
        if (!at) {
            return true;
        }
        const uint32_t v = u32(at);
        if (v == 0 || at + v >= n_) {
            return fail("%s: offset of field %d points past the end of the file", what, id);
        }
        *target = at + v;
        return true;
    }

    bool vector_at(uint64_t target, uint32_t elem, uint64_t * data, uint32_t * count, const char * what) {
        if (target % 4 || target + 4 > n_) {
            return fail("%s: vector header outside the file or misaligned", what);
        }
        *count = u32(target);
        if (target + 4 + static_cast<uint64_t>(*count) * elem > n_) {
            return fail("%s: vector of %u elements runs past the end of the file", what, *count);
        }
        *data = target + 4;
        return true;
    }

    // A vector field; absent: count 0.
    bool vec(const fb_table & t, int id, uint32_t elem, uint64_t * data, uint32_t * count, const char * what) {
        uint64_t target;
        *data = 0;
        *count = 0;
        if (!ref(t, id, &target, what)) {
            return false;
        }
        return target ? vector_at(target, elem, data, count, what) : true;
    }

    bool str(const fb_table & t, int id, std::string * s, const char * what) {
        uint64_t data;
        uint32_t count;
        if (!vec(t, id, 1, &data, &count, what)) {
            return false;
        }
        if (data) {
            if (data + count >= n_ || d_[data + count] != 0) {
                return fail("%s: string is not terminated inside the file", what);
            }
            s->assign(reinterpret_cast<const char *>(d_ + data), count);
        }
        return true;
    }

    bool table_in_vector(uint64_t data, uint32_t i, fb_table * t, const char * what) {
        const uint64_t at = data + 4ull * i;
        const uint32_t v = u32(at);
        if (v == 0) {
            return fail("%s: null table offset", what);
        }
        return table_at(at + v, t, what);
    }

    bool i32_vec(const fb_table & t, int id, std::vector<int32_t> * out, const char * what) {
        uint64_t data;
        uint32_t count;
        if (!vec(t, id, 4, &data, &count, what)) {
            return false;
        }
        out->resize(count);
        if (count) {
            std::memcpy(out->data(), d_ + data, 4ull * count);
        }
        return true;
    }

    const uint8_t * bytes(uint64_t at) const { return d_ + at; }
    uint64_t size() const { return n_; }

private:
    const uint8_t * d_;
    uint64_t n_;
};

// ---------------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------------

struct buffer_ref {
    uint64_t data = 0;
    uint32_t size = 0;
};

class model_builder {
public:
    model_builder(const uint8_t * d, uint64_t n) : L(d, n) {}
    loader L;
    fer_model * m = nullptr;

    bool fail(const char * fmt, ...) {
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (L.error.empty()) {
            L.error = buf;
        }
        return false;
    }

    bool load();
    int input_h = 0, input_w = 0;  // fer_model_params.input_height/width (0: the file's)

private:
    bool resizing_ = false;  // the input size differs from the file's: activation shapes are derived, not checked
    std::vector<buffer_ref> buffers_;
    std::vector<int> codes_, versions_;
    std::string where_;  // "op 3 (CONV_2D 'conv1a')"

    std::string tname(int t) const { return m->tensors[static_cast<size_t>(t)].name; }
    std::string shape_str(int t) const {
        const rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        std::string s = "[";
        for (int i = 0; i < x.rank; ++i) {
            s += (i ? "," : "") + std::to_string(x.dims[i]);
        }
        return s + "]";
    }
    bool load_tensors(const fb_table & sg);
    bool load_ops(const fb_table & sg);
    bool check_op(rt_op & op, const fb_table & opt_table, bool has_opts, int opt_type,
                  const std::vector<int32_t> & ins, const std::vector<int32_t> & outs, int index);
    bool check_graph(const std::vector<int32_t> & inputs, const std::vector<int32_t> & outputs);
    bool choose_input_size(const std::vector<int32_t> & inputs);
    bool load_metadata(const fb_table & root);
    void find_cam();
    bool plan();

    int act_type_ = t_float32;  // FLOAT32 or INT8: the type of the op's activations

    bool need_type(int t, int type, int rank, const char * role) {
        const rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        if (x.type != type) {
            return fail("%s: %s '%s' is %s, expected %s", where_.c_str(), role, x.name.c_str(), type_name(x.type),
                        type_name(type));
        }
        if (rank >= 0 && x.rank != rank) {
            return fail("%s: %s '%s' has shape %s, expected rank %d", where_.c_str(), role, x.name.c_str(),
                        shape_str(t).c_str(), rank);
        }
        if (type == t_int8 && !x.is_const && x.scales.size() != 1) {
            return fail("%s: %s '%s' needs one (per-tensor) scale, has %zu", where_.c_str(), role, x.name.c_str(),
                        x.scales.size());
        }
        return true;
    }
    bool need_act(int t, int rank, const char * role) { return need_type(t, act_type_, rank, role); }
    bool need_weights(int t, int rank, const char * role) {
        return need_type(t, act_type_ == t_int8 ? t_int8 : t_float32, rank, role);
    }
    bool need_bias(int t) { return need_type(t, act_type_ == t_int8 ? t_int32 : t_float32, 1, "bias"); }
    bool same_quant(int a, int b) {
        const rt_tensor & x = m->tensors[static_cast<size_t>(a)];
        const rt_tensor & y = m->tensors[static_cast<size_t>(b)];
        if (x.type == t_int8 && (x.scale != y.scale || x.zp != y.zp)) {
            return fail("%s: '%s' and '%s' must share scale and zero point (%g, %d vs %g, %d)", where_.c_str(),
                        x.name.c_str(), y.name.c_str(), static_cast<double>(x.scale), x.zp,
                        static_cast<double>(y.scale), y.zp);
        }
        return true;
    }
    // Per-output-channel requantisation of an int8 conv/FC: in*w/out scales.
    bool set_requant(rt_op & op, int in, int w, int bias, int out, int n_out, int channel_dim) {
        const rt_tensor & x = m->tensors[static_cast<size_t>(in)];
        const rt_tensor & f = m->tensors[static_cast<size_t>(w)];
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        // int32 accumulators: |sum| <= length * 255 * 127 (+ bias) must not overflow
        const uint64_t length = f.n / static_cast<uint64_t>(n_out > 0 ? n_out : 1);
        if (length * 255u * 128u >= (1ull << 30)) {
            return fail("%s: %llu products per output could overflow the int32 accumulator", where_.c_str(),
                        static_cast<unsigned long long>(length));
        }
        const bool per_channel = f.scales.size() > 1;
        if (f.scales.empty() || (per_channel && (static_cast<int>(f.scales.size()) != n_out || f.qdim != channel_dim))) {
            return fail("%s: weights '%s' need 1 scale or %d along dimension %d (have %zu along %d)", where_.c_str(),
                        f.name.c_str(), n_out, channel_dim, f.scales.size(), f.qdim);
        }
        for (int64_t z : f.zps) {
            if (z != 0) {
                return fail("%s: weights '%s' must be symmetric (zero point 0)", where_.c_str(), f.name.c_str());
            }
        }
        if (bias >= 0) {
            const rt_tensor & b = m->tensors[static_cast<size_t>(bias)];
            const int32_t * bv = static_cast<const int32_t *>(m->data(b));
            for (size_t k = 0; k < b.n; ++k) {
                if (bv[k] <= -(1 << 30) || bv[k] >= (1 << 30)) {
                    return fail("%s: bias '%s' value %d could overflow the int32 accumulator", where_.c_str(),
                                b.name.c_str(), bv[k]);
                }
            }
        }
        op.q8 = true;
        op.in_zp = x.zp;
        op.out_zp = o.zp;
        op.scale.resize(static_cast<size_t>(n_out));
        for (int c = 0; c < n_out; ++c) {
            const double sw = f.scales[per_channel ? static_cast<size_t>(c) : 0];
            op.scale[static_cast<size_t>(c)] = x.scale * f.scales[per_channel ? static_cast<size_t>(c) : 0] / o.scale;
            if (!std::isfinite(op.scale[static_cast<size_t>(c)]) || !(op.scale[static_cast<size_t>(c)] > 0.0f)) {
                return fail("%s: requantisation scale of channel %d is not a positive float32 (scales %g, %g, %g)",
                            where_.c_str(), c, static_cast<double>(x.scale), sw, static_cast<double>(o.scale));
            }
            if (bias >= 0) {
                const rt_tensor & b = m->tensors[static_cast<size_t>(bias)];
                const double bs = b.scales.empty() ? 0.0 : b.scales[b.scales.size() > 1 ? static_cast<size_t>(c) : 0];
                const double want = static_cast<double>(x.scale) * sw;
                if (std::fabs(bs - want) > 1e-4 * want) {
                    return fail("%s: bias '%s' scale %g is not input scale x weight scale (%g)", where_.c_str(),
                                b.name.c_str(), bs, want);
                }
            }
        }
        return true;
    }
    void set_act_range(rt_op & op, int act, int out) {
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        auto q = [&](float f) {
            const double v = std::round(static_cast<double>(f) / static_cast<double>(o.scale)) + o.zp;
            return static_cast<int32_t>(v < -1e6 ? -1e6 : (v > 1e6 ? 1e6 : v));
        };
        op.act_min = -128;
        op.act_max = 127;
        if (act == act_relu || act == act_relu6) {
            op.act_min = std::max(-128, q(0.0f));
        }
        if (act == act_relu6) {
            op.act_max = std::min(127, q(6.0f));
        }
        if (act == act_relu_n1_to_1) {
            op.act_min = std::max(-128, q(-1.0f));
            op.act_max = std::min(127, q(1.0f));
        }
    }

    bool need_const(int t, const char * role) {
        if (!m->tensors[static_cast<size_t>(t)].is_const) {
            return fail("%s: %s '%s' must be a constant tensor (with a buffer)", where_.c_str(), role, tname(t).c_str());
        }
        return true;
    }
    // In resizing mode an activation takes the shape its producer computes.
    bool set_shape(int t, const int * dims, int rank) {
        rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        uint64_t n = 1;
        for (int k = 0; k < rank; ++k) {
            n *= static_cast<uint64_t>(dims[k] > 0 ? dims[k] : 0);
        }
        if (n == 0 || n > k_max_elements) {
            return fail("%s: output '%s' would have %llu elements at this input size", where_.c_str(), x.name.c_str(),
                        static_cast<unsigned long long>(n));
        }
        x.rank = rank;
        for (int k = 0; k < 4; ++k) {
            x.dims[k] = k < rank ? dims[k] : 1;
        }
        x.n = static_cast<size_t>(n);
        x.bytes = x.n * static_cast<size_t>(x.elem);
        return true;
    }
    bool fits_derived(int t) const { return resizing_ && !m->tensors[static_cast<size_t>(t)].is_const; }
    // Output `t` gets (resizing) or must have (otherwise) the shape of tensor `like`.
    bool same_shape_as(int t, int like) {
        const rt_tensor & x = m->tensors[static_cast<size_t>(like)];
        if (fits_derived(t)) {
            return set_shape(t, x.dims, x.rank);
        }
        const rt_tensor & o = m->tensors[static_cast<size_t>(t)];
        bool same = x.rank == o.rank;
        for (int k = 0; same && k < x.rank; ++k) {
            same = x.dims[k] == o.dims[k];
        }
        if (!same) {
            return fail("%s: output shape %s differs from input shape %s", where_.c_str(), shape_str(t).c_str(),
                        shape_str(like).c_str());
        }
        return true;
    }
    bool need_shape(int t, std::initializer_list<int64_t> want) {
        if (fits_derived(t)) {
            int d[4], r = 0;
            for (int64_t v : want) {
                d[r++] = static_cast<int>(v);
            }
            return set_shape(t, d, r);
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        bool ok = x.rank == static_cast<int>(want.size());
        int i = 0;
        std::string w = "[";
        for (int64_t v : want) {
            ok = ok && x.dims[i] == v;
            w += (i ? "," : "") + std::to_string(v);
            ++i;
        }
        if (!ok) {
            return fail("%s: output '%s' has shape %s, expected %s]", where_.c_str(), x.name.c_str(),
                        shape_str(t).c_str(), w.c_str());
        }
        return true;
    }
};

bool model_builder::load() {
    if (L.size() < 8) {
        return fail("not a TFLite model: %llu bytes is too short", static_cast<unsigned long long>(L.size()));
    }
    if (L.size() > k_max_file) {
        return fail("model file of %llu bytes exceeds the %llu-byte limit", static_cast<unsigned long long>(L.size()),
                    static_cast<unsigned long long>(k_max_file));
    }
    const uint8_t * id = L.bytes(4);
    if (std::memcmp(id, "TFL3", 4) != 0) {
        char shown[5];
        for (int i = 0; i < 4; ++i) {
            shown[i] = (id[i] >= 32 && id[i] < 127) ? static_cast<char>(id[i]) : '?';
        }
        shown[4] = 0;
        return fail("not a TFLite model: file identifier is '%s', expected 'TFL3'", shown);
    }
    fb_table root;
    if (!L.table_at(L.u32(0), &root, "model")) {
        return false;
    }
    uint32_t version;
    if (!L.scalar<uint32_t>(root, 0, 0, &version, "model")) {
        return false;
    }
    if (version != 3) {
        return fail("model: schema version %u is not supported (expected 3)", version);
    }
    // operator codes
    uint64_t data;
    uint32_t count;
    if (!L.vec(root, 1, 4, &data, &count, "model.operator_codes")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u operator codes is absurd", count);
    }
    for (uint32_t i = 0; i < count; ++i) {
        fb_table oc;
        int8_t dep;
        int32_t ver, code;
        std::string custom;
        if (!L.table_in_vector(data, i, &oc, "operator code") || !L.scalar<int8_t>(oc, 0, 0, &dep, "operator code") ||
            !L.str(oc, 1, &custom, "operator code") || !L.scalar<int32_t>(oc, 2, 1, &ver, "operator code") ||
            !L.scalar<int32_t>(oc, 3, 0, &code, "operator code")) {
            return false;
        }
        // TFLite takes the larger of the two fields (old files only set the byte).
        const int c = code > dep ? code : dep;
        if (c == 32 || !custom.empty()) {
            return fail("operator code %u: custom op '%s' is not supported", i, custom.c_str());
        }
        codes_.push_back(c);
        versions_.push_back(ver);
    }
    // buffers
    if (!L.vec(root, 4, 4, &data, &count, "model.buffers")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u buffers is absurd", count);
    }
    for (uint32_t i = 0; i < count; ++i) {
        fb_table b;
        buffer_ref r;
        uint64_t off = 0;
        if (!L.table_in_vector(data, i, &b, "buffer") || !L.vec(b, 0, 1, &r.data, &r.size, "buffer data") ||
            !L.scalar<uint64_t>(b, 1, 0, &off, "buffer")) {
            return fail("buffer %u: %s", i, L.error.c_str());
        }
        if (off > 1) {
            return fail("buffer %u: data outside the FlatBuffer (offset field) is not supported", i);
        }
        buffers_.push_back(r);
    }
    // the subgraph
    if (!L.vec(root, 2, 4, &data, &count, "model.subgraphs")) {
        return false;
    }
    if (count != 1) {
        return fail("model: %u subgraphs; exactly one is supported", count);
    }
    fb_table sg;
    if (!L.table_in_vector(data, 0, &sg, "subgraph 0")) {
        return false;
    }
    std::vector<int32_t> inputs, outputs;
    // The metadata first: whether the graph is a classifier decides what its input and outputs must be.
    if (!load_metadata(root) || !load_tensors(sg) || !L.i32_vec(sg, 1, &inputs, "subgraph inputs") ||
        !L.i32_vec(sg, 2, &outputs, "subgraph outputs") || !choose_input_size(inputs) || !load_ops(sg) ||
        !check_graph(inputs, outputs)) {
        return false;
    }
    find_cam();
    return plan();
}

// fer_model_params.input_height/width: the graph is instantiated for another
// input size. Every activation shape is then derived op by op (check_op) from
// the new input instead of being checked against the file.
bool model_builder::choose_input_size(const std::vector<int32_t> & inputs) {
    if (input_h == 0 && input_w == 0) {
        return true;
    }
    if (m->classifier) {
        return fail("input size %dx%d asked, but a classifier takes %dx%d faces", input_h, input_w, FER_INPUT_SIZE,
                    FER_INPUT_SIZE);
    }
    if (input_h < 1 || input_w < 1 || input_h > k_max_dim_param || input_w > k_max_dim_param) {
        return fail("input size %dx%d is out of range (1..%d)", input_h, input_w, k_max_dim_param);
    }
    if (inputs.size() != 1 || inputs[0] < 0 || inputs[0] >= static_cast<int32_t>(m->tensors.size())) {
        return fail("graph: exactly one valid input tensor is supported (%zu given)", inputs.size());
    }
    const rt_tensor & in = m->tensors[static_cast<size_t>(inputs[0])];
    if (in.rank != 4 || in.is_const) {
        return fail("graph: input '%s' %s is not an image tensor [1,H,W,C]; its size cannot be chosen",
                    in.name.c_str(), shape_str(inputs[0]).c_str());
    }
    if (in.dims[1] == input_h && in.dims[2] == input_w) {
        return true;
    }
    const int d[4] = {in.dims[0], input_h, input_w, in.dims[3]};
    where_ = "graph input";
    resizing_ = true;
    return set_shape(inputs[0], d, 4);
}

// Picks the optimised kernels once, and prepares what they need.
void select_kernels(fer_model * m, bool reference_only) {
    m->avx2 = !reference_only && fer_cpu_has_avx2_fma();
    m->vnni = m->avx2 && fer_cpu_has_avxvnni();
#ifdef __wasm_simd128__
    m->wasm128 = !reference_only;  // only the int8 convolution has a SIMD128 variant
#endif
#ifdef __aarch64__
    m->neon = !reference_only;  // NEON is base AArch64: nothing to check
#endif
    if (!m->avx2 && !m->wasm128 && !m->neon) {
        return;
    }
    for (rt_op & op : m->ops) {
        if (op.kind == k_dwconv && m->avx2 && op.conv.depth_multiplier == 1 &&
            op.conv.k_h * op.conv.k_w <= k_dw_max_taps) {
            op.dw_avx2 = true;
            continue;
        }
        if (op.q8 && op.kind == k_conv && (m->vnni || op.conv.in_c <= fer_conv2d_s8_avx2_max_in_c)) {
            // int8 convolution: byte quads for AVX-VNNI, else int16 pairs (AVX2, WASM SIMD128)
            const conv_params & p = op.conv;
            const int per_word = m->vnni ? 4 : 2;
            const size_t oc_pad = static_cast<size_t>(conv_padded_channels(p.out_c));
            const size_t n_packed = static_cast<size_t>(p.k_h) * static_cast<size_t>(p.k_w) *
                                    static_cast<size_t>((p.in_c + per_word - 1) / per_word) * oc_pad * per_word;
            op.bias32_padded.assign(oc_pad, 0);
            op.scale_padded.assign(oc_pad, 0.0f);
            const int32_t * b = op.in[2] >= 0
                ? static_cast<const int32_t *>(m->data(m->tensors[static_cast<size_t>(op.in[2])])) : nullptr;
            const int8_t * w = static_cast<const int8_t *>(m->data(m->tensors[static_cast<size_t>(op.in[1])]));
            if (m->vnni) {
                op.packed_vnni.assign(n_packed, 0);
                fer_conv2d_pack_s8_vnni(p, op.in_zp, w, b, op.scale.data(), op.packed_vnni.data(),
                                        op.bias32_padded.data(), op.scale_padded.data());
            } else {
                op.packed8.assign(n_packed, 0);
                fer_conv2d_pack_s8(p, w, b, op.scale.data(), op.packed8.data(), op.bias32_padded.data(),
                                   op.scale_padded.data());
            }
            // every optimised int8 convolution rewrites its input into the context's scratch
            m->scratch_words = std::max(m->scratch_words, fer_conv2d_s8_scratch(p, per_word));
            continue;
        }
        if (op.q8 || !m->avx2) {
            continue;
        }
        if (op.kind == k_conv) {
            const conv_params & p = op.conv;
            const size_t oc_pad = static_cast<size_t>(conv_padded_channels(p.out_c));
            op.packed.assign(static_cast<size_t>(p.k_h) * static_cast<size_t>(p.k_w) * static_cast<size_t>(p.in_c) * oc_pad,
                             0.0f);
            op.bias_padded.assign(oc_pad, 0.0f);
            const float * b = op.in[2] >= 0 ? static_cast<const float *>(m->data(m->tensors[static_cast<size_t>(op.in[2])]))
                                            : nullptr;
            fer_conv2d_pack_f32(p, static_cast<const float *>(m->data(m->tensors[static_cast<size_t>(op.in[1])])), b,
                                op.packed.data(), op.bias_padded.data());
        } else if (op.kind == k_fc) {
            op.fc_avx2 = true;
        }
    }
}

bool model_builder::load_tensors(const fb_table & sg) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(sg, 0, 4, &data, &count, "subgraph tensors")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u tensors is absurd", count);
    }
    // First pass: sizes of the constants, to reserve aligned storage once.
    m->tensors.resize(count);
    std::vector<uint32_t> buf_of(count, 0);
    uint64_t const_bytes = 0;
    for (uint32_t i = 0; i < count; ++i) {
        rt_tensor & t = m->tensors[i];
        fb_table tt;
        char what[64];
        std::snprintf(what, sizeof what, "tensor %u", i);
        int8_t type;
        uint32_t buffer;
        std::vector<int32_t> shape;
        uint8_t is_var;  // a bool in the schema; read as a byte (any non-zero value is true)
        uint64_t sparsity;
        if (!L.table_in_vector(data, i, &tt, what) || !L.i32_vec(tt, 0, &shape, what) ||
            !L.scalar<int8_t>(tt, 1, 0, &type, what) || !L.scalar<uint32_t>(tt, 2, 0, &buffer, what) ||
            !L.str(tt, 3, &t.name, what) || !L.scalar<uint8_t>(tt, 5, 0, &is_var, what) ||
            !L.ref(tt, 6, &sparsity, what)) {
            return false;
        }
        if (t.name.empty()) {
            t.name = what;
        }
        if (is_var || sparsity) {
            return fail("tensor %u '%s': variable or sparse tensors are not supported", i, t.name.c_str());
        }
        if (type != t_float32 && type != t_int32 && type != t_int8) {
            return fail("tensor %u '%s': type %s is not supported (FLOAT32, INT32 and INT8 only)", i, t.name.c_str(),
                        type_name(type));
        }
        t.type = type;
        t.elem = type == t_int8 ? 1 : 4;
        if (shape.size() > 4) {
            return fail("tensor %u '%s': rank %zu is not supported (at most 4)", i, t.name.c_str(), shape.size());
        }
        t.rank = static_cast<int>(shape.size());
        uint64_t n = 1;
        for (size_t k = 0; k < shape.size(); ++k) {
            if (shape[k] < 1) {
                return fail("tensor %u '%s': dimension %zu is %d (must be >= 1)", i, t.name.c_str(), k, shape[k]);
            }
            n *= static_cast<uint64_t>(shape[k]);
            if (n > k_max_elements) {
                return fail("tensor %u '%s': shape is absurd (more than %llu elements)", i, t.name.c_str(),
                            static_cast<unsigned long long>(k_max_elements));
            }
            t.dims[k] = shape[k];
            t.file_dims[k] = shape[k];
        }
        t.n = static_cast<size_t>(n);
        t.bytes = t.n * static_cast<size_t>(t.elem);
        uint64_t qpos;
        if (!L.ref(tt, 4, &qpos, what)) {
            return false;
        }
        if (qpos) {
            fb_table qt;
            uint64_t sd, zd;
            uint32_t sn, zn;
            uint8_t details;
            int32_t qdim;
            if (!L.table_at(qpos, &qt, what) || !L.vec(qt, 2, 4, &sd, &sn, what) || !L.vec(qt, 3, 8, &zd, &zn, what) ||
                !L.scalar<uint8_t>(qt, 4, 0, &details, what) || !L.scalar<int32_t>(qt, 6, 0, &qdim, what)) {
                return false;
            }
            if (details) {
                return fail("tensor %u '%s': custom quantisation is not supported", i, t.name.c_str());
            }
            if (sn && zn != sn) {
                return fail("tensor %u '%s': %u scales but %u zero points", i, t.name.c_str(), sn, zn);
            }
            if (sn > 1 && (qdim < 0 || qdim >= t.rank || static_cast<uint32_t>(t.dims[qdim]) != sn)) {
                return fail("tensor %u '%s': %u scales do not match dimension %d of %s", i, t.name.c_str(), sn, qdim,
                            shape_str(static_cast<int>(i)).c_str());
            }
            t.scales.resize(sn);
            t.zps.resize(sn);
            if (sn) {
                std::memcpy(t.scales.data(), L.bytes(sd), 4ull * sn);
                std::memcpy(t.zps.data(), L.bytes(zd), 8ull * sn);
            }
            for (uint32_t k = 0; k < sn; ++k) {
                if (!std::isfinite(t.scales[k]) || t.scales[k] <= 0.0f ||
                    (t.type == t_int8 && (t.zps[k] < -128 || t.zps[k] > 127)) ||
                    (t.type == t_int32 && t.zps[k] != 0)) {
                    return fail("tensor %u '%s': quantisation %u (scale %g, zero point %lld) is invalid", i,
                                t.name.c_str(), k, static_cast<double>(t.scales[k]),
                                static_cast<long long>(t.zps[k]));
                }
            }
            t.qdim = qdim;
            if (sn) {
                t.scale = t.scales[0];
                t.zp = static_cast<int32_t>(t.zps[0]);
            }
        }
        if (t.type == t_int8 && t.scales.empty()) {
            return fail("tensor %u '%s': INT8 without quantisation parameters", i, t.name.c_str());
        }
        if (buffer >= buffers_.size()) {
            return fail("tensor %u '%s': buffer index %u is out of range (%zu buffers)", i, t.name.c_str(), buffer,
                        buffers_.size());
        }
        const buffer_ref & b = buffers_[buffer];
        if (b.size) {
            if (b.size != t.bytes) {
                return fail("tensor %u '%s': buffer %u holds %u bytes, shape %s of %s needs %zu", i, t.name.c_str(),
                            buffer, b.size, shape_str(static_cast<int>(i)).c_str(), type_name(t.type), t.bytes);
            }
            t.is_const = true;
            t.const_off = static_cast<size_t>(const_bytes);
            const_bytes += (t.bytes + 15) / 16 * 16;
            buf_of[i] = buffer;
        }
        // quantisation parameters are ignored for float tensors (TFLite does the same)
    }
    // Tensors may share a buffer, so constant data can exceed the file; not by much in real models.
    if (const_bytes > 2 * L.size() + 16ull * count) {
        return fail("model: constant tensors need %llu bytes from a %llu-byte file (buffers shared too often)",
                    static_cast<unsigned long long>(const_bytes), static_cast<unsigned long long>(L.size()));
    }
    m->consts.assign(static_cast<size_t>(const_bytes / 4), 0.0f);
    for (uint32_t i = 0; i < count; ++i) {
        rt_tensor & t = m->tensors[i];
        if (t.is_const) {
            std::memcpy(reinterpret_cast<uint8_t *>(m->consts.data()) + t.const_off,
                        L.bytes(buffers_[buf_of[i]].data), t.bytes);
        }
    }
    return true;
}

bool model_builder::load_ops(const fb_table & sg) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(sg, 3, 4, &data, &count, "subgraph operators")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u operators is absurd", count);
    }
    if (count == 0) {
        return fail("model: the graph has no operators");
    }
    m->ops.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
        fb_table ot;
        char what[64];
        std::snprintf(what, sizeof what, "op %u", i);
        uint32_t opcode;
        std::vector<int32_t> ins, outs;
        uint8_t opt_type;
        uint64_t opt_pos;
        if (!L.table_in_vector(data, i, &ot, what) || !L.scalar<uint32_t>(ot, 0, 0, &opcode, what) ||
            !L.i32_vec(ot, 1, &ins, what) || !L.i32_vec(ot, 2, &outs, what) ||
            !L.scalar<uint8_t>(ot, 3, 0, &opt_type, what) || !L.ref(ot, 4, &opt_pos, what)) {
            return false;
        }
        if (opcode >= codes_.size()) {
            return fail("op %u: opcode index %u is out of range (%zu operator codes)", i, opcode, codes_.size());
        }
        const int builtin = codes_[opcode], version = versions_[opcode];
        const op_info * info = find_op(builtin);
        where_ = "op " + std::to_string(i) + " (" + builtin_name(builtin);
        if (!info) {
            return fail("%s %d): unsupported operator", where_.c_str(), builtin);
        }
        if (version < 1 || version > info->max_version) {
            return fail("%s): version %d is not supported (1..%d)", where_.c_str(), version, info->max_version);
        }
        for (int32_t t : ins) {
            if (t < -1 || t >= static_cast<int32_t>(m->tensors.size())) {
                return fail("%s): input tensor index %d is out of range", where_.c_str(), t);
            }
        }
        if (outs.size() != 1 || outs[0] < 0 || outs[0] >= static_cast<int32_t>(m->tensors.size())) {
            return fail("%s): needs exactly one valid output tensor", where_.c_str());
        }
        where_ += " '" + tname(outs[0]) + "'";
        where_ += ")";
        fb_table opt;
        if (opt_pos && !L.table_at(opt_pos, &opt, what)) {
            return false;
        }
        rt_op & op = m->ops[i];
        op.builtin = builtin;
        if (!check_op(op, opt, opt_pos != 0, opt_type, ins, outs, static_cast<int>(i))) {
            return false;
        }
    }
    return true;
}

bool model_builder::check_op(rt_op & op, const fb_table & ot, bool has_opts, int opt_type,
                             const std::vector<int32_t> & ins, const std::vector<int32_t> & outs, int index) {
    const char * w = where_.c_str();
    auto need_opts = [&](int type) {
        if (!has_opts || opt_type != type) {
            return fail("%s: builtin options missing or of the wrong type (%d, expected %d)", w, opt_type, type);
        }
        return true;
    };
    auto n_inputs = [&](size_t lo, size_t hi) {
        if (ins.size() < lo || ins.size() > hi) {
            return fail("%s: has %zu inputs, expected %zu..%zu", w, ins.size(), lo, hi);
        }
        for (size_t k = 0; k < lo; ++k) {
            if (ins[k] < 0) {
                return fail("%s: required input %zu is missing", w, k);
            }
        }
        return true;
    };
    auto i8 = [&](int id, int def, int * v) {
        int8_t x;
        if (!L.scalar<int8_t>(ot, id, static_cast<int8_t>(def), &x, w)) {
            return false;
        }
        *v = x;
        return true;
    };
    auto i32 = [&](int id, int def, int * v) {
        int32_t x;
        if (!L.scalar<int32_t>(ot, id, def, &x, w)) {
            return false;
        }
        *v = x;
        return true;
    };
    auto in_range = [&](const char * what, int v, int lo, int hi) {
        if (v < lo || v > hi) {
            return fail("%s: %s %d is out of range (%d..%d)", w, what, v, lo, hi);
        }
        return true;
    };
    auto geometry = [&](const char * what, int64_t in, int64_t k, int64_t s, int64_t d, bool same, int * out,
                        int * pad) {
        const int64_t eff = (k - 1) * d + 1;
        if (!same && in < eff) {
            return fail("%s: %s window of %lld does not fit the input of %lld (VALID)", w, what,
                        static_cast<long long>(eff), static_cast<long long>(in));
        }
        fer_window_geometry(static_cast<int>(in), static_cast<int>(k), static_cast<int>(s), static_cast<int>(d), same,
                            out, pad);
        return true;
    };
    op.out = outs[0];
    for (size_t k = 0; k < ins.size() && k < 3; ++k) {
        op.in[k] = ins[k];
    }
    const int out = outs[0];
    if (m->tensors[static_cast<size_t>(out)].is_const) {
        return fail("%s: output '%s' is a constant tensor", w, tname(out).c_str());
    }
    (void)index;
    act_type_ = t_float32;
    if (!ins.empty() && ins[0] >= 0 && m->tensors[static_cast<size_t>(ins[0])].type == t_int8) {
        act_type_ = t_int8;
    }
    switch (op.builtin) {
    case b_conv_2d:
    case b_depthwise_conv_2d: {
        const bool dw = op.builtin == b_depthwise_conv_2d;
        op.kind = dw ? k_dwconv : k_conv;
        if (!n_inputs(2, 3) || !need_opts(dw ? o_depthwise : o_conv) || !need_act(ins[0], 4, "input") ||
            !need_weights(ins[1], 4, "filter") || !need_const(ins[1], "filter") || !need_act(out, 4, "output")) {
            return false;
        }
        int padding, sw, sh, act, dw_mult = 0, dil_w, dil_h;
        const int base = dw ? 1 : 0;  // depthwise has depth_multiplier at id 3
        if (!i8(0, 0, &padding) || !i32(1, 0, &sw) || !i32(2, 0, &sh) || !i8(3 + base, 0, &act) ||
            !i32(4 + base, 1, &dil_w) || !i32(5 + base, 1, &dil_h) || (dw && !i32(3, 0, &dw_mult))) {
            return false;
        }
        if (!in_range("padding", padding, 0, 1) || !in_range("stride_w", sw, 1, k_max_dim_param) ||
            !in_range("stride_h", sh, 1, k_max_dim_param) || !in_range("fused activation", act, 0, 3) ||
            !in_range("dilation_w", dil_w, 1, k_max_dim_param) || !in_range("dilation_h", dil_h, 1, k_max_dim_param)) {
            return false;
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & f = m->tensors[static_cast<size_t>(ins[1])];
        conv_params & p = op.conv;
        p.n = x.dims[0];
        p.in_h = x.dims[1];
        p.in_w = x.dims[2];
        p.in_c = x.dims[3];
        p.k_h = f.dims[1];
        p.k_w = f.dims[2];
        p.stride_h = sh;
        p.stride_w = sw;
        p.dil_h = dil_h;
        p.dil_w = dil_w;
        p.act = act;
        if (dw) {
            p.out_c = f.dims[3];
            if (f.dims[0] != 1 || p.out_c % p.in_c != 0) {
                return fail("%s: filter '%s' %s does not fit %d input channels (expected [1,kh,kw,C*multiplier])", w,
                            f.name.c_str(), shape_str(ins[1]).c_str(), p.in_c);
            }
            p.depth_multiplier = p.out_c / p.in_c;
            if (dw_mult != 0 && dw_mult != p.depth_multiplier) {
                return fail("%s: depth_multiplier %d disagrees with the filter shape (%d)", w, dw_mult,
                            p.depth_multiplier);
            }
        } else {
            p.out_c = f.dims[0];
            if (f.dims[3] != p.in_c) {
                return fail("%s: filter '%s' %s expects %d input channels, input '%s' has %d", w, f.name.c_str(),
                            shape_str(ins[1]).c_str(), f.dims[3], x.name.c_str(), p.in_c);
            }
        }
        if (ins.size() == 3 && ins[2] >= 0) {
            if (!need_bias(ins[2]) || !need_const(ins[2], "bias")) {
                return false;
            }
            if (m->tensors[static_cast<size_t>(ins[2])].dims[0] != p.out_c) {
                return fail("%s: bias '%s' has %d values for %d output channels", w, tname(ins[2]).c_str(),
                            m->tensors[static_cast<size_t>(ins[2])].dims[0], p.out_c);
            }
        } else {
            op.in[2] = -1;
        }
        if (!geometry("vertical", p.in_h, p.k_h, sh, dil_h, padding == 0, &p.out_h, &p.pad_top) ||
            !geometry("horizontal", p.in_w, p.k_w, sw, dil_w, padding == 0, &p.out_w, &p.pad_left)) {
            return false;
        }
        if (act_type_ == t_int8) {
            if (!set_requant(op, ins[0], ins[1], op.in[2], out, p.out_c, dw ? 3 : 0)) {
                return false;
            }
            set_act_range(op, act, out);
        }
        return need_shape(out, {p.n, p.out_h, p.out_w, p.out_c});
    }
    case b_max_pool_2d:
    case b_average_pool_2d: {
        op.kind = op.builtin == b_max_pool_2d ? k_maxpool : k_avgpool;
        if (!n_inputs(1, 1) || !need_opts(o_pool) || !need_act(ins[0], 4, "input") || !need_act(out, 4, "output") ||
            !same_quant(ins[0], out)) {
            return false;
        }
        int padding, sw, sh, fw, fh, act;
        if (!i8(0, 0, &padding) || !i32(1, 0, &sw) || !i32(2, 0, &sh) || !i32(3, 0, &fw) || !i32(4, 0, &fh) ||
            !i8(5, 0, &act)) {
            return false;
        }
        if (!in_range("padding", padding, 0, 1) || !in_range("stride_w", sw, 1, k_max_dim_param) ||
            !in_range("stride_h", sh, 1, k_max_dim_param) || !in_range("filter_width", fw, 1, k_max_dim_param) ||
            !in_range("filter_height", fh, 1, k_max_dim_param) || !in_range("fused activation", act, 0, 3)) {
            return false;
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        pool_params & p = op.pool;
        p.n = x.dims[0];
        p.in_h = x.dims[1];
        p.in_w = x.dims[2];
        p.c = x.dims[3];
        p.f_h = fh;
        p.f_w = fw;
        p.stride_h = sh;
        p.stride_w = sw;
        p.act = act;
        if (!geometry("vertical", p.in_h, fh, sh, 1, padding == 0, &p.out_h, &p.pad_top) ||
            !geometry("horizontal", p.in_w, fw, sw, 1, padding == 0, &p.out_w, &p.pad_left)) {
            return false;
        }
        if (act_type_ == t_int8) {
            op.q8 = true;
            set_act_range(op, act, out);
        }
        return need_shape(out, {p.n, p.out_h, p.out_w, p.c});
    }
    case b_mean: {
        op.kind = k_mean;
        if (!n_inputs(2, 2) || !need_opts(o_reducer) || !need_act(ins[0], -1, "input") ||
            !need_act(out, -1, "output") || !need_const(ins[1], "axes")) {
            return false;
        }
        op.q8 = act_type_ == t_int8;
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & a = m->tensors[static_cast<size_t>(ins[1])];
        if (a.type != t_int32 || a.rank > 1) {
            return fail("%s: axes '%s' must be an INT32 vector", w, a.name.c_str());
        }
        const int32_t * axes = static_cast<const int32_t *>(m->data(a));
        unsigned mask = 0;
        for (size_t k = 0; k < a.n; ++k) {
            int ax = axes[k];
            if (ax < -x.rank || ax >= x.rank) {
                return fail("%s: axis %d is out of range for input rank %d", w, ax, x.rank);
            }
            mask |= 1u << (ax < 0 ? ax + x.rank : ax);
        }
        int keep;
        if (!i8(0, 0, &keep)) {
            return false;
        }
        op.axes_mask = mask;
        int want[4], r = 0;
        for (int k = 0; k < x.rank; ++k) {
            if (!(mask & (1u << k))) {
                want[r++] = x.dims[k];
            } else if (keep) {
                want[r++] = 1;
            }
        }
        if (fits_derived(out) && !set_shape(out, want, r)) {
            return false;
        }
        rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        bool ok = o.rank == r;
        for (int k = 0; ok && k < r; ++k) {
            ok = o.dims[k] == want[k];
        }
        if (!ok) {
            return fail("%s: output '%s' has shape %s, which is not the mean of %s over the axes", w, o.name.c_str(),
                        shape_str(out).c_str(), shape_str(ins[0]).c_str());
        }
        return true;
    }
    case b_add: {
        op.kind = k_add;
        if (!n_inputs(2, 2) || !need_opts(o_add) || !need_act(ins[0], -1, "input 0") ||
            !need_act(ins[1], -1, "input 1") || !need_act(out, -1, "output")) {
            return false;
        }
        int act;
        if (!i8(0, 0, &act) || !in_range("fused activation", act, 0, 3)) {
            return false;
        }
        op.act = act;
        if (act_type_ == t_int8) {
            const rt_tensor & a = m->tensors[static_cast<size_t>(ins[0])];
            const rt_tensor & b = m->tensors[static_cast<size_t>(ins[1])];
            const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
            op.q8 = true;
            fer_add_params_init(a.scale, b.scale, o.scale, &op.add);
            op.add.in1_zp = a.zp;
            op.add.in2_zp = b.zp;
            op.add.out_zp = o.zp;
            set_act_range(op, act, out);
            op.add.act_min = op.act_min;
            op.add.act_max = op.act_max;
        }
        if (fits_derived(out) && !same_shape_as(out, ins[0])) {
            return false;
        }
        const rt_tensor & a = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & b = m->tensors[static_cast<size_t>(ins[1])];
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        bool same = a.rank == b.rank && a.rank == o.rank;
        for (int k = 0; same && k < a.rank; ++k) {
            same = a.dims[k] == b.dims[k] && a.dims[k] == o.dims[k];
        }
        if (!same) {
            return fail("%s: shapes %s + %s -> %s differ (broadcasting is not supported)", w,
                        shape_str(ins[0]).c_str(), shape_str(ins[1]).c_str(), shape_str(out).c_str());
        }
        return true;
    }
    case b_fully_connected: {
        op.kind = k_fc;
        if (!n_inputs(2, 3) || !need_opts(o_fc) || !need_act(ins[0], -1, "input") ||
            !need_weights(ins[1], 2, "weights") || !need_const(ins[1], "weights") || !need_act(out, -1, "output")) {
            return false;
        }
        int act, fmt, keep;
        if (!i8(0, 0, &act) || !i8(1, 0, &fmt) || !i8(2, 0, &keep) || !in_range("fused activation", act, 0, 3)) {
            return false;
        }
        if (fmt != 0) {
            return fail("%s: shuffled weights format %d is not supported", w, fmt);
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & wt = m->tensors[static_cast<size_t>(ins[1])];
        op.act = act;
        op.fc_out = wt.dims[0];
        op.fc_in = wt.dims[1];
        if (x.n % static_cast<size_t>(op.fc_in) != 0 || (keep && x.dims[x.rank - 1] != op.fc_in)) {
            return fail("%s: input '%s' %s does not divide into rows of %d (weights '%s' %s)", w, x.name.c_str(),
                        shape_str(ins[0]).c_str(), op.fc_in, wt.name.c_str(), shape_str(ins[1]).c_str());
        }
        op.fc_batch = static_cast<int>(x.n / static_cast<size_t>(op.fc_in));
        if (ins.size() == 3 && ins[2] >= 0) {
            if (!need_bias(ins[2]) || !need_const(ins[2], "bias")) {
                return false;
            }
            if (m->tensors[static_cast<size_t>(ins[2])].dims[0] != op.fc_out) {
                return fail("%s: bias '%s' has %d values for %d outputs", w, tname(ins[2]).c_str(),
                            m->tensors[static_cast<size_t>(ins[2])].dims[0], op.fc_out);
            }
        } else {
            op.in[2] = -1;
        }
        if (fits_derived(out)) {
            const int d[2] = {op.fc_batch, op.fc_out};
            if (!set_shape(out, d, 2)) {
                return false;
            }
        }
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        if (o.n != static_cast<size_t>(op.fc_batch) * static_cast<size_t>(op.fc_out) ||
            o.dims[o.rank - 1] != op.fc_out) {
            return fail("%s: output '%s' has shape %s, expected %d rows of %d", w, o.name.c_str(),
                        shape_str(out).c_str(), op.fc_batch, op.fc_out);
        }
        if (act_type_ == t_int8) {
            if (!set_requant(op, ins[0], ins[1], op.in[2], out, op.fc_out, 0)) {
                return false;
            }
            set_act_range(op, act, out);
        }
        return true;
    }
    case b_reshape: {
        op.kind = k_reshape;
        if (!n_inputs(1, 2)) {
            return false;
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        if (resizing_ && x.n != o.n) {
            return fail("%s: RESHAPE to the fixed shape %s cannot follow a changed input size", w,
                        shape_str(out).c_str());
        }
        if (x.type != o.type || x.n != o.n) {
            return fail("%s: cannot reshape '%s' %s %s into %s %s", w, x.name.c_str(), type_name(x.type),
                        shape_str(ins[0]).c_str(), type_name(o.type), shape_str(out).c_str());
        }
        return same_quant(ins[0], out);
    }
    case b_softmax: {
        op.kind = k_softmax;
        if (!n_inputs(1, 1) || !need_opts(o_softmax) || !need_act(ins[0], -1, "input") ||
            !need_act(out, -1, "output")) {
            return false;
        }
        if (act_type_ == t_int8) {
            const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
            if (o.scale != 1.0f / 256.0f || o.zp != -128) {
                return fail("%s: int8 output '%s' must have scale 1/256 and zero point -128 (has %g, %d)", w,
                            o.name.c_str(), static_cast<double>(o.scale), o.zp);
            }
            op.q8 = true;
            op.qscale = m->tensors[static_cast<size_t>(ins[0])].scale;
        }
        float beta;
        if (!L.scalar<float>(ot, 0, 0.0f, &beta, w)) {
            return false;
        }
        if (!std::isfinite(beta) || beta <= 0.0f) {
            return fail("%s: beta %g is not a positive number", w, static_cast<double>(beta));
        }
        op.beta = beta;
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        if (x.rank < 1 || !same_shape_as(out, ins[0])) {
            return x.rank < 1 ? fail("%s: input '%s' is a scalar", w, x.name.c_str()) : false;
        }
        op.fc_in = x.dims[x.rank - 1];
        op.fc_batch = static_cast<int>(x.n / static_cast<size_t>(op.fc_in));
        return true;
    }
    case b_quantize:
    case b_dequantize: {
        const bool quant = op.builtin == b_quantize;
        op.kind = quant ? k_quantize : k_dequantize;
        if (!n_inputs(1, 1) || !need_type(ins[0], quant ? t_float32 : t_int8, -1, "input") ||
            !need_type(out, quant ? t_int8 : t_float32, -1, "output")) {
            return false;
        }
        if (!same_shape_as(out, ins[0])) {
            return false;
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        const rt_tensor & o = m->tensors[static_cast<size_t>(out)];
        const rt_tensor & q = quant ? o : x;
        if (q.scales.size() != 1) {
            return fail("%s: '%s' needs one (per-tensor) scale", w, q.name.c_str());
        }
        op.qscale = q.scale;
        op.qzp = q.zp;
        return true;
    }
    case b_logistic: {
        op.kind = k_logistic;
        if (!n_inputs(1, 1) || !need_type(ins[0], t_float32, -1, "input") || !need_type(out, t_float32, -1, "output")) {
            return false;  // int8 LOGISTIC: a model dequantizes first (the detector's scores are few)
        }
        return same_shape_as(out, ins[0]);
    }
    case b_pad: {
        op.kind = k_pad;
        if (!n_inputs(2, 2) || !need_act(ins[0], 4, "input") || !need_act(out, 4, "output") ||
            !need_const(ins[1], "paddings") || !same_quant(ins[0], out)) {
            return false;
        }
        const rt_tensor & pd = m->tensors[static_cast<size_t>(ins[1])];
        if (pd.type != t_int32 || pd.rank != 2 || pd.dims[0] != 4 || pd.dims[1] != 2) {
            return fail("%s: paddings '%s' must be INT32 [4,2], is %s %s", w, pd.name.c_str(), type_name(pd.type),
                        shape_str(ins[1]).c_str());
        }
        const int32_t * pv = static_cast<const int32_t *>(m->data(pd));
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        int d[4];
        for (int k = 0; k < 4; ++k) {
            if (!in_range("padding", pv[2 * k], 0, k_max_dim_param) ||
                !in_range("padding", pv[2 * k + 1], 0, k_max_dim_param)) {
                return false;
            }
            op.pad_before[k] = pv[2 * k];
            op.pad_after[k] = pv[2 * k + 1];
            d[k] = x.dims[k] + pv[2 * k] + pv[2 * k + 1];
        }
        op.q8 = act_type_ == t_int8;
        return need_shape(out, {d[0], d[1], d[2], d[3]});
    }
    case b_resize_nearest: {
        op.kind = k_resize_nearest;
        if (!n_inputs(2, 2) || !need_act(ins[0], 4, "input") || !need_act(out, 4, "output") ||
            !need_const(ins[1], "size") || !same_quant(ins[0], out)) {
            return false;
        }
        if (has_opts) {
            if (opt_type != o_resize_nearest) {
                return fail("%s: builtin options of the wrong type (%d, expected %d)", w, opt_type, o_resize_nearest);
            }
            int align, half;
            if (!i8(0, 0, &align) || !i8(1, 0, &half)) {
                return false;
            }
            if (align || half) {
                return fail("%s: align_corners and half_pixel_centers are not supported", w);
            }
        }
        const rt_tensor & sz = m->tensors[static_cast<size_t>(ins[1])];
        if (sz.type != t_int32 || sz.n != 2) {
            return fail("%s: size '%s' must be INT32 [2], is %s %s", w, sz.name.c_str(), type_name(sz.type),
                        shape_str(ins[1]).c_str());
        }
        const int32_t * sv = static_cast<const int32_t *>(m->data(sz));
        if (!in_range("new height", sv[0], 1, k_max_dim_param) || !in_range("new width", sv[1], 1, k_max_dim_param)) {
            return false;
        }
        const rt_tensor & x = m->tensors[static_cast<size_t>(ins[0])];
        int oh = sv[0], ow = sv[1];
        if (resizing_) {
            // The file's size is for the file's input: keep its (whole) scale factor.
            if (sv[0] % x.file_dims[1] != 0 || sv[1] % x.file_dims[2] != 0) {
                return fail("%s: size %dx%d is not a whole multiple of the file's input %dx%d, so it cannot follow a "
                            "changed input size", w, sv[0], sv[1], x.file_dims[1], x.file_dims[2]);
            }
            oh = x.dims[1] * (sv[0] / x.file_dims[1]);
            ow = x.dims[2] * (sv[1] / x.file_dims[2]);
        }
        op.q8 = act_type_ == t_int8;
        return need_shape(out, {x.dims[0], oh, ow, x.dims[3]});
    }
    default:
        return fail("%s: unsupported operator", w);
    }
}

bool model_builder::check_graph(const std::vector<int32_t> & inputs, const std::vector<int32_t> & outputs) {
    const int nt = static_cast<int>(m->tensors.size());
    if (inputs.size() != 1 || inputs[0] < 0 || inputs[0] >= nt) {
        return fail("graph: exactly one valid input tensor is supported (%zu given)", inputs.size());
    }
    m->input = inputs[0];
    rt_tensor & in = m->tensors[static_cast<size_t>(m->input)];
    if (!m->classifier) {
        if (in.is_const || in.type != t_float32 || in.rank != 4 || in.dims[0] != 1) {
            return fail("graph: input '%s' is %s %s, expected FLOAT32 [1,H,W,C]", in.name.c_str(), type_name(in.type),
                        shape_str(m->input).c_str());
        }
    } else if (in.is_const || in.type != t_float32 || in.rank != 4 || in.dims[0] != 1 || in.dims[1] != FER_INPUT_SIZE ||
        in.dims[2] != FER_INPUT_SIZE || in.dims[3] != 1) {
        return fail("graph: input '%s' is %s %s, expected FLOAT32 [1,%d,%d,1]", in.name.c_str(), type_name(in.type),
                    shape_str(m->input).c_str(), FER_INPUT_SIZE, FER_INPUT_SIZE);
    }
    in.producer = -1;
    for (size_t i = 0; i < m->ops.size(); ++i) {
        const rt_op & op = m->ops[i];
        for (int k = 0; k < 3; ++k) {
            const int t = op.in[k];
            if (t < 0) {
                continue;
            }
            rt_tensor & x = m->tensors[static_cast<size_t>(t)];
            if (!x.is_const && x.producer == -2) {
                return fail("op %zu (%s): input '%s' is neither a constant, the graph input nor an earlier op's output",
                            i, builtin_name(op.builtin), x.name.c_str());
            }
            x.last_use = static_cast<int>(i);
        }
        rt_tensor & o = m->tensors[static_cast<size_t>(op.out)];
        if (o.producer != -2) {
            return fail("op %zu (%s): output '%s' is already written by %s", i, builtin_name(op.builtin),
                        o.name.c_str(), o.producer == -1 ? "the graph input" : "an earlier op");
        }
        o.producer = static_cast<int>(i);
    }
    if (outputs.empty()) {
        return fail("graph: no outputs");
    }
    for (int32_t t : outputs) {
        if (t < 0 || t >= nt || m->tensors[static_cast<size_t>(t)].producer < 0) {
            return fail("graph: output %d is not produced by any op", t);
        }
        m->tensors[static_cast<size_t>(t)].pinned = true;
        if (!m->classifier && m->tensors[static_cast<size_t>(t)].type != t_float32) {
            return fail("graph: output '%s' is %s; outputs must be FLOAT32", tname(t).c_str(),
                        type_name(m->tensors[static_cast<size_t>(t)].type));
        }
        m->outputs.push_back(t);
    }
    if (!m->classifier) {
        return true;
    }
    m->probs = outputs[0];
    const rt_tensor & p = m->tensors[static_cast<size_t>(m->probs)];
    if (p.type != t_float32 || p.n != FER_N_CLASSES) {
        return fail("graph: output 0 '%s' is %s %s, expected FLOAT32 with %d class scores", p.name.c_str(),
                    type_name(p.type), shape_str(m->probs).c_str(), FER_N_CLASSES);
    }
    const rt_op * last = &m->ops[static_cast<size_t>(p.producer)];
    if (last->kind == k_dequantize && m->tensors[static_cast<size_t>(last->in[0])].producer >= 0) {
        last = &m->ops[static_cast<size_t>(m->tensors[static_cast<size_t>(last->in[0])].producer)];
    }
    m->probs_is_softmax = last->kind == k_softmax;
    return true;
}

bool model_builder::load_metadata(const fb_table & root) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(root, 6, 4, &data, &count, "model.metadata")) {
        return false;
    }
    for (uint32_t i = 0; i < count && i < k_max_count; ++i) {
        fb_table mt;
        std::string name;
        uint32_t buffer;
        if (!L.table_in_vector(data, i, &mt, "metadata") || !L.str(mt, 0, &name, "metadata") ||
            !L.scalar<uint32_t>(mt, 1, 0, &buffer, "metadata")) {
            return false;
        }
        if (buffer >= buffers_.size()) {
            return fail("metadata '%s': buffer index %u is out of range", name.c_str(), buffer);
        }
        const std::string text(reinterpret_cast<const char *>(L.bytes(buffers_[buffer].data)), buffers_[buffer].size);
        if (name == "fer.labels") {
            size_t start = 0;
            while (start < text.size()) {
                size_t end = text.find('\n', start);
                if (end == std::string::npos) {
                    end = text.size();
                }
                if (end > start) {
                    m->labels.push_back(text.substr(start, end - start));
                }
                start = end + 1;
            }
            if (m->labels.size() != FER_N_CLASSES) {
                return fail("metadata 'fer.labels': %zu labels, expected %d", m->labels.size(), FER_N_CLASSES);
            }
        } else if (name == "fer.info") {
            size_t start = 0;
            while (start < text.size()) {
                size_t end = text.find('\n', start);
                if (end == std::string::npos) {
                    end = text.size();
                }
                const std::string line = text.substr(start, end - start);
                const size_t eq = line.find('=');
                if (eq != std::string::npos) {
                    m->info.emplace_back(line.substr(0, eq), line.substr(eq + 1));
                }
                start = end + 1;
            }
        }
    }
    for (const auto & kv : m->info) {
        if (kv.first == "task") {
            m->classifier = kv.second == "classifier";
        }
    }
    if (!m->classifier && !m->labels.empty()) {
        return fail("metadata: a model whose task is not 'classifier' has no class labels ('fer.labels')");
    }
    for (const auto & kv : m->info) {
        char * end = nullptr;
        if (kv.first == "pixel_mean" || kv.first == "pixel_std") {
            const float v = std::strtof(kv.second.c_str(), &end);
            if (end == kv.second.c_str() || !std::isfinite(v) || (kv.first == "pixel_std" && v <= 0.0f)) {
                return fail("metadata 'fer.info': %s=%s is not a usable number", kv.first.c_str(), kv.second.c_str());
            }
            (kv.first == "pixel_mean" ? m->pixel_mean : m->pixel_std) = v;
        }
    }
    return true;
}

// Global-average-pool head: MEAN over H,W of a 4-D map F -> FULLY_CONNECTED
// [K, C] -> SOFTMAX -> output 0. Then CAM_k = W[k] . F[y][x].
void model_builder::find_cam() {
    if (!m->classifier) {
        return;
    }
    const rt_tensor & p = m->tensors[static_cast<size_t>(m->probs)];
    if (!m->probs_is_softmax) {
        return;
    }
    const rt_op * smp = &m->ops[static_cast<size_t>(p.producer)];
    if (smp->kind == k_dequantize) {
        smp = &m->ops[static_cast<size_t>(m->tensors[static_cast<size_t>(smp->in[0])].producer)];
    }
    const rt_op & sm = *smp;
    const rt_tensor & logits = m->tensors[static_cast<size_t>(sm.in[0])];
    if (logits.producer < 0 || m->ops[static_cast<size_t>(logits.producer)].kind != k_fc) {
        return;
    }
    const rt_op & fc = m->ops[static_cast<size_t>(logits.producer)];
    const rt_tensor & pooled = m->tensors[static_cast<size_t>(fc.in[0])];
    if (pooled.producer < 0 || fc.fc_batch != 1 || fc.fc_out != FER_N_CLASSES) {
        return;
    }
    const rt_op & mean = m->ops[static_cast<size_t>(pooled.producer)];
    if (mean.kind != k_mean || mean.axes_mask != 6u) {
        return;
    }
    rt_tensor & f = m->tensors[static_cast<size_t>(mean.in[0])];
    if (f.rank != 4 || f.dims[0] != 1 || f.dims[3] != fc.fc_in || f.is_const) {
        return;
    }
    f.pinned = true;
    m->cam_features = mean.in[0];
    m->cam_weights = fc.in[1];
}

// Greedy first-fit placement of every activation in one arena, by lifetime.
bool model_builder::plan() {
    struct block {
        size_t off, size;
        int tensor;
    };
    std::vector<block> live;
    size_t top = 0;
    auto place = [&](int t) {
        rt_tensor & x = m->tensors[static_cast<size_t>(t)];
        const size_t size = (x.bytes + 63) / 64 * 64;
        size_t off = 0;
        bool moved = true;
        while (moved) {
            moved = false;
            for (const block & b : live) {
                if (off < b.off + b.size && b.off < off + size) {
                    off = b.off + b.size;
                    moved = true;
                }
            }
        }
        live.push_back({off, size, t});
        x.arena_off = off;
        x.in_arena = true;
        top = off + size > top ? off + size : top;
    };
    auto release_after = [&](int op_index) {
        for (size_t i = 0; i < live.size();) {
            const rt_tensor & x = m->tensors[static_cast<size_t>(live[i].tensor)];
            if (!x.pinned && !m->keep_all && x.last_use <= op_index) {
                live.erase(live.begin() + static_cast<long>(i));
            } else {
                ++i;
            }
        }
    };
    m->tensors[static_cast<size_t>(m->input)].pinned = true;  // the caller's face stays readable
    place(m->input);
    for (size_t i = 0; i < m->ops.size(); ++i) {
        place(m->ops[i].out);
        release_after(static_cast<int>(i));
        if (top > k_max_arena) {
            return fail("graph: activations need more than %llu bytes", static_cast<unsigned long long>(k_max_arena));
        }
    }
    m->arena_bytes = top;
    return true;
}

fer_model * load_model(const uint8_t * data, uint64_t size, const fer_model_params & params) {
    fer_model * m = new (std::nothrow) fer_model;
    if (!m) {
        return nullptr;
    }
    model_builder b(data, size);
    b.m = m;
    m->keep_all = params.keep_all_tensors != 0;
    b.input_h = params.input_height;
    b.input_w = params.input_width;
    if (!b.load()) {
        fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
        const std::string msg = "cannot load model: " + b.L.error;
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        delete m;
        return nullptr;
    }
    select_kernels(m, params.reference_kernels != 0);
    return m;
}

void run_int8_op(fer_context * c, const rt_op & op) {
    const fer_model & m = *c->model;
    const rt_tensor & o = m.tensors[static_cast<size_t>(op.out)];
    quant_params q;
    q.in_zp = op.in_zp;
    q.out_zp = op.out_zp;
    q.act_min = op.act_min;
    q.act_max = op.act_max;
    q.scale = op.scale.data();
    switch (op.kind) {
    case k_quantize:
#ifdef FER_HAVE_AVX2
        if (m.avx2) {
            fer_quantize_s8__avx2(o.n, op.qscale, op.qzp, c->cptr(op.in[0]), c->p8(op.out));
            break;
        }
#endif
        fer_quantize_s8__ref(o.n, op.qscale, op.qzp, c->cptr(op.in[0]), c->p8(op.out));
        break;
    case k_dequantize: fer_dequantize_s8__ref(o.n, op.qscale, op.qzp, c->p8(op.in[0]), c->ptr(op.out)); break;
    case k_conv:
#ifdef FER_HAVE_AVX2
#ifdef FER_HAVE_AVXVNNI
        if (!op.packed_vnni.empty()) {
            fer_conv2d_s8__avxvnni(op.conv, q, c->p8(op.in[0]), op.packed_vnni.data(), op.bias32_padded.data(),
                                   op.scale_padded.data(), c->p8(op.out), c->scratch);
            break;
        }
#endif
        if (!op.packed8.empty()) {
            fer_conv2d_s8__avx2(op.conv, q, c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                                op.scale_padded.data(), c->p8(op.out), c->scratch);
            break;
        }
#elif defined(__aarch64__)
        if (!op.packed8.empty()) {
            fer_conv2d_s8__neon(op.conv, q, c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                                op.scale_padded.data(), c->p8(op.out), c->scratch);
            break;
        }
#elif defined(__wasm_simd128__)
        if (!op.packed8.empty()) {
            fer_conv2d_s8__wasm128(op.conv, q, c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                                   op.scale_padded.data(), c->p8(op.out), c->scratch);
            break;
        }
#endif
        {
            fer_conv2d_s8__ref(op.conv, q, c->p8(op.in[0]), c->p8(op.in[1]), op.in[2] >= 0 ? c->p32(op.in[2]) : nullptr,
                               c->p8(op.out));
        }
        break;
    case k_dwconv:
#ifdef FER_HAVE_AVX2
        if (op.dw_avx2) {
            fer_dwconv2d_s8__avx2(op.conv, q, c->p8(op.in[0]), c->p8(op.in[1]),
                                  op.in[2] >= 0 ? c->p32(op.in[2]) : nullptr, c->p8(op.out));
            break;
        }
#endif
        fer_dwconv2d_s8__ref(op.conv, q, c->p8(op.in[0]), c->p8(op.in[1]), op.in[2] >= 0 ? c->p32(op.in[2]) : nullptr,
                             c->p8(op.out));
        break;
    case k_fc:
        fer_fc_s8__ref(op.fc_batch, op.fc_in, op.fc_out, q, c->p8(op.in[0]), c->p8(op.in[1]),
                       op.in[2] >= 0 ? c->p32(op.in[2]) : nullptr, c->p8(op.out));
        break;
    case k_maxpool: fer_maxpool2d_s8__ref(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out)); break;
    case k_avgpool: fer_avgpool2d_s8__ref(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out)); break;
    case k_mean: {
        const rt_tensor & x = m.tensors[static_cast<size_t>(op.in[0])];
        fer_mean_s8__ref(x.dims, x.rank, op.axes_mask, x.zp, x.scale, o.zp, o.scale, c->p8(op.in[0]), c->p8(op.out));
        break;
    }
    case k_add:
#ifdef FER_HAVE_AVX2
        if (m.avx2) {
            fer_add_s8__avx2(o.n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
            break;
        }
#endif
        fer_add_s8__ref(o.n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
        break;
    case k_softmax: fer_softmax_s8__ref(op.fc_batch, op.fc_in, op.beta, op.qscale, c->p8(op.in[0]), c->p8(op.out)); break;
    case k_reshape: std::memmove(c->raw(op.out), c->raw(op.in[0]), o.bytes); break;
    default: break;
    }
}

// Ops that only move elements: one kernel for float32 and int8.
void run_data_movement_op(fer_context * c, const rt_op & op) {
    const fer_model & m = *c->model;
    const rt_tensor & x = m.tensors[static_cast<size_t>(op.in[0])];
    const rt_tensor & o = m.tensors[static_cast<size_t>(op.out)];
    const size_t elem = static_cast<size_t>(x.elem);
    if (op.kind == k_pad) {
        const float zero = 0.0f;
        const int8_t zp = static_cast<int8_t>(x.zp);  // an int8 pad fills with the value 0.0 (its zero point)
        fer_pad__ref(x.dims, op.pad_before, op.pad_after, elem, x.type == t_int8 ? static_cast<const void *>(&zp) : &zero,
                     c->raw(op.in[0]), c->raw(op.out));
    } else {
        fer_resize_nearest__ref(x.dims[0], x.dims[1], x.dims[2], x.dims[3], o.dims[1], o.dims[2], elem, c->raw(op.in[0]),
                                c->raw(op.out));
    }
}

void run_graph(fer_context * c) {
    const fer_model & m = *c->model;
    for (const rt_op & op : m.ops) {
        if (op.kind == k_pad || op.kind == k_resize_nearest) {
            run_data_movement_op(c, op);
            continue;
        }
        if (op.q8 || op.kind == k_quantize || op.kind == k_dequantize) {
            run_int8_op(c, op);
            continue;
        }
        float * out = c->ptr(op.out);
        const float * a = c->cptr(op.in[0]);
        switch (op.kind) {
        case k_conv:
#ifdef FER_HAVE_AVX2
            if (!op.packed.empty()) {
                fer_conv2d_f32__avx2(op.conv, a, op.packed.data(), op.bias_padded.data(), out);
                break;
            }
#endif
            {
                fer_conv2d_f32__ref(op.conv, a, c->cptr(op.in[1]), op.in[2] >= 0 ? c->cptr(op.in[2]) : nullptr, out);
            }
            break;
        case k_dwconv:
#ifdef FER_HAVE_AVX2
            if (op.dw_avx2) {
                fer_dwconv2d_f32__avx2(op.conv, a, c->cptr(op.in[1]), op.in[2] >= 0 ? c->cptr(op.in[2]) : nullptr, out);
                break;
            }
#endif
            fer_dwconv2d_f32__ref(op.conv, a, c->cptr(op.in[1]), op.in[2] >= 0 ? c->cptr(op.in[2]) : nullptr, out);
            break;
        case k_maxpool: fer_maxpool2d_f32__ref(op.pool, a, out); break;
        case k_avgpool: fer_avgpool2d_f32__ref(op.pool, a, out); break;
        case k_mean: {
            const rt_tensor & x = m.tensors[static_cast<size_t>(op.in[0])];
            fer_mean_f32__ref(x.dims, x.rank, op.axes_mask, a, out);
            break;
        }
        case k_add:
            fer_add_f32__ref(m.tensors[static_cast<size_t>(op.out)].n, a, c->cptr(op.in[1]), op.act, out);
            break;
        case k_fc:
#ifdef FER_HAVE_AVX2
            if (op.fc_avx2) {
                fer_fc_f32__avx2(op.fc_batch, op.fc_in, op.fc_out, a, c->cptr(op.in[1]),
                                 op.in[2] >= 0 ? c->cptr(op.in[2]) : nullptr, op.act, out);
                break;
            }
#endif
            fer_fc_f32__ref(op.fc_batch, op.fc_in, op.fc_out, a, c->cptr(op.in[1]),
                            op.in[2] >= 0 ? c->cptr(op.in[2]) : nullptr, op.act, out);
            break;
        case k_reshape:
            std::memmove(out, a, m.tensors[static_cast<size_t>(op.out)].bytes);
            break;
        case k_softmax: fer_softmax_f32__ref(op.fc_batch, op.fc_in, op.beta, a, out); break;
        case k_logistic: fer_logistic_f32__ref(m.tensors[static_cast<size_t>(op.out)].n, a, out); break;
        default: break;
        }
    }
}

int finish_result(fer_context * c, fer_result * r) {
    const fer_model & m = *c->model;
    if (!m.classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    const float * p = c->cptr(m.probs);
    if (m.probs_is_softmax) {
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            r->probabilities[k] = p[k];
        }
    } else {
        fer_softmax_f32__ref(1, FER_N_CLASSES, 1.0f, p, r->probabilities);
    }
    r->top_class = top_class(r->probabilities);
    r->confidence = r->probabilities[r->top_class];
    c->has_result = true;
    return FER_OK;
}

}  // namespace

// ---------------------------------------------------------------------------
// C API
// ---------------------------------------------------------------------------

extern "C" {

const char * fer_status_string(int status) {
    switch (status) {
    case FER_OK: return "ok";
    case FER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case FER_ERR_UNSUPPORTED: return "not supported by this model";
    case FER_ERR_STATE: return "no classification yet";
    default: return "unknown status";
    }
}

struct fer_model_params fer_model_default_params(void) {
    fer_model_params p;
    p.log_callback = nullptr;
    p.log_user_data = nullptr;
    p.keep_all_tensors = 0;
    p.reference_kernels = 0;
    p.input_height = 0;
    p.input_width = 0;
    return p;
}

fer_model * fer_model_load_from_buffer(const void * data, size_t size, struct fer_model_params params) {
    if (!data) {
        fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
        cb(FER_LOG_ERROR, "cannot load model: no data", params.log_user_data);
        return nullptr;
    }
    return load_model(static_cast<const uint8_t *>(data), size, params);
}

fer_model * fer_model_load_from_file(const char * path, struct fer_model_params params) {
    fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
    FILE * f = path ? std::fopen(path, "rb") : nullptr;
    if (!f) {
        const std::string msg = std::string("cannot open model file '") + (path ? path : "(null)") + "'";
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        return nullptr;
    }
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    size_t got;
    bool too_big = false;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (bytes.size() + got > k_max_file) {
            too_big = true;
            break;
        }
        bytes.insert(bytes.end(), chunk, chunk + got);
    }
    const bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (too_big || read_error) {
        const std::string msg = std::string("cannot load model file '") + path + "': " +
                                (too_big ? "larger than the 512 MiB limit" : "read error");
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        return nullptr;
    }
    fer_model * m = load_model(bytes.data(), bytes.size(), params);
    return m;
}

void fer_model_free(fer_model * model) { delete model; }

const char * fer_model_class_label(const fer_model * model, int cls) {
    if (!model || cls < 0 || cls >= FER_N_CLASSES) {
        return nullptr;
    }
    return model->labels.empty() ? fer_class_name(cls) : model->labels[static_cast<size_t>(cls)].c_str();
}

const char * fer_model_meta(const fer_model * model, const char * key) {
    if (!model || !key) {
        return nullptr;
    }
    for (const auto & kv : model->info) {
        if (kv.first == key) {
            return kv.second.c_str();
        }
    }
    return nullptr;
}

size_t fer_model_arena_size(const fer_model * model) {
    return model ? model->arena_bytes + model->scratch_words * sizeof(int32_t) : 0;
}

const char * fer_model_kernels(const fer_model * model) {
    if (model && model->vnni) {
        return "avx2+fma (float32 conv, depthwise and fully connected, int8 depthwise, add and quantize), "
               "avx-vnni (int8 conv), reference (others)";
    }
    if (model && model->avx2) {
        return "avx2+fma (float32 conv, depthwise and fully connected, int8 conv, depthwise, add and quantize), "
               "reference (others)";
    }
    if (model && model->neon) {
        return "neon (int8 conv), reference (others)";
    }
    return model && model->wasm128 ? "wasm simd128 (int8 conv), reference (others)" : "reference";
}

int fer_model_has_cam(const fer_model * model, int * h, int * w) {
    if (!model || model->cam_features < 0) {
        return 0;
    }
    const rt_tensor & f = model->tensors[static_cast<size_t>(model->cam_features)];
    if (h) {
        *h = f.dims[1];
    }
    if (w) {
        *w = f.dims[2];
    }
    return 1;
}

fer_context * fer_context_new(const fer_model * model) {
    if (!model) {
        return nullptr;
    }
    fer_context * c = new (std::nothrow) fer_context;
    if (!c) {
        return nullptr;
    }
    c->model = model;
    c->arena = static_cast<float *>(std::calloc(model->arena_bytes / 4 + 16, sizeof(float)));
    if (model->scratch_words) {
        c->scratch = static_cast<int32_t *>(std::calloc(model->scratch_words, sizeof(int32_t)));
    }
    if (!c->arena || (model->scratch_words && !c->scratch)) {
        delete c;
        return nullptr;
    }
    return c;
}

void fer_context_free(fer_context * ctx) { delete ctx; }

const fer_model * fer_context_model(const fer_context * ctx) { return ctx ? ctx->model : nullptr; }

int fer_classify_f32(fer_context * ctx, const float * input, struct fer_result * out) {
    if (!ctx || !input || !out) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (!ctx->model->classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    std::memcpy(ctx->ptr(ctx->model->input), input, sizeof(float) * FER_INPUT_SIZE * FER_INPUT_SIZE);
    run_graph(ctx);
    return finish_result(ctx, out);
}

int fer_classify(fer_context * ctx, const unsigned char * face, int stride, struct fer_result * out) {
    if (!ctx || !face || !out || stride < FER_INPUT_SIZE) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (!ctx->model->classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    const fer_model & m = *ctx->model;
    float * x = ctx->ptr(m.input);
    const float inv_std = 1.0f / m.pixel_std;
    for (int y = 0; y < FER_INPUT_SIZE; ++y) {
        for (int i = 0; i < FER_INPUT_SIZE; ++i) {
            x[y * FER_INPUT_SIZE + i] = (static_cast<float>(face[static_cast<size_t>(y) * static_cast<size_t>(stride) + i]) -
                                         m.pixel_mean) * inv_std;
        }
    }
    run_graph(ctx);
    return finish_result(ctx, out);
}

int fer_context_cam(const fer_context * ctx, int cls, float * out, size_t n) {
    if (!ctx || !out || cls < 0 || cls >= FER_N_CLASSES) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const fer_model & m = *ctx->model;
    if (m.cam_features < 0) {
        return FER_ERR_UNSUPPORTED;
    }
    if (!ctx->has_result) {
        return FER_ERR_STATE;
    }
    const rt_tensor & f = m.tensors[static_cast<size_t>(m.cam_features)];
    const size_t hw = static_cast<size_t>(f.dims[1]) * static_cast<size_t>(f.dims[2]);
    const size_t c = static_cast<size_t>(f.dims[3]);
    if (n < hw) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const rt_tensor & wt = m.tensors[static_cast<size_t>(m.cam_weights)];
    if (f.type == t_int8) {  // dequantised on the fly
        const int8_t * a = static_cast<const int8_t *>(const_cast<fer_context *>(ctx)->raw(m.cam_features));
        const int8_t * w = static_cast<const int8_t *>(m.data(wt)) + static_cast<size_t>(cls) * c;
        const float sw = wt.scales[wt.scales.size() > 1 ? static_cast<size_t>(cls) : 0];
        for (size_t i = 0; i < hw; ++i) {
            int32_t acc = 0;
            for (size_t k = 0; k < c; ++k) {
                acc += static_cast<int32_t>(w[k]) * (static_cast<int32_t>(a[i * c + k]) - f.zp);
            }
            out[i] = static_cast<float>(acc) * f.scale * sw;
        }
        return FER_OK;
    }
    const float * a = ctx->cptr(m.cam_features);
    const float * w = static_cast<const float *>(m.data(wt)) + static_cast<size_t>(cls) * c;
    for (size_t i = 0; i < hw; ++i) {
        float acc = 0.0f;
        for (size_t k = 0; k < c; ++k) {
            acc += w[k] * a[i * c + k];
        }
        out[i] = acc;
    }
    return FER_OK;
}

}  // extern "C"

extern "C" {

int fer_model_n_tensors(const fer_model * model) { return model ? static_cast<int>(model->tensors.size()) : 0; }

const void * fer_context_tensor(const fer_context * ctx, int index, size_t * n, int * type, const char ** name) {
    if (!ctx || index < 0 || index >= static_cast<int>(ctx->model->tensors.size())) {
        return nullptr;
    }
    const rt_tensor & t = ctx->model->tensors[static_cast<size_t>(index)];
    if (n) {
        *n = t.n;
    }
    if (type) {
        *type = t.type;
    }
    if (name) {
        *name = t.name.c_str();
    }
    if (!t.is_const && (!t.in_arena || !(t.pinned || ctx->model->keep_all))) {
        return nullptr;  // never computed, or its memory was reused
    }
    return const_cast<fer_context *>(ctx)->raw(index);
}

}  // extern "C"

extern "C" {

const char * fer_model_task(const fer_model * model) {
    if (!model) {
        return nullptr;
    }
    if (model->classifier) {
        return "classifier";
    }
    const char * t = fer_model_meta(model, "task");
    return t ? t : "unknown";
}

int fer_model_input_dims(const fer_model * model, int dims[4]) {
    if (!model || !dims) {
        return 0;
    }
    const rt_tensor & t = model->tensors[static_cast<size_t>(model->input)];
    for (int k = 0; k < 4; ++k) {
        dims[k] = t.dims[k];
    }
    return t.rank;
}

int fer_model_n_outputs(const fer_model * model) { return model ? static_cast<int>(model->outputs.size()) : 0; }

static const rt_tensor * output_tensor(const fer_model * model, int i) {
    if (!model || i < 0 || i >= static_cast<int>(model->outputs.size())) {
        return nullptr;
    }
    return &model->tensors[static_cast<size_t>(model->outputs[static_cast<size_t>(i)])];
}

const char * fer_model_output_name(const fer_model * model, int i) {
    const rt_tensor * t = output_tensor(model, i);
    return t ? t->name.c_str() : nullptr;
}

int fer_model_output_dims(const fer_model * model, int i, int dims[4]) {
    const rt_tensor * t = output_tensor(model, i);
    if (!t || !dims) {
        return 0;
    }
    for (int k = 0; k < 4; ++k) {
        dims[k] = t->dims[k];
    }
    return t->rank;
}

int fer_context_run(fer_context * ctx, const float * input, size_t n) {
    if (!ctx || !input) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const fer_model & m = *ctx->model;
    const rt_tensor & in = m.tensors[static_cast<size_t>(m.input)];
    if (n != in.n) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    std::memcpy(ctx->ptr(m.input), input, sizeof(float) * n);
    run_graph(ctx);
    ctx->has_result = m.classifier;  // a CAM needs a classification (fer_classify* fills the result)
    return FER_OK;
}

const float * fer_context_output(const fer_context * ctx, int i, size_t * n) {
    if (!ctx) {
        return nullptr;
    }
    const rt_tensor * t = output_tensor(ctx->model, i);
    if (!t || t->type != t_float32) {
        return nullptr;
    }
    if (n) {
        *n = t->n;
    }
    return ctx->cptr(ctx->model->outputs[static_cast<size_t>(i)]);
}

}  // extern "C"
