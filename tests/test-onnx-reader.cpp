// The ONNX reader and graph converter of tools/yunet-convert on models
// encoded by hand here (wire format facts of protobuf and onnx.proto field
// numbers), every truncation of one, and fer-convert-yunet on broken files.

#include "onnx-reader.h"
#include "onnx-to-tflite.h"
#include "test-util.h"

#include "fer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using fer_test::expect_error;

namespace {

// A protobuf message writer (just enough for the tests).
struct pb {
    std::string b;
    pb & varint(uint64_t v) {
        while (v >= 0x80) {
            b += static_cast<char>((v & 0x7f) | 0x80);
            v >>= 7;
        }
        b += static_cast<char>(v);
        return *this;
    }
    pb & key(int field, int wire) { return varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire)); }
    pb & i(int field, int64_t v) { return key(field, 0).varint(static_cast<uint64_t>(v)); }
    pb & s(int field, const std::string & x) {
        key(field, 2).varint(x.size());
        b += x;
        return *this;
    }
    pb & m(int field, const pb & sub) { return s(field, sub.b); }
    pb & f(int field, float v) {
        key(field, 5);
        char c[4];
        std::memcpy(c, &v, 4);
        b.append(c, 4);
        return *this;
    }
    pb & packed_ints(int field, const std::vector<int64_t> & v) {
        pb body;
        for (int64_t x : v) {
            body.varint(static_cast<uint64_t>(x));
        }
        return m(field, body);
    }
    pb & packed_floats(int field, const std::vector<float> & v) {
        std::string body(v.size() * 4, '\0');
        std::memcpy(body.data(), v.data(), body.size());
        return s(field, body);
    }
};

std::string raw_floats(const std::vector<float> & v) {
    std::string r(v.size() * 4, '\0');
    std::memcpy(r.data(), v.data(), r.size());
    return r;
}

pb attr_ints(const std::string & name, const std::vector<int64_t> & v) {
    return pb().s(1, name).i(20, 7).packed_ints(8, v);
}
pb attr_int(const std::string & name, int64_t v) { return pb().s(1, name).i(20, 2).i(3, v); }

pb value_info(const std::string & name, const std::vector<int64_t> & dims) {
    pb shape;
    for (int64_t d : dims) {
        shape.m(1, d < 0 ? pb().s(2, "batch") : pb().i(1, d));
    }
    return pb().s(1, name).m(2, pb().m(1, pb().i(1, 1).m(2, shape)));
}

// Input [N, 3, 8, 8] -> Conv 3x3 stride 2 pads 1 (2 filters) -> Relu ->
// Transpose to NHWC -> `last_op` -> output [N, 4, 4, 2].
std::string tiny_model(const std::string & last_op = "Sigmoid") {
    std::vector<float> w(2 * 3 * 3 * 3);
    for (size_t k = 0; k < w.size(); ++k) {
        w[k] = 0.01f * static_cast<float>(k);
    }
    pb conv;
    conv.s(1, "input").s(1, "w").s(1, "b").s(2, "c").s(3, "conv0").s(4, "Conv");
    conv.m(5, attr_ints("kernel_shape", {3, 3})).m(5, attr_ints("pads", {1, 1, 1, 1})).m(5, attr_ints("strides", {2, 2}));
    conv.m(5, attr_int("group", 1));
    pb relu;
    relu.s(1, "c").s(2, "r").s(4, "Relu");
    pb tr;
    tr.s(1, "r").s(2, "t").s(4, "Transpose").m(5, attr_ints("perm", {0, 2, 3, 1}));
    pb sig;
    sig.s(1, "t").s(2, "y").s(4, last_op);
    pb g;
    g.m(1, conv).m(1, relu).m(1, tr).m(1, sig).s(2, "tiny");
    // weights: dims unpacked, raw_data; bias: packed dims, float_data packed
    g.m(5, pb().i(1, 2).i(1, 3).i(1, 3).i(1, 3).i(2, 1).s(8, "w").s(9, raw_floats(w)));
    g.m(5, pb().packed_ints(1, {2}).i(2, 1).packed_floats(4, {0.5f, -0.25f}).s(8, "b"));
    g.m(5, pb().packed_ints(1, {2}).i(2, 7).packed_ints(7, {-1, 5}).s(8, "shape"));
    g.m(11, value_info("input", {-1, 3, -1, -1})).m(11, value_info("w", {2, 3, 3, 3}));
    g.m(12, value_info("y", {-1, 4, 4, 2}));
    pb model;
    model.i(1, 6).s(2, "hand").m(7, g).m(8, pb().s(1, "").i(2, 11));  // opset last: every prefix lacks it
    return model.b;
}

}  // namespace

