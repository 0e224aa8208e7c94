#include "export-tflite.h"

#include "checkpoint.h"
#include "error.h"

#include "fer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

namespace nn = torch::nn;

namespace fer {

// ---------------------------------------------------------------------------
// A minimal FlatBuffers writer. Objects form a tree; the tree is laid out
// front to back (a parent before its children, so every uoffset points
// forward as the format requires), vtables just before their tables.
// Alignment is relative to the start of the buffer.
// ---------------------------------------------------------------------------
namespace {

struct fb_obj;
using fb_ref = std::shared_ptr<fb_obj>;

struct fb_field {
    int id;
    int size;        // 1, 2, 4, 8 for scalars; 4 for a reference
    uint64_t bits;   // scalar value
    fb_ref child;    // reference (table, vector, string)
};

struct fb_obj {
    enum kind_t { table, bytes_vec, ref_vec, string } kind;
    std::vector<fb_field> fields;  // table
    std::vector<uint8_t> bytes;    // bytes_vec (raw little-endian elements), string
    uint32_t count = 0;            // bytes_vec element count
    size_t align = 4;              // bytes_vec element alignment
    std::vector<fb_ref> elems;     // ref_vec
};

struct fb_table_builder {
    fb_ref obj = std::make_shared<fb_obj>();
    fb_table_builder() { obj->kind = fb_obj::table; }
    template <class T> fb_table_builder & scalar(int id, T v) {
        uint64_t bits = 0;
        std::memcpy(&bits, &v, sizeof v);
        obj->fields.push_back({id, static_cast<int>(sizeof v), bits, nullptr});
        return *this;
    }
    fb_table_builder & ref(int id, fb_ref child) {
        if (child) {
            obj->fields.push_back({id, 4, 0, std::move(child)});
        }
        return *this;
    }
    fb_ref done() { return obj; }
};

template <class T> fb_ref fb_vector(const std::vector<T> & v, size_t align = sizeof(T)) {
    auto o = std::make_shared<fb_obj>();
    o->kind = fb_obj::bytes_vec;
    o->bytes.resize(v.size() * sizeof(T));
    if (!v.empty()) {
        std::memcpy(o->bytes.data(), v.data(), o->bytes.size());
    }
    o->count = static_cast<uint32_t>(v.size());
    o->align = std::max(align, sizeof(T));
    return o;
}

fb_ref fb_string(const std::string & s) {
    auto o = std::make_shared<fb_obj>();
    o->kind = fb_obj::string;
    o->bytes.assign(s.begin(), s.end());
    return o;
}

fb_ref fb_tables(std::vector<fb_ref> elems) {
    auto o = std::make_shared<fb_obj>();
    o->kind = fb_obj::ref_vec;
    o->elems = std::move(elems);
    return o;
}

class fb_writer {
public:
    std::string finish(const fb_ref & root, const char identifier[4]) {
        buf_.assign(8, 0);
        std::memcpy(buf_.data() + 4, identifier, 4);
        const size_t pos = place(root);
        put_u32(0, static_cast<uint32_t>(pos));
        return std::string(buf_.begin(), buf_.end());
    }

private:
    std::vector<uint8_t> buf_;

    void pad_to(size_t align) {
        while (buf_.size() % align) {
            buf_.push_back(0);
        }
    }
    void put_u32(size_t at, uint32_t v) { std::memcpy(buf_.data() + at, &v, 4); }
    void append(const void * p, size_t n) {
        const auto * b = static_cast<const uint8_t *>(p);
        buf_.insert(buf_.end(), b, b + n);
    }
    void append_u32(uint32_t v) { append(&v, 4); }
    void patch_ref(size_t slot, size_t target) { put_u32(slot, static_cast<uint32_t>(target - slot)); }

