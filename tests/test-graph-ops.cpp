// Graphs that are not classifiers (face detectors): PAD, RESIZE_NEAREST_NEIGHBOR
// and LOGISTIC against hand-computed values, several outputs, an input size
// chosen at load (shapes derived through the graph), int8 PAD/RESIZE keeping
// their quantisation, and the rejections that keep such files honest. Plus
// the YuNet decoding and NMS (src/detect/yunet.h) on hand-computed cells.
#include "export-tflite.h"

#include "detect/yunet.h"
#include "fer.h"

#include <gtest/gtest.h>

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

TEST(YunetDecode, InputGeometryPerImage) {
    fer_detect_params p = fer_detect_default_params();
    detect::yunet_geometry g = detect::yunet_choose_geometry(640, 480, p);
    EXPECT_EQ(g.input_w, 640);
    EXPECT_EQ(g.input_h, 480);
    EXPECT_DOUBLE_EQ(g.scale, 1.0);
    g = detect::yunet_choose_geometry(4000, 3000, p);  // 12 MP: long side to 640
    EXPECT_EQ(g.input_w, 640);
    EXPECT_EQ(g.input_h, 480);
    p.min_size = 32;  // faces of 32 px must stay >= 16 px: scale 0.5
    g = detect::yunet_choose_geometry(4000, 3000, p);
    EXPECT_DOUBLE_EQ(g.scale, 0.5);
    EXPECT_EQ(g.input_w, 2016);  // 2000 rounded up to a multiple of 32
    EXPECT_EQ(g.input_h, 1504);
    g = detect::yunet_choose_geometry(20, 10, fer_detect_default_params());
    EXPECT_EQ(g.input_w, 32);
    EXPECT_EQ(g.input_h, 32);
}

}  // namespace