TEST(OnnxReader, ReadsAHandEncodedModel) {
    const fer::onnx::model m = fer::onnx::read_model(tiny_model(), "tiny.onnx");
    EXPECT_EQ(m.ir_version, 6);
    EXPECT_EQ(m.opset, 11);
    EXPECT_EQ(m.producer_name, "hand");
    ASSERT_EQ(m.g.nodes.size(), 4u);
    const auto & conv = m.g.nodes[0];
    EXPECT_EQ(conv.op_type, "Conv");
    EXPECT_EQ(conv.inputs, (std::vector<std::string>{"input", "w", "b"}));
    ASSERT_NE(conv.find("pads"), nullptr);
    EXPECT_EQ(conv.find("pads")->ints, (std::vector<int64_t>{1, 1, 1, 1}));
    EXPECT_EQ(conv.find("group")->i, 1);
    const auto & w = m.g.initializers.at("w");
    EXPECT_EQ(w.dims, (std::vector<int64_t>{2, 3, 3, 3}));
    ASSERT_EQ(w.floats.size(), 54u);
    EXPECT_FLOAT_EQ(w.floats[53], 0.53f);
    EXPECT_EQ(m.g.initializers.at("b").floats, (std::vector<float>{0.5f, -0.25f}));
    EXPECT_EQ(m.g.initializers.at("shape").ints, (std::vector<int64_t>{-1, 5}));
    // "w" is listed among the inputs too (old exporters): only the real input stays
    ASSERT_EQ(m.g.inputs.size(), 1u);
    EXPECT_EQ(m.g.inputs[0].dims, (std::vector<int64_t>{-1, 3, -1, -1}));
    ASSERT_EQ(m.g.outputs.size(), 1u);
    EXPECT_EQ(m.g.outputs[0].name, "y");
}

TEST(OnnxReader, EveryTruncationIsAClearError) {
    const std::string full = tiny_model();
    for (size_t n = 0; n < full.size(); ++n) {
        SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
        expect_error([&] { fer::onnx::read_model(full.substr(0, n), "cut.onnx"); }, fer::error_kind::input,
                     "cut.onnx");
    }
}

TEST(OnnxReader, NamesTheBrokenField) {
    // raw_data of 5 bytes for 2 floats
    pb g;
    g.m(1, pb().s(1, "x").s(2, "y").s(4, "Relu"));
    g.m(5, pb().packed_ints(1, {2}).i(2, 1).s(8, "t").s(9, "12345"));
    const std::string bad = pb().i(1, 6).m(7, g).m(8, pb().i(2, 11)).b;
    expect_error([&] { fer::onnx::read_model(bad, "bad.onnx"); }, fer::error_kind::input,
                 {"bad.onnx", "initializer[0]", "tensor 't'", "raw_data has 5 bytes"});
    // a string field with a varint wire type
    const std::string wrong = pb().i(1, 6).m(7, pb().m(1, pb().i(4, 3))).b;
    expect_error([&] { fer::onnx::read_model(wrong, "wire.onnx"); }, fer::error_kind::input,
                 {"wire.onnx", "node[0]", "op_type"});
    expect_error([&] { fer::onnx::read_model("not a model at all", "text.onnx"); }, fer::error_kind::input,
                 "text.onnx");
}

