// The runtime's face pipeline (src/pipeline.cpp): colour to grey against
// OpenCV, the crop rule, and detection + classification on the project's own
// fixture (samples/ faces on a canvas). Needs OpenCV's cascades (opencv-data)
// and models/fernet.tflite; tests that need them skip when they are absent.
#include "fer-pipeline.h"
#include "sample-faces.h"

#include "../src/crop-source.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace {

const std::string k_source_dir = FER_SOURCE_DIR;
const std::string k_cascade = std::string(FER_HAAR_DIR) + "/haarcascade_frontalface_alt2.xml";
const std::string k_model = k_source_dir + "/models/fernet.tflite";

cv::Mat random_image(int h, int w, int type, uint32_t seed) {
    cv::Mat m(h, w, type);
    cv::RNG rng(seed);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    return m;
}

TEST(Grey, BgrIsBitIdenticalToOpenCV) {
    // Odd widths and a padded stride: the tail of a row and the stride handling.
    for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {7, 3}, {33, 17}, {640, 480}, {1001, 5}}) {
        cv::Mat padded = random_image(h, w + 5, CV_8UC3, static_cast<uint32_t>(w * 31 + h));
        cv::Mat bgr = padded(cv::Rect(0, 0, w, h));
        cv::Mat want;
        cv::cvtColor(bgr, want, cv::COLOR_BGR2GRAY);
        std::vector<uint8_t> got(static_cast<size_t>((w + 3) * h), 0);
        fer_bgr_to_grey(bgr.data, w, h, static_cast<int32_t>(bgr.step), got.data(), w + 3);
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                ASSERT_EQ(got[static_cast<size_t>(y * (w + 3) + x)], want.at<uint8_t>(y, x))
                    << w << "x" << h << " at (" << x << "," << y << ")";
            }
        }
    }
}

TEST(Grey, EveryColourLevelMatchesOpenCV) {
    // Pure and mixed channels over the whole 0..255 range: rounding ties included.
    cv::Mat bgr(256, 256, CV_8UC3);
    for (int y = 0; y < 256; ++y) {
        for (int x = 0; x < 256; ++x) {
            bgr.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x), uint8_t(y), uint8_t((x * 7 + y * 3) & 255));
        }
    }
    cv::Mat want;
    cv::cvtColor(bgr, want, cv::COLOR_BGR2GRAY);
    cv::Mat got(256, 256, CV_8U);
    fer_bgr_to_grey(bgr.data, 256, 256, static_cast<int32_t>(bgr.step), got.data, 256);
    EXPECT_EQ(cv::countNonZero(got != want), 0);
}

TEST(Grey, RgbaIsBitIdenticalToOpenCV) {
    for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {13, 9}, {640, 480}}) {
        cv::Mat rgba = random_image(h, w, CV_8UC4, static_cast<uint32_t>(w + h));
        cv::Mat want;
        cv::cvtColor(rgba, want, cv::COLOR_RGBA2GRAY);
        cv::Mat got(h, w, CV_8U);
        fer_rgba_to_grey(rgba.data, w, h, static_cast<int32_t>(rgba.step), got.data, w);
        EXPECT_EQ(cv::countNonZero(got != want), 0) << w << "x" << h;
    }
}

// Largest absolute difference between two 48x48 crops.
int max_diff(const uint8_t * a, const cv::Mat & b) {
    int d = 0;
    for (int y = 0; y < FER_INPUT_SIZE; ++y) {
        for (int x = 0; x < FER_INPUT_SIZE; ++x) {
            d = std::max(d, std::abs(int(a[y * FER_INPUT_SIZE + x]) - int(b.at<uint8_t>(y, x))));
        }
    }
    return d;
}

