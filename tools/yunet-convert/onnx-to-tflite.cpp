#include "onnx-to-tflite.h"

#include "error.h"

#include <algorithm>
#include <map>
#include <set>

namespace fer {

namespace {

// A tensor of the ONNX graph as it lives in the TFLite graph.
struct value {
    int32_t tensor = -1;
    std::vector<int32_t> shape;      // the TFLite tensor's shape (NHWC for feature maps)
    std::vector<int64_t> onnx_dims;  // the shape ONNX gives it
    // true: ONNX sees [N, C, H, W] of our [N, H, W, C] tensor (a feature map);
    // false: ONNX's row-major bytes are ours (after a Transpose to NHWC).
    bool nchw = true;
};

// A small integer vector computed at conversion time (the Shape -> Gather ->
// Unsqueeze -> Concat chains that build Reshape targets).
struct int_const {
    std::vector<int64_t> v;
    bool scalar = false;
};

class converter {
public:
    converter(const onnx::graph & g, const onnx_convert_options & opt, std::vector<std::string> * notes)
        : g_(g), opt_(opt), notes_(notes) {}

    tfl_model run() {
        for (const auto & n : g_.nodes) {
            for (const auto & in : n.inputs) {
                ++consumers_[in];
            }
        }
        for (const auto & out : g_.outputs) {
            ++consumers_[out.name];  // a graph output is never fused away
        }
        for (const auto & [name, t] : g_.initializers) {
            if (t.data_type == onnx::dt_int64 || t.data_type == onnx::dt_int32) {
                consts_[name] = {t.ints, t.dims.empty()};
            }
        }
        add_input();
        for (size_t i = 0; i < g_.nodes.size(); ++i) {
            node_index_ = i;
            const onnx::node & n = g_.nodes[i];
            if (skip_.count(i)) {
                continue;
            }
            convert(n);
        }
        set_outputs();
        return m_;
    }

private:
    const onnx::graph & g_;
    const onnx_convert_options & opt_;
    std::vector<std::string> * notes_;
    tfl_model m_;
    std::map<std::string, value> vals_;
    std::map<std::string, int_const> consts_;
    std::map<std::string, int> consumers_;
    std::set<size_t> skip_;  // nodes folded into an earlier one (fused Relu)
    size_t node_index_ = 0;

    [[noreturn]] void fail(const std::string & msg) const {
        const onnx::node & n = g_.nodes[node_index_];
        throw input_error(opt_.what + ": node " + std::to_string(node_index_) + " (" + n.op_type + " -> '" +
                          (n.outputs.empty() ? std::string("?") : n.outputs[0]) + "'): " + msg);
    }

    void note(const std::string & s) {
        if (notes_) {
            notes_->push_back(s);
        }
    }

    int32_t add_tensor(tfl_tensor t) {
        m_.tensors.push_back(std::move(t));
        return static_cast<int32_t>(m_.tensors.size() - 1);
    }

    const value & input(const onnx::node & n, size_t i) const {
        if (i >= n.inputs.size() || n.inputs[i].empty()) {
            fail("input " + std::to_string(i) + " is missing");
        }
        auto it = vals_.find(n.inputs[i]);
        if (it == vals_.end()) {
            fail("input '" + n.inputs[i] + "' is not a tensor computed before this node (or is a constant, "
                 "which this converter takes only as weights)");
        }
        return it->second;
    }

    const onnx::tensor & init(const onnx::node & n, size_t i, int type) const {
        if (i >= n.inputs.size() || n.inputs[i].empty()) {
            fail("input " + std::to_string(i) + " is missing");
        }
        auto it = g_.initializers.find(n.inputs[i]);
        if (it == g_.initializers.end()) {
            fail("input '" + n.inputs[i] + "' must be an initializer (a constant)");
        }
        if (it->second.data_type != type) {
            fail("initializer '" + n.inputs[i] + "' has data type " + std::to_string(it->second.data_type) +
                 ", expected " + std::to_string(type));
        }
        return it->second;
    }

    int64_t attr_int(const onnx::node & n, const char * name, int64_t def) const {
        const onnx::attribute * a = n.find(name);
        return a ? a->i : def;
    }
    std::vector<int64_t> attr_ints(const onnx::node & n, const char * name, std::vector<int64_t> def) const {
        const onnx::attribute * a = n.find(name);
        return a ? a->ints : def;
    }
    std::string attr_str(const onnx::node & n, const char * name, const std::string & def) const {
        const onnx::attribute * a = n.find(name);
        return a ? a->s : def;
    }