    size_t place(const fb_ref & o) {
        switch (o->kind) {
        case fb_obj::string: {
            pad_to(4);
            const size_t pos = buf_.size();
            append_u32(static_cast<uint32_t>(o->bytes.size()));
            append(o->bytes.data(), o->bytes.size());
            buf_.push_back(0);
            return pos;
        }
        case fb_obj::bytes_vec: {
            const size_t a = std::max<size_t>(4, o->align);
            while ((buf_.size() + 4) % a) {
                buf_.push_back(0);
            }
            const size_t pos = buf_.size();
            append_u32(o->count);
            append(o->bytes.data(), o->bytes.size());
            return pos;
        }
        case fb_obj::ref_vec: {
            pad_to(4);
            const size_t pos = buf_.size();
            append_u32(static_cast<uint32_t>(o->elems.size()));
            const size_t slots = buf_.size();
            buf_.resize(buf_.size() + 4 * o->elems.size(), 0);
            for (size_t i = 0; i < o->elems.size(); ++i) {
                patch_ref(slots + 4 * i, place(o->elems[i]));
            }
            return pos;
        }
        case fb_obj::table:
            break;
        }
        // Table: lay the fields out largest first after the 4-byte soffset.
        std::vector<const fb_field *> order;
        int max_id = -1;
        size_t max_align = 4;
        for (const auto & f : o->fields) {
            order.push_back(&f);
            max_id = std::max(max_id, f.id);
            max_align = std::max(max_align, static_cast<size_t>(f.size));
        }
        std::stable_sort(order.begin(), order.end(),
                         [](const fb_field * a, const fb_field * b) { return a->size > b->size; });
        std::vector<uint16_t> vt(static_cast<size_t>(max_id + 1), 0);
        std::vector<size_t> field_off(o->fields.size());
        size_t off = 4;
        for (const fb_field * f : order) {
            off = (off + static_cast<size_t>(f->size) - 1) / static_cast<size_t>(f->size) * static_cast<size_t>(f->size);
            vt[static_cast<size_t>(f->id)] = static_cast<uint16_t>(off);
            field_off[static_cast<size_t>(f - o->fields.data())] = off;
            off += static_cast<size_t>(f->size);
        }
        const size_t table_size = off;
        // vtable
        pad_to(2);
        const size_t vt_pos = buf_.size();
        const uint16_t vt_bytes = static_cast<uint16_t>(4 + 2 * vt.size());
        const uint16_t tsize = static_cast<uint16_t>(table_size);
        append(&vt_bytes, 2);
        append(&tsize, 2);
        for (uint16_t v : vt) {
            append(&v, 2);
        }
        pad_to(max_align);
        const size_t pos = buf_.size();
        const int32_t soff = static_cast<int32_t>(pos - vt_pos);
        buf_.resize(pos + table_size, 0);
        std::memcpy(buf_.data() + pos, &soff, 4);
        for (size_t i = 0; i < o->fields.size(); ++i) {
            const fb_field & f = o->fields[i];
            if (!f.child) {
                std::memcpy(buf_.data() + pos + field_off[i], &f.bits, static_cast<size_t>(f.size));
            }
        }
        for (size_t i = 0; i < o->fields.size(); ++i) {
            const fb_field & f = o->fields[i];
            if (f.child) {
                const size_t slot = pos + field_off[i];
                patch_ref(slot, place(f.child));
            }
        }
        return pos;
    }
};

}  // namespace

// ---------------------------------------------------------------------------
// TFLite graph -> FlatBuffer
// ---------------------------------------------------------------------------

namespace {

tfl_field f_i8(int id, int v) { tfl_field f; f.id = id; f.width = 1; f.ivalue = v; return f; }
tfl_field f_i32(int id, int v) { tfl_field f; f.id = id; f.width = 4; f.ivalue = v; return f; }
tfl_field f_f32(int id, float v) { tfl_field f; f.id = id; f.width = 4; f.is_float = true; f.fvalue = v; return f; }
tfl_field f_ivec(int id, std::vector<int32_t> v) { tfl_field f; f.id = id; f.width = 0; f.ivec = std::move(v); return f; }

// BuiltinOptions union members: src/tflite/tflite-numbers.h (shared with the runtime's reader).

}  // namespace

tfl_op tfl_conv(int32_t in, int32_t w, int32_t b, int32_t out, int padding, int stride, int act) {
    tfl_op op;
    op.builtin = tfl_conv_2d;
    op.inputs = {in, w, b};
    op.outputs = {out};
    op.options_type = tfl_opt_conv_2d;
    op.options = {f_i8(0, padding), f_i32(1, stride), f_i32(2, stride), f_i8(3, act), f_i32(4, 1), f_i32(5, 1)};
    return op;
}

tfl_op tfl_depthwise(int32_t in, int32_t w, int32_t b, int32_t out, int padding, int stride, int multiplier, int act) {
    tfl_op op;
    op.builtin = tfl_depthwise_conv_2d;
    op.inputs = {in, w, b};
    op.outputs = {out};
    op.options_type = tfl_opt_depthwise_conv_2d;
    op.options = {f_i8(0, padding), f_i32(1, stride), f_i32(2, stride), f_i32(3, multiplier), f_i8(4, act),
                  f_i32(5, 1), f_i32(6, 1)};
    return op;
}

tfl_op tfl_pool(int builtin, int32_t in, int32_t out, int padding, int filter, int stride) {
    tfl_op op;
    op.builtin = builtin;
    op.inputs = {in};
    op.outputs = {out};
    op.options_type = tfl_opt_pool_2d;
    op.options = {f_i8(0, padding), f_i32(1, stride), f_i32(2, stride), f_i32(3, filter), f_i32(4, filter),
                  f_i8(5, tfl_act_none)};
    return op;
}

tfl_op tfl_fc(int32_t in, int32_t w, int32_t b, int32_t out, int act) {
    tfl_op op;
    op.builtin = tfl_fully_connected;
    op.inputs = {in, w, b};
    op.outputs = {out};
    op.options_type = tfl_opt_fully_connected;
    op.options = {f_i8(0, act), f_i8(1, 0), f_i8(2, 0)};
    return op;
}

tfl_op tfl_mean_op(int32_t in, int32_t axes, int32_t out, bool keep_dims) {
    tfl_op op;
    op.builtin = tfl_mean;
    op.inputs = {in, axes};
    op.outputs = {out};
    op.options_type = tfl_opt_reducer;
    op.options = {f_i8(0, keep_dims ? 1 : 0)};
    return op;
}

tfl_op tfl_add_op(int32_t a, int32_t b, int32_t out, int act) {
    tfl_op op;
    op.builtin = tfl_add;
    op.inputs = {a, b};
    op.outputs = {out};
    op.options_type = tfl_opt_add;
    op.options = {f_i8(0, act)};
    return op;
}

tfl_op tfl_reshape_op(int32_t in, int32_t shape, int32_t out, const std::vector<int32_t> & new_shape) {
    tfl_op op;
    op.builtin = tfl_reshape;
    op.inputs = {in, shape};
    op.outputs = {out};
    op.options_type = tfl_opt_reshape;
    op.options = {f_ivec(0, new_shape)};
    return op;
}

tfl_op tfl_softmax_op(int32_t in, int32_t out, float beta) {
    tfl_op op;
    op.builtin = tfl_softmax;
    op.inputs = {in};
    op.outputs = {out};
    op.options_type = tfl_opt_softmax;
    op.options = {f_f32(0, beta)};
    return op;
}

tfl_op tfl_logistic_op(int32_t in, int32_t out) {
    tfl_op op;
    op.builtin = tfl_logistic;
    op.inputs = {in};
    op.outputs = {out};
    return op;  // LOGISTIC has no options table
}

tfl_op tfl_pad_op(int32_t in, int32_t paddings, int32_t out) {
    tfl_op op;
    op.builtin = tfl_pad;
    op.inputs = {in, paddings};
    op.outputs = {out};
    op.options_type = tfl_opt_pad;  // an empty PadOptions table, as TFLite's converter writes
    return op;
}

tfl_op tfl_resize_nearest_op(int32_t in, int32_t size, int32_t out) {
    tfl_op op;
    op.builtin = tfl_resize_nearest_neighbor;
    op.inputs = {in, size};
    op.outputs = {out};
    op.options_type = tfl_opt_resize_nearest_neighbor;
    op.options = {f_i8(0, 0), f_i8(1, 0)};  // align_corners, half_pixel_centers
    return op;
}

tfl_tensor tfl_const_f32(const std::string & name, std::vector<int32_t> shape, const std::vector<float> & v) {
    tfl_tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = tfl_float32;
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return t;
}

tfl_tensor tfl_const_i32(const std::string & name, std::vector<int32_t> shape, const std::vector<int32_t> & v) {
    tfl_tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = tfl_int32;
    t.data.resize(v.size() * 4);
    std::memcpy(t.data.data(), v.data(), t.data.size());
    return t;
}

tfl_tensor tfl_activation_tensor(const std::string & name, std::vector<int32_t> shape, int type) {
    tfl_tensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.type = type;
    return t;
}

std::string tflite_serialize(const tfl_model & m) {
    // Buffers: 0 is the empty sentinel, then one per constant tensor, then metadata.
    std::vector<fb_ref> buffers;
    buffers.push_back(fb_table_builder().done());
    std::vector<fb_ref> tensors;
    std::vector<uint32_t> buffer_of;
    for (const auto & t : m.tensors) {
        uint32_t buffer = 0;
        if (t.shared_buffer_of >= 0 && static_cast<size_t>(t.shared_buffer_of) < buffer_of.size()) {
            buffer = buffer_of[static_cast<size_t>(t.shared_buffer_of)];
        } else if (!t.data.empty()) {
            buffer = static_cast<uint32_t>(buffers.size());
            buffers.push_back(fb_table_builder().ref(0, fb_vector(t.data, 16)).done());
        }
        buffer_of.push_back(buffer);
        fb_table_builder tb;
        tb.ref(0, fb_vector(t.shape)).scalar<int8_t>(1, static_cast<int8_t>(t.type)).scalar<uint32_t>(2, buffer);
        tb.ref(3, fb_string(t.name));
        if (!t.scale.empty()) {
            tb.ref(4, fb_table_builder()
                          .ref(2, fb_vector(t.scale))
                          .ref(3, fb_vector(t.zero_point))
                          .scalar<int32_t>(6, t.quantized_dimension)
                          .done());
        }
        tensors.push_back(tb.done());
    }
    // Operator codes: one per (builtin, version), in order of first use.
    std::vector<std::pair<int, int>> codes;
    std::vector<fb_ref> ops;
    for (const auto & op : m.ops) {
        const std::pair<int, int> key(op.builtin, op.version);
        auto it = std::find(codes.begin(), codes.end(), key);
        const uint32_t index = static_cast<uint32_t>(it - codes.begin());
        if (it == codes.end()) {
            codes.push_back(key);
        }
        fb_table_builder ob;
        ob.scalar<uint32_t>(0, index).ref(1, fb_vector(op.inputs)).ref(2, fb_vector(op.outputs));
        if (op.options_type) {
            fb_table_builder opt;
            for (const auto & f : op.options) {
                if (f.width == 0) {
                    opt.ref(f.id, fb_vector(f.ivec));
                } else if (f.is_float) {
                    opt.scalar<float>(f.id, f.fvalue);
                } else if (f.width == 1) {
                    opt.scalar<int8_t>(f.id, static_cast<int8_t>(f.ivalue));
                } else {
                    opt.scalar<int32_t>(f.id, static_cast<int32_t>(f.ivalue));
                }
            }
            ob.scalar<uint8_t>(3, static_cast<uint8_t>(op.options_type)).ref(4, opt.done());
        }
        ops.push_back(ob.done());
    }
    std::vector<fb_ref> opcodes;
    for (const auto & c : codes) {
        // Old readers only read the byte; codes from 127 up live in builtin_code alone.
        int deprecated = c.first < 127 ? c.first : 127;
        if (m.deprecated_code_override >= 0) {
            deprecated = m.deprecated_code_override;
        }
        opcodes.push_back(fb_table_builder()
                              .scalar<int8_t>(0, static_cast<int8_t>(deprecated))
                              .scalar<int32_t>(2, c.second)
                              .scalar<int32_t>(3, c.first)
                              .done());
    }
    std::vector<fb_ref> metadata;
    for (const auto & kv : m.metadata) {
        const uint32_t buffer = static_cast<uint32_t>(buffers.size());
        buffers.push_back(
            fb_table_builder().ref(0, fb_vector(std::vector<uint8_t>(kv.second.begin(), kv.second.end()), 16)).done());
        metadata.push_back(fb_table_builder().ref(0, fb_string(kv.first)).scalar<uint32_t>(1, buffer).done());
    }
    fb_ref subgraph = fb_table_builder()
                          .ref(0, fb_tables(tensors))
                          .ref(1, fb_vector(m.inputs))
                          .ref(2, fb_vector(m.outputs))
                          .ref(3, fb_tables(ops))
                          .ref(4, fb_string("main"))
                          .done();
    fb_table_builder model;
    model.scalar<uint32_t>(0, static_cast<uint32_t>(m.schema_version))
        .ref(1, fb_tables(opcodes))
        .ref(2, fb_tables({subgraph}))
        .ref(3, fb_string(m.description))
        .ref(4, fb_tables(buffers));
    if (!metadata.empty()) {
        model.ref(6, fb_tables(metadata));
    }
    return fb_writer().finish(model.done(), k_file_identifier);
}

// ---------------------------------------------------------------------------
// Net -> TFLite graph
// ---------------------------------------------------------------------------

namespace {

struct layer {
    std::string name;
    std::shared_ptr<nn::Module> module;
};

std::vector<float> to_vec(const torch::Tensor & t) {
    torch::Tensor c = t.detach().to(torch::kFloat32).contiguous().cpu();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

const char * op_name(int builtin) {
    switch (builtin) {
    case tfl_add: return "ADD";
    case tfl_average_pool_2d: return "AVERAGE_POOL_2D";
    case tfl_conv_2d: return "CONV_2D";
    case tfl_depthwise_conv_2d: return "DEPTHWISE_CONV_2D";
    case tfl_dequantize: return "DEQUANTIZE";
    case tfl_fully_connected: return "FULLY_CONNECTED";
    case tfl_max_pool_2d: return "MAX_POOL_2D";
    case tfl_reshape: return "RESHAPE";
    case tfl_softmax: return "SOFTMAX";
    case tfl_mean: return "MEAN";
    case tfl_quantize: return "QUANTIZE";
    case tfl_logistic: return "LOGISTIC";
    case tfl_pad: return "PAD";
    case tfl_resize_nearest_neighbor: return "RESIZE_NEAREST_NEIGHBOR";
    default: return "?";
    }
}

class graph_builder {
public:
    tfl_model m;
    int32_t cur = 0;
    std::vector<int32_t> shape;  // NHWC or [1, n]

    int32_t add_tensor(tfl_tensor t) {
        m.tensors.push_back(std::move(t));
        return static_cast<int32_t>(m.tensors.size() - 1);
    }
    int32_t activation(const std::string & name, std::vector<int32_t> s) {
        return add_tensor(tfl_activation_tensor(name, std::move(s)));
    }
};

// Batch norm as y = x * scale + shift per channel (running statistics).
void bn_affine(nn::BatchNorm2dImpl & bn, std::vector<double> & scale, std::vector<double> & shift) {
    const std::vector<float> mean = to_vec(bn.running_mean), var = to_vec(bn.running_var);
    const size_t c = mean.size();
    std::vector<float> gamma(c, 1.0f), beta(c, 0.0f);
    if (bn.weight.defined()) {
        gamma = to_vec(bn.weight);
    }
    if (bn.bias.defined()) {
        beta = to_vec(bn.bias);
    }
    scale.resize(c);
    shift.resize(c);
    for (size_t i = 0; i < c; ++i) {
        scale[i] = static_cast<double>(gamma[i]) / std::sqrt(static_cast<double>(var[i]) + bn.options.eps());
        shift[i] = static_cast<double>(beta[i]) - static_cast<double>(mean[i]) * scale[i];
    }
}

int32_t out_size(int32_t in, int32_t k, int32_t s, int padding) {
    return padding == tfl_same ? (in + s - 1) / s : (in - k) / s + 1;
}

}  // namespace

tfl_model net_to_tflite(Net & net, const export_options & opt, export_summary * summary) {
    torch::NoGradGuard no_grad;
    net->eval();
    std::vector<layer> layers;
    for (nn::Sequential * seq : {&net->features, &net->head}) {
        for (const auto & c : (*seq)->named_children()) {
            layers.push_back({c.key(), c.value()});
        }
    }
    graph_builder g;
    g.shape = {1, FER_INPUT_SIZE, FER_INPUT_SIZE, 1};
    g.cur = g.activation("input", g.shape);
    g.m.inputs = {g.cur};
    int32_t features = -1;           // the tensor the GAP head pools (for class activation maps)
    std::vector<int32_t> flat_from;  // H, W, C of the tensor a RESHAPE flattened (torch flattens C,H,W)
    std::vector<double> pend_scale, pend_shift;  // a batch norm waiting for the next fully connected layer
    int64_t n_weights = 0;

    auto next_is = [&](size_t i, auto pred) { return i + 1 < layers.size() && pred(*layers[i + 1].module); };
    auto is_relu = [](nn::Module & mod) { return mod.as<nn::ReLU>() != nullptr || mod.as<nn::ReLU6>() != nullptr; };
    auto act_of = [](nn::Module & mod) { return mod.as<nn::ReLU6>() ? tfl_act_relu6 : tfl_act_relu; };
    auto unsupported = [&](const std::string & name, const std::string & why) {
        return usage_error("export: layer '" + name + "' of " + net->arch + ": " + why);
    };

    for (size_t i = 0; i < layers.size(); ++i) {
        const std::string & name = layers[i].name;
        nn::Module & mod = *layers[i].module;
        if (mod.as<nn::Dropout>() || mod.as<nn::Dropout2d>() || mod.as<nn::Identity>()) {
            continue;  // identity at inference
        }
        if (auto * conv = mod.as<nn::Conv2d>()) {
            if (!pend_scale.empty()) {
                throw unsupported(name, "a batch norm before a convolution does not fold exactly (zero padding)");
            }
            const auto & o = conv->options;
            const int64_t kh = o.kernel_size()->at(0), kw = o.kernel_size()->at(1);
            const int64_t sh = o.stride()->at(0), sw = o.stride()->at(1);
            const auto * pad = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
            if (!pad || kh != kw || sh != sw || o.dilation()->at(0) != 1 || o.dilation()->at(1) != 1 ||
                o.groups() != 1 || !c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode())) {
                throw unsupported(name, "only square kernels, equal strides, no dilation or groups, zero padding");
            }
            const int64_t p = (*pad)->at(0);
            int padding;
            if (p == 0 && (*pad)->at(1) == 0) {
                padding = tfl_valid;
            } else if (sh == 1 && kh % 2 == 1 && p == kh / 2 && (*pad)->at(1) == p) {
                padding = tfl_same;
            } else {
                throw unsupported(name, "padding must be 0 (VALID) or k/2 with stride 1 (SAME)");
            }
            const int64_t cout = o.out_channels(), cin = o.in_channels();
            if (cin != g.shape[3]) {
                throw unsupported(name, "input channels do not match");
            }
            // OIHW -> OHWI
            std::vector<float> w = to_vec(conv->weight.permute({0, 2, 3, 1}));
            std::vector<double> bias(static_cast<size_t>(cout), 0.0);
            if (conv->bias.defined()) {
                const std::vector<float> b = to_vec(conv->bias);
                std::copy(b.begin(), b.end(), bias.begin());
            }
            size_t consumed = 0;
            if (next_is(i, [](nn::Module & m2) { return m2.as<nn::BatchNorm2d>() != nullptr; })) {
                std::vector<double> s, t;
                bn_affine(*layers[i + 1].module->as<nn::BatchNorm2d>(), s, t);
                const size_t per = w.size() / static_cast<size_t>(cout);
                for (size_t oc = 0; oc < static_cast<size_t>(cout); ++oc) {
                    for (size_t k = 0; k < per; ++k) {
                        w[oc * per + k] = static_cast<float>(static_cast<double>(w[oc * per + k]) * s[oc]);
                    }
                    bias[oc] = bias[oc] * s[oc] + t[oc];
                }
                consumed = 1;
            }
            int act = tfl_act_none;
            if (next_is(i + consumed, is_relu)) {
                act = act_of(*layers[i + consumed + 1].module);
                ++consumed;
            }
            const int32_t wt = g.add_tensor(tfl_const_f32(name + "/weights", {static_cast<int32_t>(cout),
                static_cast<int32_t>(kh), static_cast<int32_t>(kw), static_cast<int32_t>(cin)}, w));
            const int32_t bt = g.add_tensor(tfl_const_f32(name + "/bias", {static_cast<int32_t>(cout)},
                std::vector<float>(bias.begin(), bias.end())));
            n_weights += static_cast<int64_t>(w.size() + bias.size());
            std::vector<int32_t> os = {1, out_size(g.shape[1], static_cast<int32_t>(kh), static_cast<int32_t>(sh), padding),
                                       out_size(g.shape[2], static_cast<int32_t>(kw), static_cast<int32_t>(sw), padding),
                                       static_cast<int32_t>(cout)};
            const int32_t out = g.activation(name, os);
            g.m.ops.push_back(tfl_conv(g.cur, wt, bt, out, padding, static_cast<int>(sh), act));
            g.cur = out;
            g.shape = os;
            i += consumed;
            continue;
        }
        if (mod.as<nn::MaxPool2d>() || mod.as<nn::AvgPool2d>()) {
            int64_t k, s, p, p2;
            bool ceil = false;
            int builtin;
            if (auto * mp = mod.as<nn::MaxPool2d>()) {
                const auto & o = mp->options;
                k = o.kernel_size()->at(0);
                s = o.stride()->at(0);
                p = o.padding()->at(0);
                p2 = o.padding()->at(1);
                ceil = o.ceil_mode();
                if (o.kernel_size()->at(1) != k || o.stride()->at(1) != s || o.dilation()->at(0) != 1 ||
                    o.dilation()->at(1) != 1) {
                    throw unsupported(name, "only square pools without dilation");
                }
                builtin = tfl_max_pool_2d;
            } else {
                const auto & o = mod.as<nn::AvgPool2d>()->options;
                k = o.kernel_size()->at(0);
                s = o.stride()->at(0);
                p = o.padding()->at(0);
                p2 = o.padding()->at(1);
                ceil = o.ceil_mode();
                if (o.kernel_size()->at(1) != k || o.stride()->at(1) != s) {
                    throw unsupported(name, "only square pools");
                }
                builtin = tfl_average_pool_2d;
            }
            if (p != 0 || p2 != 0 || ceil || g.shape.size() != 4) {
                throw unsupported(name, "only unpadded pools (VALID) without ceil mode");
            }
            if (!pend_scale.empty() && builtin == tfl_max_pool_2d) {
                throw unsupported(name, "a batch norm before a max pool is not exported");
            }
            std::vector<int32_t> os = {1, out_size(g.shape[1], static_cast<int32_t>(k), static_cast<int32_t>(s), tfl_valid),
                                       out_size(g.shape[2], static_cast<int32_t>(k), static_cast<int32_t>(s), tfl_valid),
                                       g.shape[3]};
            const int32_t out = g.activation(name, os);
            g.m.ops.push_back(tfl_pool(builtin, g.cur, out, tfl_valid, static_cast<int>(k), static_cast<int>(s)));
            g.cur = out;
            g.shape = os;
            continue;
        }
        if (auto * bn = mod.as<nn::BatchNorm2d>()) {
            // Not after a convolution (that case is folded above): keep it for
            // the next fully connected layer, where it folds exactly.
            if (!pend_scale.empty() || g.shape.size() != 4) {
                throw unsupported(name, "unsupported batch norm position");
            }
            bn_affine(*bn, pend_scale, pend_shift);
            if (static_cast<int32_t>(pend_scale.size()) != g.shape[3]) {
                throw unsupported(name, "batch norm channels do not match");
            }
            continue;
        }
        if (auto * gap = mod.as<nn::AdaptiveAvgPool2d>()) {
            const auto & os = gap->options.output_size();
            if (os->at(0) != 1 || os->at(1) != 1 || g.shape.size() != 4 || !pend_scale.empty()) {
                throw unsupported(name, "only global average pooling (output size 1)");
            }
            features = g.cur;
            const int32_t axes = g.add_tensor(tfl_const_i32(name + "/axes", {2}, {1, 2}));
            std::vector<int32_t> s = {1, g.shape[3]};
            const int32_t out = g.activation(name, s);
            g.m.ops.push_back(tfl_mean_op(g.cur, axes, out, false));
            g.cur = out;
            g.shape = s;
            continue;
        }
        if (mod.as<nn::Flatten>()) {
            if (g.shape.size() == 2) {
                continue;  // already [1, n]
            }
            const int32_t n = g.shape[1] * g.shape[2] * g.shape[3];
            flat_from = {g.shape[1], g.shape[2], g.shape[3]};
            const int32_t shape_t = g.add_tensor(tfl_const_i32(name + "/shape", {2}, {1, n}));
            const int32_t out = g.activation(name, {1, n});
            g.m.ops.push_back(tfl_reshape_op(g.cur, shape_t, out, {1, n}));
            g.cur = out;
            g.shape = {1, n};
            continue;
        }
        if (auto * fc = mod.as<nn::Linear>()) {
            if (g.shape.size() != 2) {
                throw unsupported(name, "a fully connected layer needs a flattened input");
            }
            const int64_t nout = fc->options.out_features(), nin = fc->options.in_features();
            if (nin != g.shape[1]) {
                throw unsupported(name, "input features do not match");
            }
            const std::vector<float> w0 = to_vec(fc->weight);
            std::vector<double> bias(static_cast<size_t>(nout), 0.0);
            if (fc->bias.defined()) {
                const std::vector<float> b = to_vec(fc->bias);
                std::copy(b.begin(), b.end(), bias.begin());
            }
            std::vector<float> w(w0.size());
            const size_t ni = static_cast<size_t>(nin);
            if (!flat_from.empty()) {
                // torch flattened (C, H, W); TFLite flattens (H, W, C). A pending
                // batch norm scales input channel c and adds w * shift to the bias.
                const size_t H = static_cast<size_t>(flat_from[0]), W = static_cast<size_t>(flat_from[1]),
                             C = static_cast<size_t>(flat_from[2]);
                for (size_t o = 0; o < static_cast<size_t>(nout); ++o) {
                    double extra = 0.0;
                    for (size_t c = 0; c < C; ++c) {
                        const double s = pend_scale.empty() ? 1.0 : pend_scale[c];
                        const double t = pend_shift.empty() ? 0.0 : pend_shift[c];
                        for (size_t hw = 0; hw < H * W; ++hw) {
                            const double v = static_cast<double>(w0[o * ni + c * H * W + hw]);
                            w[o * ni + hw * C + c] = static_cast<float>(v * s);
                            extra += v * t;
                        }
                    }
                    bias[o] += extra;
                }
                flat_from.clear();
                pend_scale.clear();
                pend_shift.clear();
            } else {
                if (!pend_scale.empty()) {
                    throw unsupported(name, "a pending batch norm needs a flatten");
                }
                w = w0;
            }
            int act = tfl_act_none;
            size_t consumed = 0;
            if (next_is(i, is_relu)) {
                act = act_of(*layers[i + 1].module);
                consumed = 1;
            }
            const int32_t wt = g.add_tensor(tfl_const_f32(name + "/weights",
                {static_cast<int32_t>(nout), static_cast<int32_t>(nin)}, w));
            const int32_t bt = g.add_tensor(tfl_const_f32(name + "/bias", {static_cast<int32_t>(nout)},
                std::vector<float>(bias.begin(), bias.end())));
            n_weights += static_cast<int64_t>(w.size() + bias.size());
            std::vector<int32_t> os = {1, static_cast<int32_t>(nout)};
            const int32_t out = g.activation(name, os);
            g.m.ops.push_back(tfl_fc(g.cur, wt, bt, out, act));
            g.cur = out;
            g.shape = os;
            i += consumed;
            continue;
        }
        if (is_relu(mod)) {
            throw unsupported(name, "a ReLU that follows no convolution or fully connected layer");
        }
        throw unsupported(name, "layer type not supported by the exporter");
    }
    if (!pend_scale.empty() || g.shape.size() != 2 || g.shape[1] != FER_N_CLASSES) {
        throw usage_error("export: " + net->arch + " does not end in " + std::to_string(FER_N_CLASSES) + " logits");
    }
    const int32_t probs = g.activation("probabilities", {1, FER_N_CLASSES});
    g.m.ops.push_back(tfl_softmax_op(g.cur, probs, 1.0f));
    g.m.outputs = {probs};
    if (features >= 0) {
        g.m.tensors[static_cast<size_t>(features)].name = "features";
        g.m.outputs.push_back(features);
    }