// OpenCV's rendering of the same square (replicated border, bilinear): ours
// uses 11-bit weights, cv::resize other fixed-point paths, so 1 grey level apart at most.
cv::Mat opencv_crop(const cv::Mat & img, int x, int y, int s) {
    const int pad = s;
    cv::Mat big;
    cv::copyMakeBorder(img, big, pad, pad, pad, pad, cv::BORDER_REPLICATE);
    cv::Mat out;
    cv::resize(big(cv::Rect(x + pad, y + pad, s, s)), out, cv::Size(FER_INPUT_SIZE, FER_INPUT_SIZE), 0, 0,
               cv::INTER_LINEAR);
    return out;
}

TEST(Crop, RuleGivesTheSquareAndMatchesOpenCVResize) {
    cv::Mat img = random_image(200, 300, CV_8U, 7);
    cv::GaussianBlur(img, img, cv::Size(0, 0), 3);  // smooth: a resize of noise is all rounding
    struct probe {
        fer_box box;
        float scale, shift;
        int x, y, s;  // the square the rule gives, computed by hand
    };
    const probe probes[] = {
        {{100, 50, 96, 96, 0}, 1.0f, 0.0f, 100, 50, 96},     // the box itself, 2x down
        {{100, 50, 96, 96, 0}, 1.25f, 0.0f, 88, 38, 120},    // larger, same centre
        {{100, 50, 96, 96, 0}, 1.0f, 0.125f, 100, 62, 96},   // moved down by 12 px
        {{10, 20, 48, 48, 0}, 1.0f, 0.0f, 10, 20, 48},       // identity
        {{250, 160, 60, 60, 0}, 1.5f, 0.1f, 235, 151, 90},   // past the right and bottom edges
        {{0, 0, 40, 40, 0}, 2.0f, 0.0f, -20, -20, 80},       // past the top-left corner
    };
    for (const probe & p : probes) {
        fer_pipeline_params params = fer_pipeline_default_params();
        params.crop_scale = p.scale;
        params.crop_shift_y = p.shift;
        uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE];
        int32_t x = 0, y = 0, s = 0;
        ASSERT_EQ(fer_crop_face(img.data, img.cols, img.rows, static_cast<int32_t>(img.step), &p.box, &params, out,
                                &x, &y, &s),
                  FER_OK);
        EXPECT_EQ(x, p.x);
        EXPECT_EQ(y, p.y);
        EXPECT_EQ(s, p.s);
        EXPECT_LE(max_diff(out, opencv_crop(img, x, y, s)), 1) << "box at " << p.box.x << "," << p.box.y;
    }
}

TEST(Crop, IdentityIsExactAndFlatImageStaysFlat) {
    cv::Mat img = random_image(48, 48, CV_8U, 3);
    fer_pipeline_params params = fer_pipeline_default_params();
    params.crop_scale = 1.0f;
    params.crop_shift_y = 0.0f;
    const fer_box box = {0, 0, 48, 48, 0};
    uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE];
    ASSERT_EQ(fer_crop_face(img.data, 48, 48, 48, &box, &params, out, nullptr, nullptr, nullptr), FER_OK);
    EXPECT_EQ(std::memcmp(out, img.data, sizeof out), 0);

    // A box entirely outside the image: every sample is a replicated border pixel.
    cv::Mat flat(10, 10, CV_8U, cv::Scalar(77));
    const fer_box far = {500, -300, 30, 30, 0};
    ASSERT_EQ(fer_crop_face(flat.data, 10, 10, 10, &far, &params, out, nullptr, nullptr, nullptr), FER_OK);
    for (uint8_t v : out) {
        ASSERT_EQ(v, 77);
    }
}

