// Graphs that are not classifiers (face detectors): PAD, RESIZE_NEAREST_NEIGHBOR
// and LOGISTIC against hand-computed values, several outputs, an input size
// chosen at load (shapes derived through the graph), int8 PAD/RESIZE keeping
// their quantisation, and the rejections that keep such files honest. Plus
// the YuNet decoding and NMS (src/detect/yunet.h) on hand-computed cells.
#include "export-tflite.h"

#include "detect/yunet.h"
#include "fer-pipeline.h"
#include "kernels.h"
#include "fer.h"
#include "kernel-tester.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace fer;

namespace {

constexpr int k_pad = 34, k_logistic = 14, k_resize = 97;

struct log_capture {
    std::string text;
    fer_model_params params(int h = 0, int w = 0) {
        fer_model_params p = fer_model_default_params();
        p.log_user_data = this;
        p.log_callback = [](int, const char * msg, void * user) { static_cast<log_capture *>(user)->text += msg; };
        p.input_height = h;
        p.input_width = w;
        return p;
    }
};

tfl_op make_op(int builtin, std::vector<int32_t> in, int32_t out) {
    tfl_op op;
    op.builtin = builtin;
    op.inputs = std::move(in);
    op.outputs = {out};
    return op;
}

// input [1,h,w,c] -> PAD(1 top/left row, 0 bottom, 1 right col) -> RESIZE x2 -> out "up";
// input -> LOGISTIC -> out "sig". Two outputs, task face_detector.
tfl_model pad_resize_logistic(int h, int w, int c) {
    tfl_model m;
    m.tensors.push_back(tfl_activation_tensor("input", {1, h, w, c}));                   // 0
    m.tensors.push_back(tfl_const_i32("paddings", {4, 2}, {0, 0, 1, 0, 1, 1, 0, 0}));    // 1
    m.tensors.push_back(tfl_activation_tensor("padded", {1, h + 1, w + 2, c}));          // 2
    m.tensors.push_back(tfl_const_i32("size", {2}, {2 * (h + 1), 2 * (w + 2)}));         // 3
    m.tensors.push_back(tfl_activation_tensor("up", {1, 2 * (h + 1), 2 * (w + 2), c}));  // 4
    m.tensors.push_back(tfl_activation_tensor("sig", {1, h, w, c}));                     // 5
    m.ops.push_back(make_op(k_pad, {0, 1}, 2));
    m.ops.back().options_type = 22;
    tfl_op rz = make_op(k_resize, {2, 3}, 4);
    rz.options_type = 74;
    m.ops.push_back(rz);
    m.ops.push_back(make_op(k_logistic, {0}, 5));
    m.inputs = {0};
    m.outputs = {4, 5};
    m.metadata = {{"fer.info", "task=face_detector\n"}};
    return m;
}

fer_model * load(const tfl_model & m, log_capture & log, int h = 0, int w = 0) {
    const std::string bytes = tflite_serialize(m);
    return fer_model_load_from_buffer(bytes.data(), bytes.size(), log.params(h, w));
}

// What the graph computes, by hand: pad then nearest x2 (source = dst / 2).
float expected_up(const std::vector<float> & x, int h, int w, int c, int y, int xo, int k) {
    const int py = y / 2, px = xo / 2;  // position in the padded map
    const int sy = py - 1, sx = px - 1;
    if (sy < 0 || sx < 0 || sx >= w || sy >= h) {
        return 0.0f;
    }
    return x[(static_cast<size_t>(sy) * w + sx) * c + k];
}

void check_run(fer_model * model, int h, int w, int c) {
    fer_context * ctx = fer_context_new(model);
    ASSERT_NE(ctx, nullptr);
    std::vector<float> x(static_cast<size_t>(h) * w * c);
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] = static_cast<float>(static_cast<int>(i % 13) - 6) * 0.5f;
    }
    ASSERT_EQ(fer_context_run(ctx, x.data(), x.size()), FER_OK);
    size_t n_up = 0, n_sig = 0;
    const float * up = fer_context_output(ctx, 0, &n_up);
    const float * sig = fer_context_output(ctx, 1, &n_sig);
    ASSERT_NE(up, nullptr);
    ASSERT_NE(sig, nullptr);
    const int uh = 2 * (h + 1), uw = 2 * (w + 2);
    ASSERT_EQ(n_up, static_cast<size_t>(uh) * uw * c);
    ASSERT_EQ(n_sig, x.size());
    for (int y = 0; y < uh; ++y) {
        for (int xo = 0; xo < uw; ++xo) {
            for (int k = 0; k < c; ++k) {
                ASSERT_EQ(up[(static_cast<size_t>(y) * uw + xo) * c + k], expected_up(x, h, w, c, y, xo, k))
                    << "up at " << y << "," << xo << "," << k;
            }
        }
    }
    for (size_t i = 0; i < x.size(); ++i) {
        ASSERT_NEAR(sig[i], 1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))), 1e-6) << i;
    }
    // filled in place (fer_context_input): the same outputs, bit for bit, as from a caller's buffer; the
    // buffer is the input's size, and it is refilled before each run (later tensors may reuse it)
    const std::vector<float> up_copy(up, up + n_up), sig_copy(sig, sig + n_sig);
    for (int round = 0; round < 2; ++round) {
        size_t n_in = 0;
        float * in = fer_context_input(ctx, &n_in);
        ASSERT_NE(in, nullptr);
        ASSERT_EQ(n_in, x.size());
        std::copy(x.begin(), x.end(), in);
        ASSERT_EQ(fer_context_run(ctx, in, n_in), FER_OK);
        EXPECT_EQ(std::vector<float>(fer_context_output(ctx, 0, nullptr), fer_context_output(ctx, 0, nullptr) + n_up),
                  up_copy);
        EXPECT_EQ(std::vector<float>(fer_context_output(ctx, 1, nullptr), fer_context_output(ctx, 1, nullptr) + n_sig),
                  sig_copy);
    }
    EXPECT_EQ(fer_context_input(nullptr, nullptr), nullptr);
    // a wrong element count is refused, not read past
    EXPECT_EQ(fer_context_run(ctx, x.data(), x.size() - 1), FER_ERR_INVALID_ARGUMENT);
    // a detector is not a classifier
    fer_result r;
    EXPECT_EQ(fer_classify_f32(ctx, x.data(), &r), FER_ERR_UNSUPPORTED);
    fer_context_free(ctx);
}