TEST(OnnxConvert, ExplicitPadWhereTfliteSameDiffers) {
    const fer::onnx::model m = fer::onnx::read_model(tiny_model(), "tiny.onnx");
    fer::onnx_convert_options opt;
    opt.what = "tiny.onnx";
    opt.input_height = opt.input_width = 8;
    std::vector<std::string> notes;
    const fer::tfl_model t = fer::onnx_to_tflite(m, opt, &notes);
    // stride 2, pads 1 on 8 rows: TFLite SAME pads 0 before, 1 after; ONNX 1 and 1
    ASSERT_EQ(t.ops.size(), 3u);
    EXPECT_EQ(t.ops[0].builtin, fer::tfl_pad);
    EXPECT_EQ(t.ops[1].builtin, fer::tfl_conv_2d);
    EXPECT_EQ(t.ops[2].builtin, fer::tfl_logistic);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_NE(notes[0].find("explicit PAD"), std::string::npos) << notes[0];
    // the Relu is fused (RELU = 1 in Conv2DOptions' activation, field id 3)
    bool fused = false;
    for (const auto & f : t.ops[1].options) {
        fused |= f.id == 3 && f.ivalue == fer::tfl_act_relu;
    }
    EXPECT_TRUE(fused);
    // OIHW -> OHWI: filter 1, row 2, column 0, channel 1 = ONNX index ((1*3+1)*3+2)*3+0 = 42
    const fer::tfl_tensor & w = t.tensors[static_cast<size_t>(t.ops[1].inputs[1])];
    EXPECT_EQ(w.shape, (std::vector<int32_t>{2, 3, 3, 3}));
    float v;
    std::memcpy(&v, w.data.data() + 4 * (((1 * 3 + 2) * 3 + 0) * 3 + 1), 4);
    EXPECT_FLOAT_EQ(v, 0.42f);
    EXPECT_EQ(t.tensors[static_cast<size_t>(t.outputs[0])].shape, (std::vector<int32_t>{1, 4, 4, 2}));
}

TEST(OnnxConvert, RejectsAnUnsupportedOperatorByNode) {
    const fer::onnx::model m = fer::onnx::read_model(tiny_model("Softmax"), "soft.onnx");
    fer::onnx_convert_options opt;
    opt.what = "soft.onnx";
    opt.input_height = opt.input_width = 8;
    expect_error([&] { fer::onnx_to_tflite(m, opt, nullptr); }, fer::error_kind::input,
                 {"soft.onnx", "node 3", "Softmax", "not supported"});
}

#ifdef FER_CONVERT_YUNET_EXE
// The converter itself on a truncated copy of the real file (or of the hand
// model without ../shared): exit code 2 and a message naming the file.
TEST(YunetConvert, RejectsATruncatedOnnxFile) {
    fer_test::temp_dir dir("fer-onnx");
    const fs::path real = fs::path(FER_SHARED_DATA) / ".." / "models" / "yunet" / "yunet_n_dynamic.onnx";
    std::string bytes = tiny_model();
    if (fs::exists(real)) {
        std::ifstream f(real, std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(f), {});
    }
    const std::string cut = dir / "cut.onnx";
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() * 2 / 3);
    std::ofstream(dir / "SOURCE-COMMIT") << "0000 2024-01-01\n";
    const auto r = fer_test::run_command(std::string(FER_CONVERT_YUNET_EXE) + " --onnx " + cut + " --out " +
                                         (dir / "out.tflite") + " 2>&1");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(cut), std::string::npos) << r.out;
    EXPECT_TRUE(r.out.find("runs past the end") != std::string::npos || r.out.find("truncated") != std::string::npos)
        << r.out;
    EXPECT_FALSE(fs::exists(dir / "out.tflite"));
}
#endif