TEST(Crop, RejectsBadArguments) {
    uint8_t img[16] = {0};
    uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE];
    fer_pipeline_params p = fer_pipeline_default_params();
    const fer_box box = {0, 0, 4, 4, 0};
    EXPECT_EQ(fer_crop_face(nullptr, 4, 4, 4, &box, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_crop_face(img, 4, 4, 3, &box, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_crop_face(img, 0, 4, 4, &box, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
    const fer_box empty = {0, 0, 0, 4, 0};
    EXPECT_EQ(fer_crop_face(img, 4, 4, 4, &empty, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
    p.crop_scale = 0.0f;
    EXPECT_EQ(fer_crop_face(img, 4, 4, 4, &box, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
    p.crop_scale = NAN;
    EXPECT_EQ(fer_crop_face(img, 4, 4, 4, &box, &p, out, nullptr, nullptr, nullptr), FER_ERR_INVALID_ARGUMENT);
}

// A colour frame is never converted to grey as a whole for YuNet: the crops
// sample the colour pixels and convert each sample (src/crop-source.h). That
// crop must equal, byte for byte, the crop of the frame's grey conversion,
// for box-rule and landmark crops (tilted up to 180 degrees, scaled, cut by
// the image's edges), BGR and RGBA.
TEST(Crop, ColourSamplesGiveTheCropOfTheGreyImage) {
    const int w = 160, h = 120;
    const cv::Mat bgr = random_image(h, w, CV_8UC3, 7);
    cv::Mat rgba, grey(h, w, CV_8U);
    cv::cvtColor(bgr, rgba, cv::COLOR_BGR2RGBA);
    fer_bgr_to_grey(bgr.data, w, h, static_cast<int32_t>(bgr.step), grey.data, w);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> pos(-40.0f, 200.0f), size(4.0f, 150.0f), angle(-3.1416f, 3.1416f);
    int checked = 0, differing_from_bgr_layout = 0;
    for (int trial = 0; trial < 400; ++trial) {
        fer_pipeline_params p = fer_pipeline_default_params();
        p.align = trial % 3 != 0;
        fer_box box{};
        const float cx = pos(rng), cy = pos(rng) * 0.75f, side = size(rng);
        box.x = static_cast<int32_t>(cx - side / 2);
        box.y = static_cast<int32_t>(cy - side / 2);
        box.width = box.height = std::max(1, static_cast<int32_t>(side));
        if (trial % 4 != 0) {
            // the canonical landmarks, scaled to the box, turned about its centre
            const float a = angle(rng), c = std::cos(a), sn = std::sin(a);
            box.n_landmarks = 5;
            for (int k = 0; k < 5; ++k) {
                const float u = (FER_CANONICAL_LANDMARKS[2 * k] / FER_INPUT_SIZE - 0.5f) * side;
                const float v = (FER_CANONICAL_LANDMARKS[2 * k + 1] / FER_INPUT_SIZE - 0.5f) * side;
                box.landmarks[2 * k] = cx + c * u - sn * v;
                box.landmarks[2 * k + 1] = cy + sn * u + c * v;
            }
        }
        uint8_t want[FER_INPUT_SIZE * FER_INPUT_SIZE], got[FER_INPUT_SIZE * FER_INPUT_SIZE];
        int32_t want_xys[3], got_xys[3];
        ASSERT_EQ(fer_crop_face(grey.data, w, h, w, &box, &p, want, &want_xys[0], &want_xys[1], &want_xys[2]), FER_OK);
        const fer::pipeline::sample_source colour[2] = {
            {bgr.data, w, h, static_cast<int32_t>(bgr.step), 3, 0, 2},
            {rgba.data, w, h, static_cast<int32_t>(rgba.step), 4, 2, 0}};
        for (const fer::pipeline::sample_source & src : colour) {
            ASSERT_EQ(fer::pipeline::crop_face(src, &box, &p, got, &got_xys[0], &got_xys[1], &got_xys[2]), FER_OK);
            ASSERT_EQ(std::memcmp(want, got, sizeof want), 0)
                << "trial " << trial << ", " << src.bytes_per_pixel << " bytes a pixel: the colour crop differs";
            ASSERT_EQ(std::memcmp(want_xys, got_xys, sizeof want_xys), 0) << "trial " << trial;
        }
        // the test can fail: RGBA bytes read as if they were BGR give another crop
        const fer::pipeline::sample_source swapped = {rgba.data, w, h, static_cast<int32_t>(rgba.step), 4, 0, 2};
        ASSERT_EQ(fer::pipeline::crop_face(swapped, &box, &p, got, nullptr, nullptr, nullptr), FER_OK);
        differing_from_bgr_layout += std::memcmp(want, got, sizeof want) != 0;
        ++checked;
    }
    EXPECT_EQ(checked, 400);
    EXPECT_GT(differing_from_bgr_layout, 300);
}
// Loaded cascade and model, or a reason to skip.
struct pipeline_fixture {
    fer_detector * det = nullptr;
    fer_model * model = nullptr;
    fer_context * ctx = nullptr;
    std::string missing;
    pipeline_fixture() {
        if (!std::filesystem::exists(k_cascade)) {
            missing = k_cascade + " is missing (install opencv-data)";
            return;
        }
        if (!std::filesystem::exists(k_model)) {
            missing = k_model + " is missing";
            return;
        }
        det = fer_detector_load_from_file(k_cascade.c_str(), nullptr, nullptr, 0);
        model = fer_model_load_from_file(k_model.c_str(), fer_model_default_params());
        ctx = model ? fer_context_new(model) : nullptr;
    }
    ~pipeline_fixture() {
        fer_context_free(ctx);
        fer_model_free(model);
        fer_detector_free(det);
    }
};

// Three samples/ faces at different sizes on a grey canvas (a small "group photo").
cv::Mat group_fixture(std::vector<cv::Rect> & where) {
    cv::Mat canvas(240, 480, CV_8U, cv::Scalar(120));
    where = {cv::Rect(20, 40, 144, 144), cv::Rect(200, 60, 96, 96), cv::Rect(340, 30, 120, 120)};
    const bool ok = fer_test::paste_sample_faces(
        canvas, {"happy-PublicTest_10245799.jpg", "neutral-PublicTest_10549803.jpg", "surprise-PublicTest_10780425.jpg"},
        where);
    return ok ? canvas : cv::Mat();
}

double overlap(const fer_box & b, const cv::Rect & r) {
    const cv::Rect a(b.x, b.y, b.width, b.height);
    return double((a & r).area()) / double((a | r).area());
}

// The model, the cascade and the small group photo, for the tests that analyse it.
class AnalyzeGroup : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fx.missing.empty()) {
            GTEST_SKIP() << fx.missing;
        }
        ASSERT_TRUE(fx.det && fx.ctx);
        img = group_fixture(where);
        ASSERT_FALSE(img.empty()) << "samples/ faces missing in " << k_source_dir;
    }
    pipeline_fixture fx;
    std::vector<cv::Rect> where;
    cv::Mat img;
};

TEST_F(AnalyzeGroup, OneResultPerFaceEqualToClassifyingTheCrop) {
    fer_pipeline_params p = fer_pipeline_default_params();
    fer_face faces[8];
    int32_t n = -1;
    fer_detect_status ds = FER_DETECT_ERR_IO;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, static_cast<int32_t>(img.step), &p, faces, 8,
                          &n, &ds),
              FER_OK);
    EXPECT_EQ(ds, FER_DETECT_OK);
    ASSERT_EQ(n, 3);
    // Each face on its own place (the detector's box is smaller than the
    // pasted FER2013 crop, which has a margin), largest first.
    for (int i = 0; i < n; ++i) {
        EXPECT_GT(overlap(faces[i].box, where[size_t(i == 0 ? 0 : i == 1 ? 2 : 1)]), 0.3) << "face " << i;
        EXPECT_EQ(faces[i].track_id, -1);
        EXPECT_EQ(faces[i].cam_h, 0);  // not asked
        uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE];
        int32_t cx, cy, cs;
        ASSERT_EQ(fer_crop_face(img.data, img.cols, img.rows, static_cast<int32_t>(img.step), &faces[i].box, &p, crop,
                                &cx, &cy, &cs),
                  FER_OK);
        EXPECT_EQ(cx, faces[i].crop_x);
        EXPECT_EQ(cy, faces[i].crop_y);
        EXPECT_EQ(cs, faces[i].crop_size);
        fer_result r;
        ASSERT_EQ(fer_classify(fx.ctx, crop, FER_INPUT_SIZE, &r), FER_OK);
        EXPECT_EQ(r.top_class, faces[i].result.top_class);
        float sum = 0;
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            EXPECT_EQ(r.probabilities[c], faces[i].result.probabilities[c]);
            EXPECT_EQ(faces[i].smoothed[c], faces[i].result.probabilities[c]);
            sum += faces[i].result.probabilities[c];
        }
        EXPECT_NEAR(sum, 1.0f, 1e-4f);
        EXPECT_EQ(faces[i].smoothed_class, faces[i].result.top_class);
        EXPECT_EQ(faces[i].result.confidence, faces[i].result.probabilities[faces[i].result.top_class]);
        if (i > 0) {
            EXPECT_LE(faces[i].box.width * faces[i].box.height, faces[i - 1].box.width * faces[i - 1].box.height);
        }
    }
    // The clearest expression of the three survives detection + crop.
    EXPECT_EQ(faces[0].result.top_class, FER_HAPPY);
}