TEST(GraphOps, PadResizeLogisticAndTwoOutputs) {
    log_capture log;
    fer_model * m = load(pad_resize_logistic(3, 4, 2), log);
    ASSERT_NE(m, nullptr) << log.text;
    EXPECT_STREQ(fer_model_task(m), "face_detector");
    ASSERT_EQ(fer_model_n_outputs(m), 2);
    EXPECT_STREQ(fer_model_output_name(m, 0), "up");
    EXPECT_STREQ(fer_model_output_name(m, 1), "sig");
    check_run(m, 3, 4, 2);
    fer_model_free(m);
}

TEST(GraphOps, InputSizeChosenAtLoadDerivesEveryShape) {
    log_capture log;
    fer_model * m = load(pad_resize_logistic(3, 4, 2), log, 7, 5);
    ASSERT_NE(m, nullptr) << log.text;
    int d[4];
    ASSERT_EQ(fer_model_input_dims(m, d), 4);
    EXPECT_EQ(d[1], 7);
    EXPECT_EQ(d[2], 5);
    ASSERT_EQ(fer_model_output_dims(m, 0, d), 4);
    EXPECT_EQ(d[1], 2 * 8);  // (7 + 1 padded) x 2: the file's whole factor 2 is kept
    EXPECT_EQ(d[2], 2 * 7);
    check_run(m, 7, 5, 2);
    fer_model_free(m);
}

