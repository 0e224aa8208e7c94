#include "export-onnx.h"

#include "error.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

namespace fer {

namespace {

// Opset 13 / IR 7: read by onnxruntime, OpenCV 4.6's dnn module and older
// runtimes alike (ReduceMean still takes its axes as an attribute).
constexpr int k_opset = 13;
constexpr int k_ir_version = 7;

int64_t option_int(const tfl_op & op, int id, int64_t fallback) {
    for (const auto & f : op.options) {
        if (f.id == id && !f.is_float && f.width > 0) {
            return f.ivalue;
        }
    }
    return fallback;
}

float option_float(const tfl_op & op, int id, float fallback) {
    for (const auto & f : op.options) {
        if (f.id == id && f.is_float) {
            return f.fvalue;
        }
    }
    return fallback;
}

std::vector<float> floats_of(const tfl_tensor & t) {
    std::vector<float> v(t.data.size() / 4);
    std::memcpy(v.data(), t.data.data(), v.size() * 4);
    return v;
}

std::vector<int32_t> ints_of(const tfl_tensor & t) {
    std::vector<int32_t> v(t.data.size() / 4);
    std::memcpy(v.data(), t.data.data(), v.size() * 4);
    return v;
}

const char * op_name(int builtin) {
    switch (builtin) {
    case tfl_conv_2d: return "CONV_2D";
    case tfl_depthwise_conv_2d: return "DEPTHWISE_CONV_2D";
    case tfl_max_pool_2d: return "MAX_POOL_2D";
    case tfl_average_pool_2d: return "AVERAGE_POOL_2D";
    case tfl_mean: return "MEAN";
    case tfl_reshape: return "RESHAPE";
    case tfl_fully_connected: return "FULLY_CONNECTED";
    case tfl_softmax: return "SOFTMAX";
    case tfl_add: return "ADD";
    case tfl_logistic: return "LOGISTIC";
    case tfl_quantize: return "QUANTIZE";
    case tfl_dequantize: return "DEQUANTIZE";
    default: return "an operator";
    }
}

// TFLite's SAME padding as explicit ONNX pads (before, after) of one axis:
// the output has ceil(in / stride) positions, the extra goes after.
std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t kernel, int64_t stride) {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
    return {total / 2, total - total / 2};
}

class converter {
public:
    explicit converter(const tfl_model & m) : m_(m), names_(m.tensors.size()), nchw_(m.tensors.size(), false) {}

    onnx::ModelProto run() {
        onnx::ModelProto model;
        g_ = model.mutable_graph();
        if (m_.inputs.size() != 1) {
            throw runtime_error("onnx export: the graph has " + std::to_string(m_.inputs.size()) + " inputs, 1 expected");
        }
        add_input(m_.inputs[0]);
        for (size_t i = 0; i < m_.ops.size(); ++i) {
            convert(m_.ops[i], i);
        }
        for (int32_t out : m_.outputs) {
            add_output(out);
        }
        model.set_ir_version(k_ir_version);
        auto * opset = model.add_opset_import();
        opset->set_domain("");
        opset->set_version(k_opset);
        return model;
    }

    std::string op_list() const {
        std::string s;
        for (const auto & kv : order_) {
            s += (s.empty() ? "" : ", ") + kv + " x" + std::to_string(counts_.at(kv));
        }
        return s;
    }

private:
    const tfl_tensor & tensor(int32_t i) const { return m_.tensors.at(static_cast<size_t>(i)); }

    // The ONNX value of an activation; constants are not values here.
    const std::string & value(int32_t i, const tfl_op & op) const {
        if (names_[static_cast<size_t>(i)].empty()) {
            throw runtime_error(std::string("onnx export: ") + op_name(op.builtin) + " reads tensor '" + tensor(i).name +
                                "', which no earlier operator writes (constant operands are not supported here)");
        }
        return names_[static_cast<size_t>(i)];
    }