// With YuNet a colour frame is converted to grey only at the samples the
// crops read (crop_face on a colour sample_source); every face's result must equal classifying its crop
// from the whole frame in grey: tilted faces, one cut by the frame's edge,
// BGR and RGBA.
TEST(Analyze, ColourFramesGiveTheCropsOfTheWholeGreyFrame) {
    const std::string yunet = k_source_dir + "/models/yunet-int8.tflite";
    if (!std::filesystem::exists(yunet) || !std::filesystem::exists(k_model)) {
        GTEST_SKIP() << yunet << " or " << k_model << " is missing";
    }
    fer_detector * det = fer_detector_load_from_file(yunet.c_str(), nullptr, nullptr, 0);
    fer_model * model = fer_model_load_from_file(k_model.c_str(), fer_model_default_params());
    fer_context * ctx = model ? fer_context_new(model) : nullptr;
    ASSERT_TRUE(det && ctx);
    cv::Mat canvas(480, 640, CV_8UC3, cv::Scalar(70, 120, 160));
    ASSERT_TRUE(fer_test::paste_sample_faces(
        canvas, {"happy-PublicTest_10245799.jpg", "surprise-PublicTest_10780425.jpg", "neutral-PublicTest_10549803.jpg"},
        {cv::Rect(40, 60, 200, 200), cv::Rect(300, 120, 170, 170), cv::Rect(488, 328, 150, 150)}));
    cv::Mat tilted;
    cv::warpAffine(canvas, tilted, cv::getRotationMatrix2D(cv::Point2f(320, 240), 18, 1.0), canvas.size(),
                   cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::Mat grey, rgba;
    cv::cvtColor(tilted, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(tilted, rgba, cv::COLOR_BGR2RGBA);
    fer_pipeline_params p = fer_pipeline_default_params();
    p.detect.score_threshold = 0.5f;
    for (const auto & [img, format] : {std::pair<const cv::Mat *, fer_pixel_format>{&tilted, FER_PIXEL_BGR},
                                       std::pair<const cv::Mat *, fer_pixel_format>{&rgba, FER_PIXEL_RGBA}}) {
        fer_face faces[8];
        int32_t n = 0;
        ASSERT_EQ(fer_analyze_image(ctx, det, img->data, img->cols, img->rows, static_cast<int32_t>(img->step), format,
                                    &p, faces, 8, &n, nullptr),
                  FER_OK);
        ASSERT_GE(n, 2) << "format " << format;
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(faces[i].box.n_landmarks, 5);
            uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE];
            ASSERT_EQ(fer_crop_face(grey.data, grey.cols, grey.rows, static_cast<int32_t>(grey.step), &faces[i].box, &p,
                                    crop, nullptr, nullptr, nullptr),
                      FER_OK);
            fer_result want;
            ASSERT_EQ(fer_classify(ctx, crop, FER_INPUT_SIZE, &want), FER_OK);
            for (int c = 0; c < FER_N_CLASSES; ++c) {
                EXPECT_EQ(faces[i].result.probabilities[c], want.probabilities[c]) << "format " << format << " face " << i;
            }
        }
    }
    fer_context_free(ctx);
    fer_model_free(model);
    fer_detector_free(det);
}