    // Metadata: what a user needs without side files.
    const std::string model_name = opt.model_name.empty() ? net->arch : opt.model_name;
    std::string labels;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        labels += std::string(fer_class_name(c)) + "\n";
    }
    std::ostringstream info;
    info << "format=fer-tflite 1\n"
         << "model=" << model_name << "\n"
         << "version=" << opt.model_version << "\n"
         << "architecture=" << net->arch << "\n"
         << "precision=float32\n"
         << "input=" << FER_INPUT_SIZE << "x" << FER_INPUT_SIZE << "x1 grey, NHWC float32\n"
         << "input_height=" << FER_INPUT_SIZE << "\n"
         << "input_width=" << FER_INPUT_SIZE << "\n"
         << "input_channels=1\n"
         << "preprocessing=x = (pixel - " << FER_PIXEL_MEAN << ") / " << FER_PIXEL_STD << ", pixel in 0..255\n"
         << "pixel_mean=" << FER_PIXEL_MEAN << "\n"
         << "pixel_std=" << FER_PIXEL_STD << "\n"
         << "output=probabilities [1," << FER_N_CLASSES << "] softmax, classes in fer.labels order\n"
         << (features >= 0 ? "cam=features: output 1, the last feature map; CAM_k = sum_c W_fc[k,c] * features[c]\n"
                            : "")
         << "training_data=" << opt.training_data << "\n"
         << "commit=" << opt.commit << "\n"
         << "source=" << opt.source << "\n";
    g.m.metadata = {{k_meta_labels, labels}, {k_meta_info, info.str()}};
    g.m.description = "fer " + model_name + " " + opt.model_version +
                      ": facial emotion recognition (FER2013 classes), float32";