TEST(GraphOps, Int8PadAndResizeKeepQuantisation) {
    tfl_model m;
    tfl_tensor in = tfl_activation_tensor("input", {1, 2, 2, 1});
    m.tensors.push_back(in);                                                           // 0 float
    tfl_tensor q = tfl_activation_tensor("q", {1, 2, 2, 1}, tfl_int8);
    q.scale = {0.5f};
    q.zero_point = {3};
    m.tensors.push_back(q);                                                            // 1
    m.tensors.push_back(tfl_const_i32("paddings", {4, 2}, {0, 0, 0, 1, 0, 0, 0, 0}));  // 2
    tfl_tensor p = q;
    p.name = "padded";
    p.shape = {1, 3, 2, 1};
    m.tensors.push_back(p);                                                            // 3
    m.tensors.push_back(tfl_const_i32("size", {2}, {6, 4}));                           // 4
    tfl_tensor u = q;
    u.name = "up";
    u.shape = {1, 6, 4, 1};
    m.tensors.push_back(u);                                                            // 5
    m.tensors.push_back(tfl_activation_tensor("out", {1, 6, 4, 1}));                  // 6
    m.ops.push_back(make_op(tfl_quantize, {0}, 1));
    m.ops.push_back(make_op(k_pad, {1, 2}, 3));
    m.ops.push_back(make_op(k_resize, {3, 4}, 5));
    m.ops.push_back(make_op(tfl_dequantize, {5}, 6));
    m.inputs = {0};
    m.outputs = {6};
    m.metadata = {{"fer.info", "task=face_detector\n"}};
    log_capture log;
    fer_model * model = load(m, log);
    ASSERT_NE(model, nullptr) << log.text;
    fer_context * ctx = fer_context_new(model);
    const float x[4] = {1.0f, -2.0f, 3.5f, 10.0f};
    ASSERT_EQ(fer_context_run(ctx, x, 4), FER_OK);
    const float * out = fer_context_output(ctx, 0, nullptr);
    // padded rows: x row 0, x row 1, zeros (the zero point dequantises to 0.0)
    const float want_rows[3][2] = {{1.0f, -2.0f}, {3.5f, 10.0f}, {0.0f, 0.0f}};
    for (int y = 0; y < 6; ++y) {
        for (int i = 0; i < 4; ++i) {
            EXPECT_FLOAT_EQ(out[y * 4 + i], want_rows[y / 2][i / 2]) << y << "," << i;
        }
    }
    fer_context_free(ctx);
    fer_model_free(model);
}

TEST(GraphOps, BadDetectorGraphsAreRejected) {
    {  // a classifier's input size cannot be changed
        tfl_model m = pad_resize_logistic(3, 4, 2);
        m.metadata.clear();
        log_capture log;
        EXPECT_EQ(load(m, log, 8, 8), nullptr);
    }
    {  // align_corners is not implemented: refused, not silently wrong
        tfl_model m = pad_resize_logistic(3, 4, 2);
        tfl_field f;
        f.id = 0;
        f.width = 1;
        f.ivalue = 1;
        m.ops[1].options = {f};
        log_capture log;
        EXPECT_EQ(load(m, log), nullptr);
        EXPECT_NE(log.text.find("align_corners"), std::string::npos) << log.text;
    }
    {  // negative padding
        tfl_model m = pad_resize_logistic(3, 4, 2);
        m.tensors[1] = tfl_const_i32("paddings", {4, 2}, {0, 0, -1, 0, 1, 1, 0, 0});
        log_capture log;
        EXPECT_EQ(load(m, log), nullptr);
        EXPECT_NE(log.text.find("padding"), std::string::npos) << log.text;
    }
    {  // a resize size that is no whole multiple of the file's input cannot follow a new input size
        tfl_model m = pad_resize_logistic(3, 4, 2);
        m.tensors[3] = tfl_const_i32("size", {2}, {5, 9});
        m.tensors[4].shape = {1, 5, 9, 2};
        log_capture log;
        fer_model * ok = load(m, log);
        EXPECT_NE(ok, nullptr) << log.text;  // at the file's own size it is fine
        fer_model_free(ok);
        EXPECT_EQ(load(m, log, 6, 6), nullptr);
        EXPECT_NE(log.text.find("whole multiple"), std::string::npos) << log.text;
    }
    {  // wrong stored output shape (no input change): still checked
        tfl_model m = pad_resize_logistic(3, 4, 2);
        m.tensors[4].shape = {1, 8, 11, 2};
        log_capture log;
        EXPECT_EQ(load(m, log), nullptr);
    }
}

// ---------------------------------------------------------------- YuNet decoding