    std::string unique(const std::string & base) {
        std::string n = base.empty() ? "t" : base;
        for (int k = 1; !used_.insert(n).second; ++k) {
            n = base + "_" + std::to_string(k);
        }
        return n;
    }

    onnx::NodeProto * node(const std::string & type, std::vector<std::string> in, const std::string & out) {
        onnx::NodeProto * n = g_->add_node();
        n->set_op_type(type);
        n->set_name(unique(out + "/" + type));
        for (auto & s : in) {
            n->add_input(s);
        }
        n->add_output(out);
        if (!counts_.count(type)) {
            order_.push_back(type);
        }
        ++counts_[type];
        return n;
    }

    static void attr(onnx::NodeProto * n, const char * name, std::vector<int64_t> v) {
        auto * a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v) {
            a->add_ints(x);
        }
    }
    static void attr(onnx::NodeProto * n, const char * name, int64_t v) {
        auto * a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(v);
    }

    std::string initializer(const std::string & base, const std::vector<int64_t> & dims, const std::vector<float> & v) {
        auto * t = g_->add_initializer();
        const std::string n = unique(base);
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::FLOAT);
        for (int64_t d : dims) {
            t->add_dims(d);
        }
        t->set_raw_data(std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(float)));
        return n;
    }

    std::string initializer_i64(const std::string & base, const std::vector<int64_t> & v) {
        auto * t = g_->add_initializer();
        const std::string n = unique(base);
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(static_cast<int64_t>(v.size()));
        for (int64_t x : v) {
            t->add_int64_data(x);
        }
        return n;
    }

    bool is_int8(int32_t t) const { return tensor(t).type == tfl_int8 && tensor(t).data.empty(); }

    // Where an op with TFLite fused activation `act` writes: the output
    // tensor itself, or a value the activation (and quantisation) then reads.
    std::string target(int32_t out, int64_t act, const char * suffix) {
        return act == tfl_act_none && !is_int8(out) ? output_name(out) : unique(tensor(out).name + suffix);
    }

    // The fused activation of output `out`, then, for an int8 tensor, its
    // quantisation as a QuantizeLinear / DequantizeLinear pair (QDQ): the
    // ONNX value is the float that the int8 tensor stands for.
    void finish(const std::string & pre, int64_t act, int32_t out, const tfl_op & op) {
        std::string v = pre;
        if (act != tfl_act_none) {
            const std::string name = is_int8(out) ? unique(tensor(out).name + "/act") : output_name(out);
            if (act == tfl_act_relu) {
                node("Relu", {v}, name);
            } else if (act == tfl_act_relu6) {
                node("Clip", {v, initializer(name + "/min", {}, {0.0f}), initializer(name + "/max", {}, {6.0f})}, name);
            } else {
                throw runtime_error(std::string("onnx export: ") + op_name(op.builtin) + " '" + tensor(out).name +
                                    "': fused activation " + std::to_string(act) + " is not supported");
            }
            v = name;
        }
        if (is_int8(out)) {
            qdq(v, tensor(out), output_name(out));
        }
    }

    void qdq(const std::string & v, const tfl_tensor & t, const std::string & out) {
        if (t.scale.size() != 1 || t.zero_point.size() != 1) {
            throw runtime_error("onnx export: int8 tensor '" + t.name + "' without per-tensor quantisation");
        }
        const std::string s = initializer(t.name + "/scale", {}, {t.scale[0]});
        const std::string z = initializer_i8(t.name + "/zero_point", {}, {static_cast<int8_t>(t.zero_point[0])});
        const std::string q = unique(t.name + "/q");
        node("QuantizeLinear", {v, s, z}, q);
        node("DequantizeLinear", {q, s, z}, out);
    }

    std::string initializer_i8(const std::string & base, const std::vector<int64_t> & dims, const std::vector<int8_t> & v) {
        auto * t = g_->add_initializer();
        const std::string n = unique(base);
        t->set_name(n);
        t->set_data_type(onnx::TensorProto::INT8);
        for (int64_t d : dims) {
            t->add_dims(d);
        }
        t->set_raw_data(std::string(reinterpret_cast<const char *>(v.data()), v.size()));
        return n;
    }

    // A quantised constant (int8 weights, int32 bias; per-channel along ONNX
    // axis 0) as DequantizeLinear of its integers.
    std::string dequantized_constant(const tfl_tensor & t, const std::vector<int64_t> & dims,
                                     const std::vector<uint8_t> & bytes) {
        auto * ti = g_->add_initializer();
        const std::string n = unique(t.name + "/int");
        ti->set_name(n);
        ti->set_data_type(t.type == tfl_int8 ? onnx::TensorProto::INT8 : onnx::TensorProto::INT32);
        for (int64_t d : dims) {
            ti->add_dims(d);
        }
        ti->set_raw_data(std::string(reinterpret_cast<const char *>(bytes.data()), bytes.size()));
        const int64_t channels = static_cast<int64_t>(t.scale.size());
        const std::string s = initializer(t.name + "/scale", channels > 1 ? std::vector<int64_t>{channels} : std::vector<int64_t>{},
                                          t.scale);
        std::string z;
        if (t.type == tfl_int8) {
            z = initializer_i8(t.name + "/zero_point", channels > 1 ? std::vector<int64_t>{channels} : std::vector<int64_t>{},
                               std::vector<int8_t>(static_cast<size_t>(channels), 0));
        } else {
            auto * tz = g_->add_initializer();
            z = unique(t.name + "/zero_point");
            tz->set_name(z);
            tz->set_data_type(onnx::TensorProto::INT32);
            if (channels > 1) {
                tz->add_dims(channels);
            }
            for (int64_t c = 0; c < channels; ++c) {
                tz->add_int32_data(0);
            }
        }
        const std::string out = unique(t.name);
        onnx::NodeProto * dq = node("DequantizeLinear", {n, s, z}, out);
        if (channels > 1) {
            attr(dq, "axis", int64_t(0));
        }
        return out;
    }

    // A tensor that needs no fused activation: the op writes it directly.
    std::string output_name(int32_t out) {
        const std::string n = unique(tensor(out).name);
        names_[static_cast<size_t>(out)] = n;
        return n;
    }

    void add_input(int32_t i) {
        const tfl_tensor & t = tensor(i);
        if (t.shape.size() != 4 || t.type != tfl_float32) {
            throw runtime_error("onnx export: the input must be a float32 [1, H, W, C] tensor");
        }
        auto * v = g_->add_input();
        v->set_name("input");
        used_.insert("input");
        auto * tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        auto * shape = tt->mutable_shape();
        shape->add_dim()->set_dim_param("N");
        for (int d : {3, 1, 2}) {  // NHWC -> NCHW
            shape->add_dim()->set_dim_value(t.shape[static_cast<size_t>(d)]);
        }
        names_[static_cast<size_t>(i)] = "input";
        nchw_[static_cast<size_t>(i)] = true;
    }

    void add_output(int32_t i) {
        const tfl_tensor & t = tensor(i);
        auto * v = g_->add_output();
        // The TFLite output's name, without the suffix unique() may have added.
        const std::string & inner = names_[static_cast<size_t>(i)];
        v->set_name(inner);
        auto * tt = v->mutable_type()->mutable_tensor_type();
        tt->set_elem_type(onnx::TensorProto::FLOAT);
        auto * shape = tt->mutable_shape();
        shape->add_dim()->set_dim_param("N");
        std::vector<int32_t> dims(t.shape.begin() + 1, t.shape.end());
        if (nchw_[static_cast<size_t>(i)]) {
            dims = {t.shape[3], t.shape[1], t.shape[2]};
        }
        for (int32_t d : dims) {
            shape->add_dim()->set_dim_value(d);
        }
    }

    void convert(const tfl_op & op, size_t index) {
        for (int32_t in : op.inputs) {
            if (in >= 0 && tensor(in).type != tfl_float32 && !is_int8(in) && tensor(in).data.empty()) {
                throw runtime_error("onnx export: operator " + std::to_string(index) + " (" + op_name(op.builtin) +
                                    ") reads a tensor that is neither float32 nor int8");
            }
        }
        const int32_t out = op.outputs.at(0);
        const bool qdq_ok = op.builtin == tfl_conv_2d || op.builtin == tfl_depthwise_conv_2d ||
                            op.builtin == tfl_max_pool_2d || op.builtin == tfl_average_pool_2d ||
                            op.builtin == tfl_quantize || op.builtin == tfl_add;
        if (is_int8(out) && !qdq_ok) {
            throw runtime_error(std::string("onnx export: int8 ") + op_name(op.builtin) + " '" + tensor(out).name +
                                "' is not supported (int8 graphs need a float head)");
        }
        switch (op.builtin) {
        case tfl_conv_2d:
        case tfl_depthwise_conv_2d: conv(op); break;
        case tfl_max_pool_2d:
        case tfl_average_pool_2d: pool(op); break;
        case tfl_mean: mean(op); break;
        case tfl_reshape: reshape(op); break;
        case tfl_fully_connected: {
            const tfl_tensor & w = tensor(op.inputs[1]);
            if (nchw_[static_cast<size_t>(op.inputs[0])]) {
                throw runtime_error("onnx export: FULLY_CONNECTED '" + tensor(out).name +
                                    "' on a 4-D tensor (flatten with RESHAPE first)");
            }
            std::vector<std::string> in = {value(op.inputs[0], op),
                                           initializer(w.name, {w.shape[0], w.shape[1]}, floats_of(w))};
            if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
                const tfl_tensor & b = tensor(op.inputs[2]);
                in.push_back(initializer(b.name, {b.shape[0]}, floats_of(b)));
            }
            const int64_t act = option_int(op, 0, tfl_act_none);
            const std::string pre = target(out, act, "/gemm");
            attr(node("Gemm", in, pre), "transB", 1);
            finish(pre, act, out, op);
            break;
        }
        case tfl_softmax: {
            if (option_float(op, 0, 1.0f) != 1.0f) {
                throw runtime_error("onnx export: SOFTMAX with beta != 1 is not supported");
            }
            attr(node("Softmax", {value(op.inputs[0], op)}, output_name(out)), "axis", -1);
            break;
        }
        case tfl_add: {
            const int64_t act = option_int(op, 0, tfl_act_none);
            const std::string pre = target(out, act, "/add");
            node("Add", {value(op.inputs[0], op), value(op.inputs[1], op)}, pre);
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(op.inputs[0])];
            finish(pre, act, out, op);
            break;
        }
        case tfl_quantize:
            qdq(value(op.inputs[0], op), tensor(out), output_name(out));
            break;
        case tfl_dequantize:  // the ONNX value already is the float the int8 tensor stands for
            node("Identity", {value(op.inputs[0], op)}, output_name(out));
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(op.inputs[0])];
            break;
        case tfl_logistic:
            node("Sigmoid", {value(op.inputs[0], op)}, output_name(out));
            nchw_[static_cast<size_t>(out)] = nchw_[static_cast<size_t>(op.inputs[0])];
            break;
        default:
            throw runtime_error("onnx export: TFLite builtin operator " + std::to_string(op.builtin) + " (operator " +
                                std::to_string(index) + ") has no ONNX conversion");
        }
    }

    void conv(const tfl_op & op) {
        const bool depthwise = op.builtin == tfl_depthwise_conv_2d;
        const tfl_tensor & in = tensor(op.inputs[0]);
        const tfl_tensor & w = tensor(op.inputs[1]);
        const int32_t out = op.outputs[0];
        // Weights: CONV_2D OHWI -> OIHW; DEPTHWISE 1HWC -> C1HW with one group per input channel.
        const int64_t kh = w.shape[1], kw = w.shape[2];
        const int64_t o = depthwise ? w.shape[3] : w.shape[0], i = depthwise ? 1 : w.shape[3];
        const size_t elem = w.type == tfl_int8 ? 1 : 4;
        const std::vector<uint8_t> & src = w.data;
        std::vector<uint8_t> oihw(src.size());
        for (int64_t a = 0; a < o; ++a) {
            for (int64_t b = 0; b < i; ++b) {
                for (int64_t y = 0; y < kh; ++y) {
                    for (int64_t x = 0; x < kw; ++x) {
                        const int64_t from = depthwise ? (y * kw + x) * o + a : ((a * kh + y) * kw + x) * i + b;
                        std::memcpy(&oihw[static_cast<size_t>(((a * i + b) * kh + y) * kw + x) * elem],
                                    &src[static_cast<size_t>(from) * elem], elem);
                    }
                }
            }
        }
        std::vector<float> oihw_f(w.type == tfl_int8 ? 0 : oihw.size() / 4);
        std::memcpy(oihw_f.data(), oihw.data(), oihw_f.size() * 4);
        std::vector<std::string> inputs = {value(op.inputs[0], op),
                                           w.type == tfl_int8 ? dequantized_constant(w, {o, i, kh, kw}, oihw)
                                                              : initializer(w.name, {o, i, kh, kw}, oihw_f)};
        if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
            const tfl_tensor & b = tensor(op.inputs[2]);
            inputs.push_back(b.type == tfl_int32 ? dequantized_constant(b, {o}, b.data)
                                                 : initializer(b.name, {o}, floats_of(b)));
        }
        const int64_t sw = option_int(op, 1, 1), sh = option_int(op, 2, 1);
        const int dil_w_id = depthwise ? 5 : 4, dil_h_id = depthwise ? 6 : 5;
        if (option_int(op, dil_w_id, 1) != 1 || option_int(op, dil_h_id, 1) != 1) {
            throw runtime_error("onnx export: dilated convolution '" + tensor(out).name + "' is not supported");
        }
        const int64_t act = option_int(op, depthwise ? 4 : 3, tfl_act_none);
        const std::string pre = target(out, act, "/conv");
        onnx::NodeProto * n = node("Conv", inputs, pre);
        attr(n, "kernel_shape", std::vector<int64_t>{kh, kw});
        attr(n, "strides", std::vector<int64_t>{sh, sw});
        set_pads(n, op, in, kh, kw, sh, sw);
        if (depthwise) {
            attr(n, "group", in.shape[3]);
        }
        nchw_[static_cast<size_t>(out)] = true;
        finish(pre, act, out, op);
    }

    void set_pads(onnx::NodeProto * n, const tfl_op & op, const tfl_tensor & in, int64_t kh, int64_t kw, int64_t sh,
                  int64_t sw) {
        if (option_int(op, 0, tfl_same) == tfl_same) {
            const auto py = same_pads(in.shape[1], kh, sh), px = same_pads(in.shape[2], kw, sw);
            attr(n, "pads", std::vector<int64_t>{py.first, px.first, py.second, px.second});
        } else {
            attr(n, "pads", std::vector<int64_t>{0, 0, 0, 0});
        }
    }

    void pool(const tfl_op & op) {
        const tfl_tensor & in = tensor(op.inputs[0]);
        const int32_t out = op.outputs[0];
        const int64_t sw = option_int(op, 1, 1), sh = option_int(op, 2, 1);
        const int64_t fw = option_int(op, 3, 1), fh = option_int(op, 4, 1);
        const bool max = op.builtin == tfl_max_pool_2d;
        const int64_t act = option_int(op, 5, tfl_act_none);
        const std::string pre = target(out, act, "/pool");
        onnx::NodeProto * n = node(max ? "MaxPool" : "AveragePool", {value(op.inputs[0], op)}, pre);
        attr(n, "kernel_shape", std::vector<int64_t>{fh, fw});
        attr(n, "strides", std::vector<int64_t>{sh, sw});
        set_pads(n, op, in, fh, fw, sh, sw);
        if (!max) {
            attr(n, "count_include_pad", int64_t(0));  // TFLite averages over the real pixels only
        }
        nchw_[static_cast<size_t>(out)] = true;
        finish(pre, act, out, op);
    }

    void mean(const tfl_op & op) {
        const int32_t out = op.outputs[0];
        if (!nchw_[static_cast<size_t>(op.inputs[0])]) {
            throw runtime_error("onnx export: MEAN '" + tensor(out).name + "' on a tensor that is not 4-D");
        }
        static const int64_t nhwc_to_nchw[4] = {0, 2, 3, 1};
        std::vector<int64_t> axes;
        for (int32_t a : ints_of(tensor(op.inputs[1]))) {
            axes.push_back(nhwc_to_nchw[(a + 4) % 4]);
        }
        const bool keep = option_int(op, 0, 0) != 0;
        onnx::NodeProto * n = node("ReduceMean", {value(op.inputs[0], op)}, output_name(out));
        attr(n, "axes", axes);
        attr(n, "keepdims", int64_t(keep ? 1 : 0));
        const bool spatial_only = axes.size() == 2 && ((axes[0] == 2 && axes[1] == 3) || (axes[0] == 3 && axes[1] == 2));
        if (!keep && !spatial_only) {
            throw runtime_error("onnx export: MEAN '" + tensor(out).name + "' over axes other than height and width");
        }
        nchw_[static_cast<size_t>(out)] = keep;
    }

    void reshape(const tfl_op & op) {
        const int32_t out = op.outputs[0];
        const tfl_tensor & in = tensor(op.inputs[0]);
        const std::vector<int32_t> & shape = tensor(out).shape;
        if (shape.size() != 2 || shape[0] != 1) {
            throw runtime_error("onnx export: RESHAPE '" + tensor(out).name + "' to other than [1, n]");
        }
        std::string src = value(op.inputs[0], op);
        // TFLite flattens NHWC: a feature map with more than one position is
        // put back in that order first, so the FC weights keep their meaning.
        if (nchw_[static_cast<size_t>(op.inputs[0])] && in.shape.size() == 4 && in.shape[1] * in.shape[2] > 1) {
            const std::string t = unique(tensor(out).name + "/nhwc");
            attr(node("Transpose", {src}, t), "perm", std::vector<int64_t>{0, 2, 3, 1});
            src = t;
        }
        node("Reshape", {src, initializer_i64(tensor(out).name + "/shape", {-1, shape[1]})}, output_name(out));
        nchw_[static_cast<size_t>(out)] = false;
    }

    const tfl_model & m_;
    onnx::GraphProto * g_ = nullptr;
    std::vector<std::string> names_;
    std::vector<bool> nchw_;
    std::set<std::string> used_;
    std::map<std::string, int> counts_;
    std::vector<std::string> order_;
};