// The int8 pass on a detector-shaped graph (PAD, CONV_2D + RELU, LOGISTIC):
// the PAD stays float before the QUANTIZE, the LOGISTIC float behind a
// DEQUANTIZE; calibrated through fer_context_run, run by the runtime, close to
// the float graph. float_tail 1 keeps the convolution float too.
TEST(OnnxConvert, Int8PassOnADetectorGraph) {
    const fer::onnx::model m = fer::onnx::read_model(tiny_model(), "tiny.onnx");
    fer::onnx_convert_options opt;
    opt.input_height = opt.input_width = 8;
    fer::tfl_model f = fer::onnx_to_tflite(m, opt, nullptr);
    f.metadata = {{"fer.info", "task=face_detector\n"}};  // not a classifier: any input shape
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);  // keeps the sigmoid off saturation
    std::vector<std::vector<float>> inputs(6, std::vector<float>(8 * 8 * 3));
    for (auto & in : inputs) {
        for (float & v : in) {
            v = pixel(rng);
        }
    }
    const auto ranges = fer::calibrate_tflite(f, inputs);
    auto run = [&](const fer::tfl_model & g, const std::vector<float> & in) {
        const std::string bytes = fer::tflite_serialize(g);
        fer_model * model = fer_model_load_from_buffer(bytes.data(), bytes.size(), fer_model_default_params());
        EXPECT_NE(model, nullptr);
        fer_context * ctx = fer_context_new(model);
        EXPECT_EQ(fer_context_run(ctx, in.data(), in.size()), FER_OK);
        size_t n = 0;
        const float * out = fer_context_output(ctx, 0, &n);
        std::vector<float> r(out, out + n);
        fer_context_free(ctx);
        fer_model_free(model);
        return r;
    };
    for (int tail : {0, 1}) {
        SCOPED_TRACE("float_tail " + std::to_string(tail));
        const fer::tfl_model q = fer::quantize_tflite_int8(f, ranges, true, tail);
        std::vector<int> ops;
        for (const auto & op : q.ops) {
            ops.push_back(op.builtin);
        }
        const std::vector<int> want_ops =
            tail == 0 ? std::vector<int>{fer::tfl_pad, fer::tfl_quantize, fer::tfl_conv_2d, fer::tfl_dequantize, fer::tfl_logistic}
                      : std::vector<int>{fer::tfl_pad, fer::tfl_quantize, fer::tfl_dequantize, fer::tfl_conv_2d, fer::tfl_logistic};
        EXPECT_EQ(ops, want_ops);
        EXPECT_EQ(q.tensors[static_cast<size_t>(q.ops[0].outputs[0])].type, fer::tfl_float32);  // PAD in float
        const fer::tfl_tensor & w = q.tensors[static_cast<size_t>(q.ops[tail == 0 ? 2 : 3].inputs[1])];
        EXPECT_EQ(w.type, tail == 0 ? fer::tfl_int8 : fer::tfl_float32);
        ASSERT_EQ(q.outputs.size(), 1u);
        EXPECT_EQ(q.tensors[static_cast<size_t>(q.outputs[0])].name, "y");
        double max_diff = 0.0;
        for (const auto & in : inputs) {
            const std::vector<float> a = run(f, in), b = run(q, in);
            ASSERT_EQ(a.size(), b.size());
            for (size_t k = 0; k < a.size(); ++k) {
                max_diff = std::max(max_diff, static_cast<double>(std::fabs(a[k] - b[k])));
            }
        }
        std::printf("float_tail %d: max |int8 - float| = %.3g\n", tail, max_diff);
        EXPECT_LT(max_diff, 0.02) << "sigmoid outputs of the int8 graph against the float graph";
        EXPECT_GT(max_diff, 0.0) << "the int8 graph should not be bit-identical to the float one";
    }
}