TEST(YunetDecode, OneCellByHand) {
    // 2x3 map at stride 8; only cell (1, 2) scores above 0.5
    std::vector<float> cls(6, 0.1f), obj(6, 0.2f), bbox(24, 0.0f), kps(60, 0.0f);
    cls[5] = 0.81f;
    obj[5] = 1.5f;  // clamped to 1
    const float b[4] = {0.5f, -0.25f, std::log(4.0f), std::log(2.0f)};
    std::memcpy(&bbox[5 * 4], b, sizeof b);
    for (int k = 0; k < 10; ++k) {
        kps[5 * 10 + k] = 0.1f * static_cast<float>(k);
    }
    std::vector<detect::yunet_face> out;
    detect::yunet_decode_level(cls.data(), obj.data(), bbox.data(), kps.data(), 2, 3, 8, 0.5f, out);
    ASSERT_EQ(out.size(), 1u);
    const detect::yunet_face & f = out[0];
    EXPECT_NEAR(f.score, 0.9f, 1e-6);                 // sqrt(0.81 * 1)
    EXPECT_NEAR(f.w, 32.0f, 1e-4);                    // exp(log 4) * 8
    EXPECT_NEAR(f.h, 16.0f, 1e-4);
    EXPECT_NEAR(f.x, (2 + 0.5f) * 8 - 16.0f, 1e-4);   // centre 20, minus half the width
    EXPECT_NEAR(f.y, (1 - 0.25f) * 8 - 8.0f, 1e-4);   // centre 6
    for (int k = 0; k < 5; ++k) {                     // landmark order kept: x, y pairs
        EXPECT_NEAR(f.landmarks[2 * k], (2 + 0.1f * (2 * k)) * 8, 1e-4) << k;
        EXPECT_NEAR(f.landmarks[2 * k + 1], (1 + 0.1f * (2 * k + 1)) * 8, 1e-4) << k;
    }
}

TEST(YunetDecode, NmsKeepsTheBestOfOverlappingFaces) {
    auto face = [](float x, float y, float w, float s) {
        detect::yunet_face f;
        f.x = x;
        f.y = y;
        f.w = w;
        f.h = w;
        f.score = s;
        return f;
    };
    // b overlaps a: IoU = 81 / (100 + 100 - 81) = 0.68; c is apart
    std::vector<detect::yunet_face> faces = {face(1, 1, 10, 0.7f), face(0, 0, 10, 0.9f), face(50, 50, 10, 0.8f)};
    EXPECT_NEAR(detect::yunet_iou(faces[0], faces[1]), 81.0f / 119.0f, 1e-6);
    detect::yunet_nms(faces, 0.3f, 0);
    ASSERT_EQ(faces.size(), 2u);
    EXPECT_FLOAT_EQ(faces[0].score, 0.9f);
    EXPECT_FLOAT_EQ(faces[1].score, 0.8f);
    // a looser threshold keeps all three, by score
    std::vector<detect::yunet_face> all = {face(1, 1, 10, 0.7f), face(0, 0, 10, 0.9f), face(50, 50, 10, 0.8f)};
    detect::yunet_nms(all, 0.7f, 0);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_FLOAT_EQ(all[2].score, 0.7f);
    // top_k
    detect::yunet_nms(all, 0.7f, 1);
    ASSERT_EQ(all.size(), 1u);
}

// The size-aware thresholds: under FER_YUNET_SMALL_FACE_PX (the box's longer
// side in YuNet's input) the smaller threshold, from it on score_threshold;
// at or above score_threshold the small one changes nothing.
TEST(YunetDecode, SmallFacesNeedTheSmallerThreshold) {
    auto face = [](float w, float h, float s) {
        detect::yunet_face f;
        f.w = w;
        f.h = h;
        f.score = s;
        return f;
    };
    const float edge = static_cast<float>(FER_YUNET_SMALL_FACE_PX);
    fer_detect_params p = fer_detect_default_params();
    ASSERT_FLOAT_EQ(p.score_threshold, 0.83f);
    ASSERT_FLOAT_EQ(p.small_face_score_threshold, 0.6f);
    std::vector<detect::yunet_face> faces = {
        face(edge - 1, 10, 0.61f),   // small (longer side 63): kept from 0.6
        face(10, edge - 1, 0.59f),   // small, below 0.6: dropped
        face(edge, 10, 0.82f),       // longer side 64: needs 0.83, dropped
        face(10, edge + 50, 0.83f),  // large, at 0.83: kept
        face(200, 150, 0.75f),       // large and unsure (the dog photo's terriers score 0.75 and 0.82): dropped
    };
    std::vector<detect::yunet_face> kept = faces;
    detect::yunet_apply_thresholds(kept, p);
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_FLOAT_EQ(kept[0].score, 0.61f);
    EXPECT_FLOAT_EQ(kept[1].score, 0.83f);
    // one threshold at every size when the small one is not below it
    p.small_face_score_threshold = 0.9f;
    kept = faces;
    detect::yunet_apply_thresholds(kept, p);
    ASSERT_EQ(kept.size(), 1u);
    EXPECT_FLOAT_EQ(kept[0].score, 0.83f);
    // a lower score_threshold lowers both
    p.score_threshold = 0.5f;
    kept = faces;
    detect::yunet_apply_thresholds(kept, p);
    EXPECT_EQ(kept.size(), faces.size());
}