std::string metadata_value(const tfl_model & m, const std::string & key) {
    for (const auto & kv : m.metadata) {
        if (kv.first == key) {
            return kv.second;
        }
    }
    return "";
}

// fer.info rewritten for the ONNX file: format, layout of input and features.
std::string onnx_info(const std::string & tflite_info, int channels) {
    std::istringstream in(tflite_info);
    std::string line, out;
    for (std::string line; std::getline(in, line);) {
        const std::string key = line.substr(0, line.find('='));
        if (key == "format") {
            line = "format=fer-onnx 1";
        } else if (key == "input") {
            line = "input=[N, " + std::to_string(channels) + ", 48, 48] NCHW float32 (grey), input name \"input\"";
        } else if (key == "cam") {
            line = "cam=features: output 1, the last feature map [N, C, h, w] (NCHW); CAM_k = sum_c W_fc[k,c] * features[c]";
        }
        out += line + "\n";
    }
    return out;
}

void add_metadata(onnx::ModelProto & model, const tfl_model & m) {
    auto prop = [&](const std::string & k, const std::string & v) {
        auto * p = model.add_metadata_props();
        p->set_key(k);
        p->set_value(v);
    };
    const int channels = m.tensors.at(static_cast<size_t>(m.inputs.at(0))).shape.at(3);
    const std::string info = onnx_info(metadata_value(m, "fer.info"), channels);
    const std::string labels = metadata_value(m, "fer.labels");
    // The TFLite file's two entries, verbatim in form, so one reader serves both ...
    prop("fer.labels", labels);
    prop("fer.info", info);
    // ... and each key on its own for tools that list metadata_props (e.g.
    // onnxruntime's modelMetadata.customMetadataMap).
    std::istringstream in(info);
    std::string version;
    for (std::string line; std::getline(in, line);) {
        const size_t eq = line.find('=');
        if (eq != std::string::npos) {
            prop(line.substr(0, eq), line.substr(eq + 1));
            if (line.substr(0, eq) == "version") {
                version = line.substr(eq + 1);
            }
        }
    }
    std::string csv = labels;
    for (char & c : csv) {
        c = c == '\n' ? ',' : c;
    }
    while (!csv.empty() && csv.back() == ',') {
        csv.pop_back();
    }
    prop("labels", csv);
    model.mutable_graph()->set_name("fer");
    for (const auto & p : model.metadata_props()) {
        if (p.key() == "model") {
            model.mutable_graph()->set_name("fer " + p.value());
        }
    }
    model.set_producer_name("fer");
    model.set_producer_version("fer export --format onnx");
    model.set_doc_string(m.description);
    char * end = nullptr;
    const long long v = std::strtoll(version.c_str(), &end, 10);
    if (!version.empty() && end && *end == '\0' && v >= 0) {
        model.set_model_version(v);
    }
}

}  // namespace