    if (summary) {
        summary->n_ops = static_cast<int>(g.m.ops.size());
        summary->n_tensors = static_cast<int>(g.m.tensors.size());
        summary->n_weights = n_weights;
        summary->has_cam = features >= 0;
        summary->op_list = tflite_op_list(g.m);
    }
    return g.m;
}

std::string tflite_op_list(const tfl_model & m) {
    std::map<int, int> counts;
    std::vector<int> order;
    for (const auto & op : m.ops) {
        if (!counts[op.builtin]++) {
            order.push_back(op.builtin);
        }
    }
    std::string list;
    for (int b : order) {
        list += (list.empty() ? "" : ", ") + std::string(op_name(b)) + " x" + std::to_string(counts[b]);
    }
    return list;
}

export_summary export_tflite(Net & net, const std::string & path, const export_options & opt) {
    export_summary s;
    const tfl_model m = net_to_tflite(net, opt, &s);
    write_file_atomic(path, tflite_serialize(m));
    return s;
}

}  // namespace fer

// ---------------------------------------------------------------------------
// int8 post-training quantisation
// ---------------------------------------------------------------------------

namespace fer {

namespace {

// Runs the float graph on every input (run(ctx, i) feeds input i) and calls
// visit(tensor, values, count) for each float activation tensor.
template <typename Run, typename Visit>
void for_each_activation(const tfl_model & float_model, size_t n, Run run, Visit visit) {
    const std::string bytes = tflite_serialize(float_model);
    std::string log;
    fer_model_params params = fer_model_default_params();
    params.keep_all_tensors = 1;
    params.log_user_data = &log;
    params.log_callback = [](int, const char * msg, void * user) { *static_cast<std::string *>(user) += msg; };
    fer_model * model = fer_model_load_from_buffer(bytes.data(), bytes.size(), params);
    if (!model) {
        throw runtime_error("calibration: the runtime rejects the float graph: " + log);
    }
    fer_context * ctx = fer_context_new(model);
    const int nt = fer_model_n_tensors(model);
    for (size_t i = 0; i < n; ++i) {
        const int status = run(ctx, i);
        if (status != FER_OK) {
            fer_context_free(ctx);
            fer_model_free(model);
            throw runtime_error("calibration: input " + std::to_string(i) + ": " + fer_status_string(status));
        }
        for (int t = 0; t < nt; ++t) {
            if (!float_model.tensors[static_cast<size_t>(t)].data.empty()) {
                continue;
            }
            size_t count = 0;
            int type = -1;
            const float * v = static_cast<const float *>(fer_context_tensor(ctx, t, &count, &type, nullptr));
            if (v && type == tfl_float32) {
                visit(static_cast<size_t>(t), v, count);
            }
        }
    }
    fer_context_free(ctx);
    fer_model_free(model);
}

// The sub-range [lo * f, hi * f] (f in (0, 1]) of a histogram over [lo, hi]
// with the least expected squared error once quantised to 256 levels.
std::pair<float, float> mse_range(const std::vector<double> & hist, float lo, float hi) {
    const size_t bins = hist.size();
    const double width = (static_cast<double>(hi) - lo) / static_cast<double>(bins);
    double best_err = -1.0, best_f = 1.0;
    for (int step = 0; step <= 70; ++step) {
        const double f = 1.0 - 0.01 * step;
        const double clo = lo * f, chi = hi * f;
        const double q = (chi - clo) / 255.0;
        double err = 0.0;
        for (size_t b = 0; b < bins; ++b) {
            if (hist[b] == 0.0) {
                continue;
            }
            const double x = lo + (static_cast<double>(b) + 0.5) * width;
            const double d = x < clo ? clo - x : x > chi ? x - chi : 0.0;
            err += hist[b] * (d * d + q * q / 12.0);
        }
        if (best_err < 0.0 || err < best_err) {
            best_err = err;
            best_f = f;
        }
    }
    return {static_cast<float>(lo * best_f), static_cast<float>(hi * best_f)};
}

}  // namespace

namespace {

// Min/max (then, for mse, a histogram per tensor) over every input; `run`
// feeds input i to the context as for_each_activation describes.
template <typename Run>
std::vector<std::pair<float, float>> calibrate(const tfl_model & float_model, size_t n, Run run,
                                               calibration_method method) {
    const size_t nt = float_model.tensors.size();
    std::vector<std::pair<float, float>> ranges(nt, {0.0f, 0.0f});
    std::vector<bool> seen(nt, false);
    for_each_activation(float_model, n, run, [&](size_t t, const float * v, size_t count) {
        auto & rg = ranges[t];
        for (size_t k = 0; k < count; ++k) {
            if (!seen[t]) {
                rg = {v[k], v[k]};
                seen[t] = true;
            }
            rg.first = std::min(rg.first, v[k]);
            rg.second = std::max(rg.second, v[k]);
        }
    });
    if (method == calibration_method::minmax) {
        return ranges;
    }
    // Second pass: histograms over the observed ranges (widened to include 0,
    // which the int8 parameters represent exactly).
    constexpr size_t k_bins = 2048;
    std::vector<std::vector<double>> hist(nt);
    for (size_t t = 0; t < nt; ++t) {
        ranges[t].first = std::min(ranges[t].first, 0.0f);
        ranges[t].second = std::max(ranges[t].second, 0.0f);
        if (seen[t] && ranges[t].second > ranges[t].first) {
            hist[t].assign(k_bins, 0.0);
        }
    }
    for_each_activation(float_model, n, run, [&](size_t t, const float * v, size_t count) {
        if (hist[t].empty()) {
            return;
        }
        const double lo = ranges[t].first, inv = k_bins / (static_cast<double>(ranges[t].second) - lo);
        for (size_t k = 0; k < count; ++k) {
            const double b = (v[k] - lo) * inv;
            hist[t][std::min(k_bins - 1, static_cast<size_t>(std::max(0.0, b)))] += 1.0;
        }
    });
    for (size_t t = 0; t < nt; ++t) {
        if (!hist[t].empty()) {
            ranges[t] = mse_range(hist[t], ranges[t].first, ranges[t].second);
        }
    }
    return ranges;
}

}  // namespace

std::vector<std::pair<float, float>> calibrate_tflite(const tfl_model & float_model, const uint8_t * faces, size_t n,
                                                      calibration_method method) {
    return calibrate(float_model, n, [&](fer_context * ctx, size_t i) {
        fer_result r;
        return fer_classify(ctx, faces + i * FER_INPUT_SIZE * FER_INPUT_SIZE, FER_INPUT_SIZE, &r);
    }, method);
}

std::vector<std::pair<float, float>> calibrate_tflite(const tfl_model & float_model,
                                                      const std::vector<std::vector<float>> & inputs,
                                                      calibration_method method) {
    return calibrate(float_model, inputs.size(), [&](fer_context * ctx, size_t i) {
        return fer_context_run(ctx, inputs[i].data(), inputs[i].size());
    }, method);
}

namespace {

// Asymmetric int8 parameters covering [lo, hi] (and 0, which must be exact).
std::pair<float, int64_t> act_params(float lo, float hi) {
    lo = std::min(lo, 0.0f);
    hi = std::max(hi, 0.0f);
    if (hi - lo < 1e-6f) {
        hi = lo + 1e-6f;
    }
    const double scale = (static_cast<double>(hi) - lo) / 255.0;
    const double zp = std::round(-128.0 - lo / scale);
    return {static_cast<float>(scale), static_cast<int64_t>(std::clamp(zp, -128.0, 127.0))};
}

std::vector<float> floats_of(const tfl_tensor & t) {
    std::vector<float> v(t.data.size() / 4);
    std::memcpy(v.data(), t.data.data(), t.data.size());
    return v;
}

// Symmetric int8 weights, one scale per slice along `dim` (or per tensor when dim < 0).
void quantize_weights(tfl_tensor & t, int dim) {
    const std::vector<float> w = floats_of(t);
    size_t outer = 1, channels = 1, inner = 1;
    if (dim >= 0) {
        for (int i = 0; i < dim; ++i) {
            outer *= static_cast<size_t>(t.shape[static_cast<size_t>(i)]);
        }
        channels = static_cast<size_t>(t.shape[static_cast<size_t>(dim)]);
        for (size_t i = static_cast<size_t>(dim) + 1; i < t.shape.size(); ++i) {
            inner *= static_cast<size_t>(t.shape[i]);
        }
    } else {
        inner = w.size();
    }
    std::vector<float> scale(channels, 0.0f);
    for (size_t o = 0; o < outer; ++o) {
        for (size_t c = 0; c < channels; ++c) {
            for (size_t i = 0; i < inner; ++i) {
                scale[c] = std::max(scale[c], std::fabs(w[(o * channels + c) * inner + i]));
            }
        }
    }
    for (float & s : scale) {
        s = std::max(s, 1e-12f) / 127.0f;
    }
    t.data.resize(w.size());
    for (size_t o = 0; o < outer; ++o) {
        for (size_t c = 0; c < channels; ++c) {
            for (size_t i = 0; i < inner; ++i) {
                const size_t k = (o * channels + c) * inner + i;
                const float q = std::round(w[k] / scale[c]);
                t.data[k] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f)));
            }
        }
    }
    t.type = tfl_int8;
    t.scale = scale;
    t.zero_point.assign(channels, 0);
    t.quantized_dimension = dim < 0 ? 0 : dim;
}