TEST(YunetDecode, InputGeometryPerImage) {
    fer_detect_params p = fer_detect_default_params();
    detect::yunet_geometry g = detect::yunet_choose_geometry(640, 480, p);
    EXPECT_EQ(g.input_w, 640);
    EXPECT_EQ(g.input_h, 480);
    EXPECT_DOUBLE_EQ(g.scale, 1.0);
    g = detect::yunet_choose_geometry(4000, 3000, p);  // 12 MP: long side to 640
    EXPECT_EQ(g.input_w, 640);
    EXPECT_EQ(g.input_h, 480);
    p.min_size = 64;  // faces of 64 px need only reach 32 px: half size
    g = detect::yunet_choose_geometry(4000, 3000, p);
    EXPECT_DOUBLE_EQ(g.scale, 0.5);
    EXPECT_EQ(g.input_w, 2016);  // 2000 rounded up to a multiple of 32
    EXPECT_EQ(g.input_h, 1504);
    p.min_size = 80;  // live video: faces of 80 px at 0.4
    g = detect::yunet_choose_geometry(640, 480, p);
    EXPECT_DOUBLE_EQ(g.scale, 0.4);
    EXPECT_EQ(g.input_w, 256);
    EXPECT_EQ(g.input_h, 192);
    p.input_long_side = 320;  // an explicit size wins
    g = detect::yunet_choose_geometry(640, 480, p);
    EXPECT_DOUBLE_EQ(g.scale, 0.5);
    g = detect::yunet_choose_geometry(20, 10, fer_detect_default_params());
    EXPECT_EQ(g.input_w, 32);
    EXPECT_EQ(g.input_h, 32);
}

}  // namespace

// ---------------------------------------------------------------- depthwise kernels