TEST(Analyze, NoFaceGivesNothingAndLimitsAreKept) {
    pipeline_fixture fx;
    if (!fx.missing.empty()) {
        GTEST_SKIP() << fx.missing;
    }
    ASSERT_TRUE(fx.det && fx.ctx);
    fer_pipeline_params p = fer_pipeline_default_params();
    cv::Mat blank(240, 320, CV_8U, cv::Scalar(90));
    fer_face faces[4];
    int32_t n = -1;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, blank.data, 320, 240, 320, &p, faces, 4, &n, nullptr), FER_OK);
    EXPECT_EQ(n, 0);

    std::vector<cv::Rect> where;
    const cv::Mat img = group_fixture(where);
    ASSERT_FALSE(img.empty());
    // max_out smaller than the faces found: n still counts them all.
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 1, &n, nullptr), FER_OK);
    EXPECT_EQ(n, 3);
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, nullptr, 0, &n, nullptr), FER_OK);
    EXPECT_EQ(n, 3);
    // max_faces keeps the largest.
    p.max_faces = 2;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    EXPECT_EQ(n, 2);
    EXPECT_GT(overlap(faces[0].box, where[0]), 0.3);
    // min_size above every face: none.
    p.max_faces = 0;
    p.detect.min_size = 200;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    EXPECT_EQ(n, 0);
    // Everything is uncertain under a confidence bar above 1, nothing under 0.
    p.detect.min_size = 0;
    p.min_confidence = 1.01f;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    ASSERT_EQ(n, 3);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(faces[i].uncertain, 1);
    }
    p.min_confidence = 0.0f;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    for (int i = 0; i < n; ++i) {
        EXPECT_EQ(faces[i].uncertain, 0);
    }
}