void quantize_bias(tfl_tensor & t, float in_scale, const std::vector<float> & w_scale) {
    const std::vector<float> b = floats_of(t);
    std::vector<int32_t> q(b.size());
    t.scale.resize(b.size());
    for (size_t c = 0; c < b.size(); ++c) {
        const double s = static_cast<double>(in_scale) * w_scale[w_scale.size() > 1 ? c : 0];
        t.scale[c] = static_cast<float>(s);
        q[c] = static_cast<int32_t>(std::clamp(std::round(b[c] / s), -2147483647.0, 2147483647.0));
    }
    std::memcpy(t.data.data(), q.data(), t.data.size());
    t.type = tfl_int32;
    t.zero_point.assign(b.size(), 0);
    t.quantized_dimension = 0;
}

void set_act(tfl_tensor & t, float scale, int64_t zp) {
    t.type = tfl_int8;
    t.scale = {scale};
    t.zero_point = {zp};
    t.quantized_dimension = 0;
}

}  // namespace

tfl_model quantize_tflite_int8(const tfl_model & f, const std::vector<std::pair<float, float>> & ranges,
                               bool float_head_wanted, int float_tail) {
    tfl_model q = f;
    if (f.inputs.size() != 1 || ranges.size() != f.tensors.size()) {
        throw runtime_error("quantize: one input and a range per tensor are needed");
    }
    q.ops.clear();
    // A PAD of the float input (a detector's explicit convolution padding)
    // stays float and the QUANTIZE follows it: then zeros are padded exactly
    // and the runtime needs no int8 PAD.
    int32_t in_f = f.inputs[0];
    size_t first_op = 0;
    if (!f.ops.empty() && f.ops[0].builtin == tfl_pad && f.ops[0].inputs[0] == in_f) {
        q.ops.push_back(f.ops[0]);
        in_f = f.ops[0].outputs[0];
        first_op = 1;
    }
    // the int8 copy of the input, fed by QUANTIZE
    tfl_tensor in_q = tfl_activation_tensor(f.tensors[static_cast<size_t>(in_f)].name + "_int8",
                                            f.tensors[static_cast<size_t>(in_f)].shape);
    // The input range is widened by 1/512 at each end: with the exact range of
    // the preprocessed pixels, (pixel - 127.5) / 63.75 over [-2, 2], every pixel
    // would fall on a rounding tie, which interpreters break differently
    // (half away from zero vs half to even).
    const float ilo = ranges[static_cast<size_t>(in_f)].first, ihi = ranges[static_cast<size_t>(in_f)].second;
    const auto ip = act_params(ilo - (ihi - ilo) / 512.0f, ihi + (ihi - ilo) / 512.0f);
    set_act(in_q, ip.first, ip.second);
    q.tensors.push_back(in_q);
    const int32_t in_q_index = static_cast<int32_t>(q.tensors.size() - 1);
    tfl_op quant;
    quant.builtin = tfl_quantize;
    quant.version = 2;
    quant.inputs = {in_f};
    quant.outputs = {in_q_index};
    q.ops.push_back(quant);
    // The classifier head stays float behind a DEQUANTIZE: the global average
    // pool (an int8 MEAN would round the mean of 36 values to the input's
    // step), any RESHAPE, the FULLY_CONNECTED that feeds SOFTMAX (int8 logits)
    // and the SOFTMAX (steps of 1/256). Each of those flips the top class of
    // faces whose two best classes are close, and the head is a few thousand
    // multiply-accumulates of ~100 M.
    std::vector<bool> float_head(f.ops.size(), false);
    auto producer = [&](int32_t tensor) {
        for (size_t k = 0; k < f.ops.size(); ++k) {
            if (f.ops[k].outputs[0] == tensor) {
                return static_cast<int>(k);
            }
        }
        return -1;
    };
    for (size_t s = 0; s < f.ops.size(); ++s) {
        if (f.ops[s].builtin == tfl_logistic) {
            float_head[s] = true;  // a score: cheap in float, coarse at 1/256 steps in int8
            continue;
        }
        if (!float_head_wanted || f.ops[s].builtin != tfl_softmax) {
            continue;
        }
        int k = producer(f.ops[s].inputs[0]);
        if (k < 0 || f.ops[static_cast<size_t>(k)].builtin != tfl_fully_connected) {
            continue;
        }
        float_head[s] = float_head[static_cast<size_t>(k)] = true;
        // then back through RESHAPEs to a global-average MEAN (not into a
        // hidden FULLY_CONNECTED layer: seed's 1.2 M weights stay int8)
        for (k = producer(f.ops[static_cast<size_t>(k)].inputs[0]); k >= 0;
             k = producer(f.ops[static_cast<size_t>(k)].inputs[0])) {
            const int b = f.ops[static_cast<size_t>(k)].builtin;
            if (b != tfl_reshape && b != tfl_mean) {
                break;
            }
            float_head[static_cast<size_t>(k)] = true;
            if (b == tfl_mean) {
                break;
            }
        }
    }
    // Detector heads: the last `float_tail` convolutions before each graph
    // output (behind its LOGISTIC) stay float; see the header.
    for (int32_t out : f.outputs) {
        int k = producer(out);
        if (k >= 0 && f.ops[static_cast<size_t>(k)].builtin == tfl_logistic) {
            k = producer(f.ops[static_cast<size_t>(k)].inputs[0]);
        }
        for (int d = 0; d < float_tail && k >= 0; ++d) {
            const int b = f.ops[static_cast<size_t>(k)].builtin;
            if (b != tfl_conv_2d && b != tfl_depthwise_conv_2d) {
                break;
            }
            float_head[static_cast<size_t>(k)] = true;
            k = producer(f.ops[static_cast<size_t>(k)].inputs[0]);
        }
    }
    std::map<int32_t, int32_t> dequantized;  // int8 tensor -> its float copy (one DEQUANTIZE each)
    for (size_t k = first_op; k < f.ops.size(); ++k) {
        tfl_op op = f.ops[k];
        for (int32_t & i : op.inputs) {
            if (i == in_f) {
                i = in_q_index;
            }
        }
        if (float_head[k]) {
            const tfl_tensor & x = q.tensors[static_cast<size_t>(op.inputs[0])];
            if (x.type == tfl_int8 && dequantized.count(op.inputs[0])) {
                op.inputs[0] = dequantized[op.inputs[0]];
            } else if (x.type == tfl_int8) {
                q.tensors.push_back(tfl_activation_tensor(x.name + "_float", x.shape));
                tfl_op deq;
                deq.builtin = tfl_dequantize;
                deq.version = 2;
                deq.inputs = {op.inputs[0]};
                deq.outputs = {static_cast<int32_t>(q.tensors.size() - 1)};
                q.ops.push_back(deq);
                dequantized[op.inputs[0]] = deq.outputs[0];
                op.inputs[0] = deq.outputs[0];
            }
            q.ops.push_back(op);  // float, version 1
            continue;
        }
        const int32_t out = op.outputs[0];
        tfl_tensor & o = q.tensors[static_cast<size_t>(out)];
        const tfl_tensor & x = q.tensors[static_cast<size_t>(op.inputs[0])];
        switch (op.builtin) {
        case tfl_conv_2d:
        case tfl_depthwise_conv_2d:
        case tfl_fully_connected: {
            const auto p = act_params(ranges[static_cast<size_t>(out)].first, ranges[static_cast<size_t>(out)].second);
            set_act(o, p.first, p.second);
            tfl_tensor & w = q.tensors[static_cast<size_t>(op.inputs[1])];
            quantize_weights(w, op.builtin == tfl_conv_2d ? 0 : op.builtin == tfl_depthwise_conv_2d ? 3 : -1);
            if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
                quantize_bias(q.tensors[static_cast<size_t>(op.inputs[2])], x.scale[0], w.scale);
            }
            op.version = op.builtin == tfl_fully_connected ? 4 : 3;
            break;
        }
        case tfl_max_pool_2d:
        case tfl_average_pool_2d:
        case tfl_reshape:
        case tfl_mean:
        case tfl_resize_nearest_neighbor:
        case tfl_pad:
            set_act(o, x.scale[0], x.zero_point[0]);
            op.version = op.builtin == tfl_reshape ? 1 : 2;
            break;
        case tfl_add: {
            const auto p = act_params(ranges[static_cast<size_t>(out)].first, ranges[static_cast<size_t>(out)].second);
            set_act(o, p.first, p.second);
            op.version = 2;
            break;
        }
        case tfl_softmax:
            set_act(o, 1.0f / 256.0f, -128);
            op.version = 2;
            break;
        default:
            throw runtime_error("quantize: op " + std::string(op_name(op.builtin)) + " has no int8 form here");
        }
        q.ops.push_back(op);
    }
    // float outputs through DEQUANTIZE; the int8 tensors get an _int8 suffix
    for (int32_t & out : q.outputs) {
        if (q.tensors[static_cast<size_t>(out)].type != tfl_int8) {
            continue;  // the float head's probabilities
        }
        tfl_tensor & t8 = q.tensors[static_cast<size_t>(out)];
        tfl_tensor fl = tfl_activation_tensor(t8.name, t8.shape);
        t8.name += "_int8";
        q.tensors.push_back(fl);
        tfl_op deq;
        deq.builtin = tfl_dequantize;
        deq.version = 2;
        deq.inputs = {out};
        out = static_cast<int32_t>(q.tensors.size() - 1);
        deq.outputs = {out};
        q.ops.push_back(deq);
    }
    for (auto & kv : q.metadata) {
        const std::string from = "precision=float32\n";
        const size_t p = kv.first == k_meta_info ? kv.second.find(from) : std::string::npos;
        if (p != std::string::npos) {
            kv.second.replace(p, from.size(), "precision=int8 (post-training: per-channel weights, calibrated activations)\n");
        }
    }
    const size_t at = q.description.rfind(", float32");
    if (at != std::string::npos) {
        q.description.replace(at, 9, ", int8");
    }
    return q;
}

}  // namespace fer