    void define(const std::string & name, value v) {
        if (vals_.count(name) || consts_.count(name)) {
            fail("tensor '" + name + "' is written twice");
        }
        vals_[name] = std::move(v);
    }

    // A feature-map value for a new activation tensor [1, h, w, c].
    value feature(const std::string & name, int32_t h, int32_t w, int32_t c) {
        value v;
        v.shape = {1, h, w, c};
        v.onnx_dims = {1, c, h, w};
        v.tensor = add_tensor(tfl_activation_tensor(name, v.shape));
        return v;
    }

    void add_input() {
        if (g_.inputs.size() != 1) {
            throw input_error(opt_.what + ": the graph has " + std::to_string(g_.inputs.size()) +
                              " inputs; one image input is expected");
        }
        const onnx::value_info & in = g_.inputs[0];
        if (in.elem_type != onnx::dt_float || in.dims.size() != 4 || in.dims[1] <= 0) {
            throw input_error(opt_.what + ": input '" + in.name + "' is not a float32 [N, C, H, W] tensor with known C");
        }
        const int64_t h = opt_.input_height, w = opt_.input_width;
        if ((in.dims[2] > 0 && in.dims[2] != h) || (in.dims[3] > 0 && in.dims[3] != w)) {
            throw input_error(opt_.what + ": input '" + in.name + "' is fixed at " + std::to_string(in.dims[2]) + "x" +
                              std::to_string(in.dims[3]) + ", not the requested " + std::to_string(h) + "x" +
                              std::to_string(w));
        }
        value v;
        v.shape = {1, static_cast<int32_t>(h), static_cast<int32_t>(w), static_cast<int32_t>(in.dims[1])};
        v.onnx_dims = {1, in.dims[1], h, w};
        v.tensor = add_tensor(tfl_activation_tensor(opt_.input_name, v.shape));
        vals_[in.name] = v;
        m_.inputs = {v.tensor};
    }

    // The activation fused into the op writing `out`: RELU when its one
    // consumer is a Relu node (which is then skipped); returns the name of the
    // tensor the fused op writes.
    std::string fuse_relu(const std::string & out, int & act) {
        act = tfl_act_none;
        if (consumers_[out] != 1) {
            return out;
        }
        for (size_t k = node_index_ + 1; k < g_.nodes.size(); ++k) {
            const onnx::node & r = g_.nodes[k];
            if (std::find(r.inputs.begin(), r.inputs.end(), out) == r.inputs.end()) {
                continue;
            }
            if (r.op_type == "Relu" && r.outputs.size() == 1) {
                skip_.insert(k);
                act = tfl_act_relu;
                return r.outputs[0];
            }
            break;
        }
        return out;
    }

    void convert(const onnx::node & n) {
        if (!n.domain.empty() && n.domain != "ai.onnx") {
            fail("domain '" + n.domain + "' is not supported");
        }
        const std::string & t = n.op_type;
        if (n.outputs.empty()) {
            fail("node without outputs");
        }
        if (t == "Conv") {
            conv(n);
        } else if (t == "MaxPool") {
            maxpool(n);
        } else if (t == "Resize") {
            resize(n);
        } else if (t == "Add") {
            add(n);
        } else if (t == "Sigmoid") {
            const value & x = input(n, 0);
            value v = x;
            v.tensor = add_tensor(tfl_activation_tensor(n.outputs[0], x.shape));
            m_.ops.push_back(tfl_logistic_op(x.tensor, v.tensor));
            define(n.outputs[0], v);
        } else if (t == "Transpose") {
            transpose(n);
        } else if (t == "Reshape") {
            reshape(n);
        } else if (t == "Shape" || t == "Gather" || t == "Unsqueeze" || t == "Concat") {
            shape_arith(n);
        } else if (t == "Relu") {
            fail("a Relu that does not follow a Conv or Add as its only consumer");
        } else {
            fail("operator not supported by this converter");
        }
    }

    // TFLite SAME padding (before, after) along one axis.
    static std::pair<int64_t, int64_t> same_pads(int64_t in, int64_t k, int64_t s) {
        const int64_t out = (in + s - 1) / s;
        const int64_t total = std::max<int64_t>((out - 1) * s + k - in, 0);
        return {total / 2, total - total / 2};
    }