std::string onnx_check(const std::string & bytes) {
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) {
        return "not an ONNX ModelProto (protobuf parse failed)";
    }
    try {
        onnx::checker::check_model(model);
        // Strict: every node's shape inference must succeed and agree with
        // the declared output shapes.
        onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                           onnx::ShapeInferenceOptions(true, 1, false));
    } catch (const std::exception & e) {
        return e.what();
    }
    return "";
}

onnx_description onnx_describe(const std::string & bytes) {
    onnx::ModelProto model;
    if (!model.ParseFromString(bytes)) {
        throw runtime_error("not an ONNX ModelProto (protobuf parse failed)");
    }
    onnx_description d;
    for (const auto & o : model.opset_import()) {
        d.opset = o.domain().empty() ? o.version() : d.opset;
    }
    for (const auto & v : model.graph().input()) {
        d.inputs.push_back(v.name());
    }
    for (const auto & v : model.graph().output()) {
        d.outputs.push_back(v.name());
    }
    for (const auto & p : model.metadata_props()) {
        d.metadata[p.key()] = p.value();
    }
    return d;
}

std::string tflite_to_onnx(const tfl_model & m, onnx_export_summary * summary) {
    converter c(m);
    onnx::ModelProto model = c.run();
    add_metadata(model, m);
    std::string bytes;
    if (!model.SerializeToString(&bytes)) {
        throw runtime_error("onnx export: protobuf serialisation failed");
    }
    const std::string problem = onnx_check(bytes);
    if (!problem.empty()) {
        throw runtime_error("onnx export: ONNX's checker rejects the graph: " + problem);
    }
    if (summary) {
        summary->opset = k_opset;
        summary->ir_version = k_ir_version;
        summary->n_nodes = model.graph().node_size();
        summary->op_list = c.op_list();
    }
    return bytes;
}

}  // namespace fer