TEST_F(AnalyzeGroup, CamMatchesTheContextsMap) {
    int h = 0, w = 0;
    ASSERT_TRUE(fer_model_has_cam(fx.model, &h, &w)) << "fernet has a global-average-pool head";
    fer_pipeline_params p = fer_pipeline_default_params();
    p.cam = 1;
    fer_face faces[4];
    int32_t n = 0;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    ASSERT_GE(n, 1);
    const fer_face & last = faces[std::min(n, 4) - 1];
    EXPECT_EQ(last.cam_h, h);
    EXPECT_EQ(last.cam_w, w);
    // The context holds the last face's activations: its map must be the one copied.
    std::vector<float> want(static_cast<size_t>(h * w));
    ASSERT_EQ(fer_context_cam(fx.ctx, last.result.top_class, want.data(), want.size()), FER_OK);
    for (int i = 0; i < h * w; ++i) {
        EXPECT_EQ(last.cam[i], want[size_t(i)]);
    }
}

// Flip test-time augmentation: the mean of the face's and its mirror's
// probabilities, the CAM of the face itself, and in fer_analyze the same as
// fer_classify_flip on each crop.
TEST_F(AnalyzeGroup, FlipTtaAveragesTheFaceAndItsMirror) {
    fer_pipeline_params p = fer_pipeline_default_params();
    p.tta = FER_TTA_FLIP;
    p.cam = 1;
    fer_face faces[4];
    int32_t n = 0;
    ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces, 4, &n, nullptr), FER_OK);
    ASSERT_EQ(n, 3);
    int h = 0, w = 0;
    ASSERT_TRUE(fer_model_has_cam(fx.model, &h, &w));
    bool any_differs = false;
    for (int i = 0; i < n; ++i) {
        const fer_face & f = faces[i];
        uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE], mirror[FER_INPUT_SIZE * FER_INPUT_SIZE];
        ASSERT_EQ(fer_crop_face(img.data, img.cols, img.rows, img.cols, &f.box, &p, crop, nullptr, nullptr, nullptr),
                  FER_OK);
        for (int y = 0; y < FER_INPUT_SIZE; ++y) {
            for (int x = 0; x < FER_INPUT_SIZE; ++x) {
                mirror[y * FER_INPUT_SIZE + x] = crop[y * FER_INPUT_SIZE + FER_INPUT_SIZE - 1 - x];
            }
        }
        fer_result a, b, flip;
        ASSERT_EQ(fer_classify(fx.ctx, mirror, FER_INPUT_SIZE, &b), FER_OK);
        ASSERT_EQ(fer_classify(fx.ctx, crop, FER_INPUT_SIZE, &a), FER_OK);
        std::vector<float> cam(static_cast<size_t>(h * w));
        ASSERT_EQ(fer_context_cam(fx.ctx, f.result.top_class, cam.data(), cam.size()), FER_OK);
        ASSERT_EQ(fer_classify_flip(fx.ctx, crop, FER_INPUT_SIZE, &flip), FER_OK);
        int top = 0;
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            const float mean = 0.5f * (a.probabilities[c] + b.probabilities[c]);
            EXPECT_EQ(flip.probabilities[c], mean) << "face " << i << " class " << c;
            EXPECT_EQ(f.result.probabilities[c], mean) << "face " << i << " class " << c;
            any_differs = any_differs || a.probabilities[c] != b.probabilities[c];
            top = mean > 0.5f * (a.probabilities[top] + b.probabilities[top]) ? c : top;
        }
        EXPECT_EQ(f.result.top_class, top);
        EXPECT_EQ(flip.top_class, top);
        EXPECT_EQ(f.result.confidence, f.result.probabilities[top]);
        // The map is the face's own (its activations, not the mirror's).
        ASSERT_EQ(f.cam_h * f.cam_w, h * w);
        for (int k = 0; k < h * w; ++k) {
            EXPECT_EQ(f.cam[k], cam[size_t(k)]) << "face " << i << " cell " << k;
        }
    }
    EXPECT_TRUE(any_differs) << "a face and its mirror image gave identical probabilities: no test of the mean";
    fer_result r;
    uint8_t face[FER_INPUT_SIZE * FER_INPUT_SIZE] = {};
    EXPECT_EQ(fer_classify_flip(nullptr, face, FER_INPUT_SIZE, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_flip(fx.ctx, nullptr, FER_INPUT_SIZE, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_flip(fx.ctx, face, FER_INPUT_SIZE - 1, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_flip(fx.ctx, face, FER_INPUT_SIZE, nullptr), FER_ERR_INVALID_ARGUMENT);
}

// A crowd: more faces than fer_analyze's stack buffer (64 boxes), so the
// boxes travel at the end of the caller's face array. Every face must still
// carry the detector's box and the classification of its own crop.
TEST(Analyze, CrowdBeyondTheStackBufferKeepsEveryBox) {
    pipeline_fixture fx;
    if (!fx.missing.empty()) {
        GTEST_SKIP() << fx.missing;
    }
    ASSERT_TRUE(fx.det && fx.ctx);
    const char * files[4] = {"happy-PublicTest_10245799.jpg", "neutral-PublicTest_10549803.jpg",
                             "surprise-PublicTest_10780425.jpg", "sad-PublicTest_10897412.jpg"};
    const int cols = 10, rows = 9, cell = 100, side = 88;
    cv::Mat img(rows * cell, cols * cell, CV_8U, cv::Scalar(120));
    std::vector<cv::Rect> grid;
    for (int i = 0; i < cols * rows; ++i) {
        grid.emplace_back((i % cols) * cell + 6, (i / cols) * cell + 6, side, side);
    }
    ASSERT_TRUE(fer_test::paste_sample_faces(img, {files, files + 4}, grid));
    fer_pipeline_params p = fer_pipeline_default_params();
    std::vector<fer_box> want(256);
    int32_t found = 0;
    ASSERT_EQ(fer_detector_detect(fx.det, img.data, img.cols, img.rows, img.cols, &p.detect, want.data(), 256, &found),
              FER_DETECT_OK);
    ASSERT_GT(found, 64) << "the fixture must be a crowd beyond the stack buffer";
    ASSERT_LE(found, 256);
    // max_out exactly the faces found (boxes end flush with the array), then
    // max_faces below max_out (fewer boxes than room).
    for (const auto & [max_out, max_faces] : {std::pair<int32_t, int32_t>{found, 0}, {found + 7, 66}}) {
        std::vector<fer_face> faces(static_cast<size_t>(max_out));
        int32_t n = 0;
        p.max_faces = max_faces;
        ASSERT_EQ(fer_analyze(fx.ctx, fx.det, img.data, img.cols, img.rows, img.cols, &p, faces.data(), max_out, &n,
                              nullptr),
                  FER_OK);
        p.max_faces = 0;
        ASSERT_EQ(n, max_faces > 0 ? max_faces : found);
        for (int32_t i = 0; i < n; ++i) {
            const fer_box & a = faces[size_t(i)].box, & b = want[size_t(i)];
            ASSERT_TRUE(a.x == b.x && a.y == b.y && a.width == b.width && a.height == b.height &&
                        a.n_neighbors == b.n_neighbors)
                << "face " << i << " of " << n << " (max_out " << max_out << ")";
            uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE];
            ASSERT_EQ(fer_crop_face(img.data, img.cols, img.rows, img.cols, &a, &p, crop, nullptr, nullptr, nullptr),
                      FER_OK);
            fer_result r;
            ASSERT_EQ(fer_classify(fx.ctx, crop, FER_INPUT_SIZE, &r), FER_OK);
            ASSERT_EQ(std::memcmp(r.probabilities, faces[size_t(i)].result.probabilities, sizeof r.probabilities), 0)
                << "face " << i;
        }
    }
}

TEST(Analyze, ErrorsAreStatuses) {
    pipeline_fixture fx;
    if (!fx.missing.empty()) {
        GTEST_SKIP() << fx.missing;
    }
    ASSERT_TRUE(fx.det && fx.ctx);
    fer_pipeline_params p = fer_pipeline_default_params();
    uint8_t tiny[4] = {0};
    fer_face faces[2];
    int32_t n = 0;
    fer_detect_status ds = FER_DETECT_OK;
    // A 40000x40000 image is refused by the detector before it reads a pixel.
    EXPECT_EQ(fer_analyze(fx.ctx, fx.det, tiny, 40000, 40000, 40000, &p, faces, 2, &n, &ds), FER_ERR_TOO_LARGE);
    EXPECT_EQ(ds, FER_DETECT_ERR_TOO_LARGE);
    EXPECT_EQ(fer_analyze(nullptr, fx.det, tiny, 2, 2, 2, &p, faces, 2, &n, &ds), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_analyze(fx.ctx, fx.det, tiny, 2, 2, 2, &p, nullptr, 2, &n, &ds), FER_ERR_INVALID_ARGUMENT);
    // An image smaller than the cascade window: no face, no error.
    EXPECT_EQ(fer_analyze(fx.ctx, fx.det, tiny, 2, 2, 2, &p, faces, 2, &n, &ds), FER_OK);
    EXPECT_EQ(n, 0);
}

}  // namespace