    void conv(const onnx::node & n) {
        const value x = input(n, 0);
        if (!x.nchw) {
            fail("Conv on a tensor that is no longer a feature map");
        }
        const onnx::tensor & w = init(n, 1, onnx::dt_float);
        if (w.dims.size() != 4) {
            fail("weights '" + w.name + "' are not 4-D (OIHW)");
        }
        const int64_t o = w.dims[0], i = w.dims[1], kh = w.dims[2], kw = w.dims[3];
        if (o < 1 || i < 1 || kh < 1 || kw < 1) {
            fail("weights '" + w.name + "' have an empty dimension");
        }
        const int64_t c_in = x.shape[3], group = attr_int(n, "group", 1);
        const std::vector<int64_t> ks = attr_ints(n, "kernel_shape", {kh, kw});
        const std::vector<int64_t> st = attr_ints(n, "strides", {1, 1});
        const std::vector<int64_t> dl = attr_ints(n, "dilations", {1, 1});
        const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});  // top, left, bottom, right
        const std::string auto_pad = attr_str(n, "auto_pad", "NOTSET");
        if (ks.size() != 2 || ks[0] != kh || ks[1] != kw || st.size() != 2 || pads.size() != 4 || dl.size() != 2) {
            fail("kernel_shape, strides or pads do not describe a 2-D convolution with " + w.name + "'s kernel");
        }
        if (dl[0] != 1 || dl[1] != 1 || auto_pad != "NOTSET") {
            fail("dilations other than 1 and auto_pad are not supported");
        }
        if (st[0] != st[1] || st[0] < 1) {
            fail("unequal or invalid strides");
        }
        // Depthwise: one filter per input channel (for one channel the plain
        // and depthwise forms are the same, and depthwise is the cheaper one).
        const bool depthwise = group == c_in && i == 1 && o == c_in;
        if (!depthwise && !(group == 1 && i == c_in)) {
            fail("group " + std::to_string(group) + " with weights [" + std::to_string(o) + ", " + std::to_string(i) +
                 ", ...] on " + std::to_string(c_in) + " channels is neither a plain nor a depthwise convolution");
        }
        std::vector<float> bias(static_cast<size_t>(o), 0.0f);
        if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
            const onnx::tensor & b = init(n, 2, onnx::dt_float);
            if (b.count() != o) {
                fail("bias '" + b.name + "' has " + std::to_string(b.count()) + " values for " + std::to_string(o) +
                     " filters");
            }
            bias = b.floats;
        }
        const int64_t s = st[0];
        const int64_t h = x.shape[1], wd = x.shape[2];
        const int64_t oh = (h + pads[0] + pads[2] - kh) / s + 1, ow = (wd + pads[1] + pads[3] - kw) / s + 1;
        if (oh < 1 || ow < 1) {
            fail("the kernel is larger than the padded input");
        }
        // Padding: SAME where TFLite's SAME rule pads exactly as ONNX does;
        // otherwise (e.g. a stride-2 3x3 conv with pads 1 on an even size:
        // SAME pads 0 before and 1 after, ONNX 1 and 1) an explicit PAD and VALID.
        int padding = tfl_valid;
        int32_t in_tensor = x.tensor;
        const auto sp_h = same_pads(h, kh, s), sp_w = same_pads(wd, kw, s);
        const bool zero = pads[0] == 0 && pads[1] == 0 && pads[2] == 0 && pads[3] == 0;
        if (sp_h == std::make_pair(pads[0], pads[2]) && sp_w == std::make_pair(pads[1], pads[3])) {
            padding = tfl_same;
        } else if (!zero) {
            const int32_t paddings = add_tensor(tfl_const_i32(n.outputs[0] + "_paddings", {4, 2},
                                                              {0, 0, static_cast<int32_t>(pads[0]),
                                                               static_cast<int32_t>(pads[2]),
                                                               static_cast<int32_t>(pads[1]),
                                                               static_cast<int32_t>(pads[3]), 0, 0}));
            const std::vector<int32_t> ps = {1, static_cast<int32_t>(h + pads[0] + pads[2]),
                                             static_cast<int32_t>(wd + pads[1] + pads[3]), x.shape[3]};
            const int32_t padded = add_tensor(tfl_activation_tensor(n.inputs[0] + "_padded", ps));
            m_.ops.push_back(tfl_pad_op(x.tensor, paddings, padded));
            in_tensor = padded;
            note("Conv -> '" + n.outputs[0] + "' (" + std::to_string(kh) + "x" + std::to_string(kw) + " stride " +
                 std::to_string(s) + ", pads " + std::to_string(pads[0]) + "," + std::to_string(pads[1]) + "," +
                 std::to_string(pads[2]) + "," + std::to_string(pads[3]) + " on " + std::to_string(h) + "x" +
                 std::to_string(wd) + "): TFLite SAME would pad " + std::to_string(sp_h.first) + "," +
                 std::to_string(sp_w.first) + "," + std::to_string(sp_h.second) + "," + std::to_string(sp_w.second) +
                 ", so an explicit PAD + VALID convolution");
        }
        int act = tfl_act_none;
        const std::string out_name = fuse_relu(n.outputs[0], act);
        // Weights: OIHW -> OHWI (plain) or [1, kh, kw, O] (depthwise).
        std::vector<float> wt(w.floats.size());
        for (int64_t a = 0; a < o; ++a) {
            for (int64_t b = 0; b < i; ++b) {
                for (int64_t y = 0; y < kh; ++y) {
                    for (int64_t xx = 0; xx < kw; ++xx) {
                        const float v = w.floats[static_cast<size_t>(((a * i + b) * kh + y) * kw + xx)];
                        const int64_t at = depthwise ? (y * kw + xx) * o + a : ((a * kh + y) * kw + xx) * i + b;
                        wt[static_cast<size_t>(at)] = v;
                    }
                }
            }
        }
        const std::vector<int32_t> wshape = depthwise ? std::vector<int32_t>{1, static_cast<int32_t>(kh),
                                                                              static_cast<int32_t>(kw), static_cast<int32_t>(o)}
                                                      : std::vector<int32_t>{static_cast<int32_t>(o), static_cast<int32_t>(kh),
                                                                             static_cast<int32_t>(kw), static_cast<int32_t>(i)};
        const int32_t wi = add_tensor(tfl_const_f32(w.name, wshape, wt));
        const int32_t bi = add_tensor(tfl_const_f32(n.outputs[0] + "_bias", {static_cast<int32_t>(o)}, bias));
        value v = feature(out_name, static_cast<int32_t>(oh), static_cast<int32_t>(ow), static_cast<int32_t>(o));
        const int stride = static_cast<int>(s);
        m_.ops.push_back(depthwise ? tfl_depthwise(in_tensor, wi, bi, v.tensor, padding, stride, 1, act)
                                   : tfl_conv(in_tensor, wi, bi, v.tensor, padding, stride, act));
        // the padded size gives the same output under VALID as ONNX's formula
        define(out_name, v);
    }

    void maxpool(const onnx::node & n) {
        const value x = input(n, 0);
        const std::vector<int64_t> ks = attr_ints(n, "kernel_shape", {});
        const std::vector<int64_t> st = attr_ints(n, "strides", {1, 1});
        const std::vector<int64_t> pads = attr_ints(n, "pads", {0, 0, 0, 0});
        if (!x.nchw || ks.size() != 2 || ks[0] != ks[1] || st.size() != 2 || st[0] != st[1]) {
            fail("only square 2-D max pooling of a feature map is supported");
        }
        if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }) ||
            attr_int(n, "ceil_mode", 0) != 0 || attr_str(n, "auto_pad", "NOTSET") != "NOTSET") {
            fail("padded or ceil-mode pooling is not supported");
        }
        const int64_t k = ks[0], s = st[0];
        if (k < 1 || s < 1 || k > x.shape[1] || k > x.shape[2]) {
            fail("pooling window " + std::to_string(k) + ", stride " + std::to_string(s) + " does not fit the " +
                 std::to_string(x.shape[1]) + "x" + std::to_string(x.shape[2]) + " input");
        }
        const int64_t oh = (x.shape[1] - k) / s + 1, ow = (x.shape[2] - k) / s + 1;  // ONNX floor rule == TFLite VALID
        value v = feature(n.outputs[0], static_cast<int32_t>(oh), static_cast<int32_t>(ow), x.shape[3]);
        m_.ops.push_back(tfl_pool(tfl_max_pool_2d, x.tensor, v.tensor, tfl_valid, static_cast<int>(k), static_cast<int>(s)));
        define(n.outputs[0], v);
    }

    void resize(const onnx::node & n) {
        const value x = input(n, 0);
        if (!x.nchw) {
            fail("Resize of a tensor that is no longer a feature map");
        }
        if (attr_str(n, "mode", "nearest") != "nearest" ||
            attr_str(n, "coordinate_transformation_mode", "half_pixel") != "asymmetric" ||
            attr_str(n, "nearest_mode", "round_prefer_floor") != "floor") {
            fail("only mode=nearest, coordinate_transformation_mode=asymmetric, nearest_mode=floor is supported "
                 "(TFLite RESIZE_NEAREST_NEIGHBOR without align_corners and half_pixel_centers)");
        }
        int64_t oh = 0, ow = 0;
        if (n.inputs.size() > 3 && !n.inputs[3].empty()) {
            const onnx::tensor & sz = init(n, 3, onnx::dt_int64);
            if (sz.count() != 4 || sz.ints[0] != 1 || sz.ints[1] != x.onnx_dims[1]) {
                fail("sizes must be [1, C, H, W] with the input's C");
            }
            oh = sz.ints[2];
            ow = sz.ints[3];
        } else {
            const onnx::tensor & sc = init(n, 2, onnx::dt_float);
            if (sc.count() != 4 || sc.floats[0] != 1.0f || sc.floats[1] != 1.0f) {
                fail("scales must be [1, 1, sh, sw]");
            }
            oh = static_cast<int64_t>(x.shape[1] * static_cast<double>(sc.floats[2]));
            ow = static_cast<int64_t>(x.shape[2] * static_cast<double>(sc.floats[3]));
            // ONNX maps y to floor(y / scale), TFLite to floor(y * in / out):
            // the same only when scale == out / in exactly.
            if (static_cast<double>(oh) / x.shape[1] != sc.floats[2] || static_cast<double>(ow) / x.shape[2] != sc.floats[3]) {
                fail("scales that do not give a whole output size are not supported");
            }
        }
        // Whole upsampling factors only: then both rules pick in[y / k] exactly.
        if (oh < x.shape[1] || ow < x.shape[2] || oh % x.shape[1] || ow % x.shape[2]) {
            fail("only upsampling by whole factors is supported");
        }
        const int32_t size = add_tensor(
            tfl_const_i32(n.outputs[0] + "_size", {2}, {static_cast<int32_t>(oh), static_cast<int32_t>(ow)}));
        value v = feature(n.outputs[0], static_cast<int32_t>(oh), static_cast<int32_t>(ow), x.shape[3]);
        m_.ops.push_back(tfl_resize_nearest_op(x.tensor, size, v.tensor));
        define(n.outputs[0], v);
    }

    void add(const onnx::node & n) {
        const value a = input(n, 0), b = input(n, 1);
        if (a.shape != b.shape || a.nchw != b.nchw) {
            fail("Add of tensors of different shapes (broadcasting is not supported)");
        }
        int act = tfl_act_none;
        const std::string out_name = fuse_relu(n.outputs[0], act);
        value v = a;
        v.tensor = add_tensor(tfl_activation_tensor(out_name, a.shape));
        m_.ops.push_back(tfl_add_op(a.tensor, b.tensor, v.tensor, act));
        define(out_name, v);
    }

    void transpose(const onnx::node & n) {
        const value & x = input(n, 0);
        if (!x.nchw || attr_ints(n, "perm", {}) != std::vector<int64_t>{0, 2, 3, 1}) {
            fail("only the NCHW -> NHWC transpose (perm 0,2,3,1) of a feature map is supported");
        }
        value v = x;  // the same bytes: in NHWC the transpose is the identity
        v.nchw = false;
        v.onnx_dims = {x.onnx_dims[0], x.onnx_dims[2], x.onnx_dims[3], x.onnx_dims[1]};
        define(n.outputs[0], v);
    }

    void reshape(const onnx::node & n) {
        const value & x = input(n, 0);
        auto it = consts_.find(n.inputs.size() > 1 ? n.inputs[1] : std::string());
        if (it == consts_.end()) {
            fail("the target shape is not a constant this converter can compute");
        }
        std::vector<int64_t> dims = it->second.v;
        int64_t total = 1, known = 1;
        for (int64_t d : x.onnx_dims) {
            total *= d;
        }
        int minus = -1;
        for (size_t k = 0; k < dims.size(); ++k) {
            if (dims[k] == 0 && k < x.onnx_dims.size()) {
                dims[k] = x.onnx_dims[k];  // 0 copies the input's dimension
            }
            if (dims[k] == -1) {
                if (minus >= 0) {
                    fail("more than one -1 in the target shape");
                }
                minus = static_cast<int>(k);
            } else if (dims[k] <= 0) {
                fail("invalid target dimension " + std::to_string(dims[k]));
            } else {
                known *= dims[k];
            }
        }
        if (minus >= 0) {
            dims[static_cast<size_t>(minus)] = known ? total / known : 0;
            known *= dims[static_cast<size_t>(minus)];
        }
        if (known != total) {
            fail("the target shape has " + std::to_string(known) + " elements, the input " + std::to_string(total));
        }
        // Row-major bytes are kept by a reshape; ours equal ONNX's only after
        // the transpose to NHWC, so the TFLite tensor (still [1, h, w, C]) stands
        // for the reshaped value as long as C stays the last dimension.
        if (x.nchw || dims.empty() || dims.back() != x.shape.back()) {
            fail("only a reshape of an NHWC-transposed map that keeps channels last is supported");
        }
        value v = x;
        v.onnx_dims = dims;
        define(n.outputs[0], v);
    }

    // Shape, Gather, Unsqueeze and Concat on small integer vectors.
    void shape_arith(const onnx::node & n) {
        const std::string & t = n.op_type;
        int_const r;
        auto cin = [&](size_t i) -> const int_const & {
            auto it = consts_.find(i < n.inputs.size() ? n.inputs[i] : std::string());
            if (it == consts_.end()) {
                fail("input " + std::to_string(i) + " is not a constant integer vector");
            }
            return it->second;
        };
        if (t == "Shape") {
            r.v = input(n, 0).onnx_dims;
        } else if (t == "Gather") {
            const int_const & data = cin(0), & idx = cin(1);
            if (attr_int(n, "axis", 0) != 0 || data.scalar) {
                fail("Gather other than axis 0 of a vector");
            }
            for (int64_t k : idx.v) {
                const int64_t j = k < 0 ? k + static_cast<int64_t>(data.v.size()) : k;
                if (j < 0 || j >= static_cast<int64_t>(data.v.size())) {
                    fail("Gather index " + std::to_string(k) + " out of range");
                }
                r.v.push_back(data.v[static_cast<size_t>(j)]);
            }
            r.scalar = idx.scalar;
        } else if (t == "Unsqueeze") {
            const int_const & data = cin(0);
            if (!data.scalar || attr_ints(n, "axes", {}) != std::vector<int64_t>{0}) {
                fail("only Unsqueeze of a scalar along axis 0 is supported");
            }
            r.v = data.v;
        } else {  // Concat
            if (attr_int(n, "axis", 0) != 0) {
                fail("Concat of integer vectors other than along axis 0");
            }
            for (size_t i = 0; i < n.inputs.size(); ++i) {
                const int_const & c = cin(i);
                if (c.scalar) {
                    fail("Concat of a scalar");
                }
                r.v.insert(r.v.end(), c.v.begin(), c.v.end());
            }
        }
        if (consts_.count(n.outputs[0]) || vals_.count(n.outputs[0])) {
            fail("tensor '" + n.outputs[0] + "' is written twice");
        }
        consts_[n.outputs[0]] = r;
    }

    void set_outputs() {
        std::set<int32_t> used;
        for (const auto & out : g_.outputs) {
            auto it = vals_.find(out.name);
            if (it == vals_.end()) {
                throw input_error(opt_.what + ": graph output '" + out.name + "' is not computed by a converted node");
            }
            const value & v = it->second;
            if (v.nchw && v.shape[3] != 1) {
                throw input_error(opt_.what + ": graph output '" + out.name +
                                  "' is an NCHW feature map; only NHWC-transposed outputs keep ONNX's byte order");
            }
            if (!used.insert(v.tensor).second) {
                throw input_error(opt_.what + ": two graph outputs are the same tensor ('" + out.name + "')");
            }
            m_.tensors[static_cast<size_t>(v.tensor)].name = out.name;
            m_.outputs.push_back(v.tensor);
        }
    }
};

}  // namespace

tfl_model onnx_to_tflite(const onnx::model & m, const onnx_convert_options & opt, std::vector<std::string> * notes) {
    return converter(m.g, opt, notes).run();
}

}  // namespace fer