namespace {

TEST(DepthwiseKernels, Avx2MatchesReference) {
#ifdef FER_HAVE_AVX2
    // float: the same sums up to FMA rounding
    EXPECT_EQ(fer_kernel_test::check_dw_f32("avx2", fer_rt::fer_dwconv2d_f32__avx2, false), 0);
    // int8: bit-identical, on the cases every target shares (tests/kernel-tester.h)
    EXPECT_EQ(fer_kernel_test::check_dw_s8("avx2", fer_rt::fer_dwconv2d_s8__avx2), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

// PAD against the definition, element by element: padding on every axis
// (channels too, where runs are one pixel) and on the spatial axes only
// (where runs are whole rows), 1- and 4-byte elements.
TEST(ElementwiseKernels, PadPlacesEveryElement) {
    struct pads { int before[4], after[4]; };
    const int dims[4] = {2, 3, 5, 3};
    for (const pads & pd : {pads{{0, 1, 2, 0}, {0, 2, 1, 0}}, pads{{1, 0, 1, 2}, {0, 1, 0, 1}}, pads{{0, 0, 0, 0}, {0, 0, 0, 0}}}) {
        int od[4];
        for (int k = 0; k < 4; ++k) od[k] = dims[k] + pd.before[k] + pd.after[k];
        const size_t n_in = 2 * 3 * 5 * 3, n_out = static_cast<size_t>(od[0]) * od[1] * od[2] * od[3];
        std::vector<float> in(n_in), out(n_out, -1.0f);
        std::vector<int8_t> in8(n_in), out8(n_out, 0);
        for (size_t i = 0; i < n_in; ++i) {
            in[i] = static_cast<float>(i) + 0.5f;
            in8[i] = static_cast<int8_t>(i);
        }
        const float fill = -7.25f;
        const int8_t fill8 = -99;
        fer_rt::fer_pad__ref(dims, pd.before, pd.after, sizeof(float), &fill, in.data(), out.data());
        fer_rt::fer_pad__ref(dims, pd.before, pd.after, 1, &fill8, in8.data(), out8.data());
        size_t i = 0;
        for (int b = 0; b < od[0]; ++b)
            for (int y = 0; y < od[1]; ++y)
                for (int x = 0; x < od[2]; ++x)
                    for (int c = 0; c < od[3]; ++c, ++i) {
                        const int at[4] = {b - pd.before[0], y - pd.before[1], x - pd.before[2], c - pd.before[3]};
                        bool inside = true;
                        for (int k = 0; k < 4; ++k) inside = inside && at[k] >= 0 && at[k] < dims[k];
                        const size_t src = inside ? ((static_cast<size_t>(at[0]) * dims[1] + at[1]) * dims[2] + at[2]) * dims[3] + at[3] : 0;
                        ASSERT_EQ(out[i], inside ? in[src] : fill) << "element " << i;
                        ASSERT_EQ(out8[i], inside ? in8[src] : fill8) << "element " << i;
                    }
    }
}

// ADD and QUANTIZE, AVX2 against the reference, bit for bit: scale ratios that
// give left and right shifts, every int8 pair of inputs, fused ReLU ranges,
// lengths with a scalar tail; quantisation of ties (x.5 both signs), values
// just below a half, huge values, infinities and NaN.
// The float convolutions (blocks of output channels from weights packed as at
// load; vectors over input channels for narrow layers) on the shared float
// cases, within float rounding of the reference.
TEST(ConvKernels, Avx2MatchesReference) {
#ifdef FER_HAVE_AVX2
    if (!fer_rt::fer_cpu_has_avx2_fma()) {
        GTEST_SKIP() << "this CPU has no AVX2/FMA";
    }
    EXPECT_EQ(fer_kernel_test::check_conv_f32("avx2", [](const fer_rt::conv_params & p, const float * x,
                                                         const float * w, const float * b, float * out) {
                  const size_t oc_pad = static_cast<size_t>(fer_rt::conv_padded_channels(p.out_c));
                  std::vector<float> packed(static_cast<size_t>(p.k_h * p.k_w * p.in_c) * oc_pad), bias_pad(oc_pad);
                  fer_rt::fer_conv2d_pack_f32(p, w, b, packed.data(), bias_pad.data());
                  fer_rt::fer_conv2d_f32__avx2(p, x, packed.data(), bias_pad.data(), out);
              }),
              0);
    EXPECT_EQ(fer_kernel_test::check_conv_f32("avx2 narrow", fer_rt::fer_conv2d_f32_narrow__avx2), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

TEST(ElementwiseKernels, AddLookupTablesMatchReference) {
    EXPECT_EQ(fer_kernel_test::check_add_s8("lut", fer_rt::fer_add_s8__lut), 0);
}

// The whole-ADD table (one entry per pair of inputs, built at load): the
// check's inputs are every pair, so every entry is compared.
TEST(ElementwiseKernels, AddTableMatchesReference) {
    const auto via_table = [](size_t n, const fer_rt::add_params & p, const int8_t * a, const int8_t * b, int8_t * out) {
        std::vector<int8_t> table(fer_rt::k_add_s8_table);
        fer_rt::fer_add_s8_table_init(p, table.data());
        fer_rt::fer_add_s8__table(n, table.data(), a, b, out);
    };
    EXPECT_EQ(fer_kernel_test::check_add_s8("table", via_table), 0);
}

TEST(ElementwiseKernels, Avx2MatchesReference) {
#ifdef FER_HAVE_AVX2
    EXPECT_EQ(fer_kernel_test::check_add_s8("avx2", fer_rt::fer_add_s8__avx2), 0);
    EXPECT_EQ(fer_kernel_test::check_quantize_s8("avx2", fer_rt::fer_quantize_s8__avx2), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

// The AVX2 int8 max pooling against the reference (tests/kernel-tester.h's cases).
TEST(PoolKernels, MaxPoolAvx2MatchesReference) {
#ifdef FER_HAVE_AVX2
    EXPECT_EQ(fer_kernel_test::check_maxpool_s8("avx2", fer_rt::fer_maxpool2d_s8__avx2), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

// ---------------------------------------------------------------- landmark crops

// The canonical points turned by `deg` about (cx, cy), scaled by `s`, moved by (dx, dy).
void place_canonical(double deg, double s, double dx, double dy, float out[10]) {
    const double r = deg * 3.14159265358979323846 / 180.0, c = std::cos(r), sn = std::sin(r);
    for (int k = 0; k < 5; ++k) {
        const double x = FER_CANONICAL_LANDMARKS[2 * k] - 24.0, y = FER_CANONICAL_LANDMARKS[2 * k + 1] - 24.0;
        out[2 * k] = static_cast<float>(s * (c * x - sn * y) + dx);
        out[2 * k + 1] = static_cast<float>(s * (sn * x + c * y) + dy);
    }
}

TEST(LandmarkCrop, TransformUndoesAKnownRotationAndScale) {
    float lm[10], t[4];
    place_canonical(30.0, 3.0, 200.0, 150.0, lm);
    ASSERT_EQ(fer_landmark_transform(lm, 1, t), FER_OK);
    // inverse of (rotate 30, scale 3): scale 1/3, rotate -30 (landmarks are
    // snapped to 1/16 px first: at most 1/32 px, 0.01 px in the crop)
    EXPECT_NEAR(t[0], std::cos(-30.0 * M_PI / 180) / 3.0, 2e-4);
    EXPECT_NEAR(t[1], std::sin(-30.0 * M_PI / 180) / 3.0, 2e-4);
    for (int k = 0; k < 5; ++k) {  // every point lands back on the canonical one
        const float u = t[0] * lm[2 * k] - t[1] * lm[2 * k + 1] + t[2];
        const float v = t[1] * lm[2 * k] + t[0] * lm[2 * k + 1] + t[3];
        EXPECT_NEAR(u, FER_CANONICAL_LANDMARKS[2 * k], 0.02) << k;
        EXPECT_NEAR(v, FER_CANONICAL_LANDMARKS[2 * k + 1], 0.02) << k;
    }
    // upright: no rotation term, a positive scale
    ASSERT_EQ(fer_landmark_transform(lm, 0, t), FER_OK);
    EXPECT_EQ(t[1], 0.0f);
    EXPECT_GT(t[0], 0.0f);
    // degenerate points are refused (the caller falls back to the box)
    float same[10];
    for (float & v : same) v = 5.0f;
    EXPECT_EQ(fer_landmark_transform(same, 1, t), FER_ERR_INVALID_ARGUMENT);
    same[3] = NAN;
    EXPECT_EQ(fer_landmark_transform(same, 1, t), FER_ERR_INVALID_ARGUMENT);
}

TEST(LandmarkCrop, ATiltedFaceComesBackUpright) {
    // A 48x48 "face" (left half dark, top band bright) drawn turned by 25
    // degrees and 4x larger into a 400x400 image; the aligned crop from its
    // landmarks must reproduce it, the upright crop must not.
    auto face_value = [](double u, double v) {  // u, v in the 48x48 frame
        return (u < 24.0 ? 60.0 : 190.0) + (v < 12.0 ? 50.0 : 0.0);
    };
    const double deg = 25.0, s = 4.0, cx = 210.0, cy = 190.0;
    const double r = deg * M_PI / 180.0;
    std::vector<uint8_t> img(400 * 400);
    for (int y = 0; y < 400; ++y) {
        for (int x = 0; x < 400; ++x) {  // image -> face frame: inverse rotation and scale
            const double px = x + 0.5 - cx, py = y + 0.5 - cy;
            const double u = (std::cos(r) * px + std::sin(r) * py) / s + 24.0;
            const double v = (-std::sin(r) * px + std::cos(r) * py) / s + 24.0;
            img[static_cast<size_t>(y) * 400 + x] = static_cast<uint8_t>(face_value(u, v));
        }
    }
    fer_box box{};
    box.x = 100;
    box.y = 80;
    box.width = box.height = 200;
    box.n_landmarks = 5;
    place_canonical(deg, s, cx, cy, box.landmarks);
    fer_pipeline_params p = fer_pipeline_default_params();
    uint8_t crop[48 * 48];
    auto mismatches = [&](int align) {
        p.align = align;
        EXPECT_EQ(fer_crop_face(img.data(), 400, 400, 400, &box, &p, crop, nullptr, nullptr, nullptr), FER_OK);
        int bad = 0;
        for (int v = 0; v < 48; ++v) {
            for (int u = 0; u < 48; ++u) {
                bad += std::abs(crop[v * 48 + u] - face_value(u + 0.5, v + 0.5)) > 40;
            }
        }
        return bad;
    };
    EXPECT_LT(mismatches(1), 48 * 48 / 50);   // aligned: only edge pixels differ
    EXPECT_GT(mismatches(0), 48 * 48 / 10);   // upright: the tilt stays
}

}  // namespace
