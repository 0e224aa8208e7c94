// Test-time augmentation and ensembles (src/tta.cpp, the "best" mode): the
// views are what they claim, checked against this file's own shifting and
// mirroring; an ensemble's answer is exactly the documented mean of its
// members' outputs over the views; fer_analyze_image_ensemble classifies every
// face that way. The two members are the shipped float32 and int8 fernet
// files (models/), the faces the project's own samples/.
#include "fer-pipeline.h"
#include "sample-faces.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace {

const std::string k_models = std::string(FER_SOURCE_DIR) + "/models/";
constexpr int k_side = FER_INPUT_SIZE;

struct member {
    fer_model * model = nullptr;
    fer_context * ctx = nullptr;
    explicit member(const std::string & file) {
        model = fer_model_load_from_file(file.c_str(), fer_model_default_params());
        ctx = model ? fer_context_new(model) : nullptr;
    }
    ~member() {
        fer_context_free(ctx);
        fer_model_free(model);
    }
};

cv::Mat sample(const std::string & name) {
    return cv::imread(std::string(FER_SOURCE_DIR) + "/samples/" + name, cv::IMREAD_GRAYSCALE);
}

// The face moved by (dx, dy), border repeated, then mirrored when asked:
// written independently of src/tta.cpp, from the header's description.
std::vector<uint8_t> expected_view(const cv::Mat & face, int dx, int dy, bool mirror) {
    std::vector<uint8_t> out(k_side * k_side);
    for (int y = 0; y < k_side; ++y) {
        for (int x = 0; x < k_side; ++x) {
            const int mx = mirror ? k_side - 1 - x : x;
            const int sx = std::clamp(mx - dx, 0, k_side - 1), sy = std::clamp(y - dy, 0, k_side - 1);
            out[static_cast<size_t>(y * k_side + x)] = face.at<uint8_t>(sy, sx);
        }
    }
    return out;
}

// (dx, dy, mirror) of each ten-crop view, in the header's order.
std::vector<std::tuple<int, int, bool>> ten_crop_layout() {
    const int s = FER_TTA_SHIFT;
    const int offsets[5][2] = {{0, 0}, {-s, -s}, {s, -s}, {-s, s}, {s, s}};
    std::vector<std::tuple<int, int, bool>> v;
    for (const auto & o : offsets) {
        v.emplace_back(o[0], o[1], false);
        v.emplace_back(o[0], o[1], true);
    }
    return v;
}

TEST(Tta, ViewCounts) {
    EXPECT_EQ(fer_tta_views(FER_TTA_NONE), 1);
    EXPECT_EQ(fer_tta_views(FER_TTA_FLIP), 2);
    EXPECT_EQ(fer_tta_views(FER_TTA_TEN_CROP), 10);
    EXPECT_EQ(fer_tta_views(3), 0);
    EXPECT_EQ(fer_tta_views(-1), 0);
}

TEST(Tta, TenCropViewsAreTheShiftedAndMirroredFace) {
    const cv::Mat face = sample("happy-PublicTest_10245799.jpg");
    ASSERT_EQ(face.rows, k_side);
    const auto layout = ten_crop_layout();
    std::vector<std::vector<uint8_t>> seen;
    for (int v = 0; v < 10; ++v) {
        uint8_t got[k_side * k_side];
        ASSERT_EQ(fer_tta_view(face.data, static_cast<int>(face.step), FER_TTA_TEN_CROP, v, got), FER_OK);
        const auto [dx, dy, mirror] = layout[static_cast<size_t>(v)];
        const std::vector<uint8_t> want = expected_view(face, dx, dy, mirror);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), got)) << "view " << v;
        seen.push_back(want);
    }
    // Ten different pictures (a real face is not symmetric nor flat).
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(std::unique(seen.begin(), seen.end()) - seen.begin(), 10);
    // The flip views are ten-crop's first two.
    for (int v = 0; v < 2; ++v) {
        uint8_t a[k_side * k_side], b[k_side * k_side];
        ASSERT_EQ(fer_tta_view(face.data, static_cast<int>(face.step), FER_TTA_FLIP, v, a), FER_OK);
        ASSERT_EQ(fer_tta_view(face.data, static_cast<int>(face.step), FER_TTA_TEN_CROP, v, b), FER_OK);
        EXPECT_TRUE(std::equal(a, a + k_side * k_side, b)) << "view " << v;
    }
}

TEST(Tta, BadViewArgumentsAreRefused) {
    const cv::Mat face = sample("sad-PublicTest_10897412.jpg");
    uint8_t out[k_side * k_side];
    EXPECT_EQ(fer_tta_view(face.data, k_side, FER_TTA_FLIP, 2, out), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tta_view(face.data, k_side, FER_TTA_NONE, -1, out), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tta_view(face.data, k_side, 7, 0, out), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tta_view(face.data, k_side - 1, FER_TTA_NONE, 0, out), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tta_view(nullptr, k_side, FER_TTA_NONE, 0, out), FER_ERR_INVALID_ARGUMENT);
}

class Ensemble : public ::testing::Test {
  protected:
    member f32{k_models + "fernet.tflite"};
    member s8{k_models + "fernet-int8.tflite"};
    void SetUp() override {
        ASSERT_NE(f32.ctx, nullptr) << "models/fernet.tflite";
        ASSERT_NE(s8.ctx, nullptr) << "models/fernet-int8.tflite";
    }
};

// The best mode's promise: the mean of every member's probabilities over every
// view, summed in the documented order, exactly.
TEST_F(Ensemble, EqualsTheMeanOfItsMembersOverTheViewsExactly) {
    const auto layout = ten_crop_layout();
    bool members_differ = false, views_differ = false;
    for (const char * name : {"angry-PublicTest_11521746.jpg", "fear-PublicTest_10640936.jpg",
                              "surprise-PublicTest_10780425.jpg", "neutral-PublicTest_10549803.jpg"}) {
        const cv::Mat face = sample(name);
        ASSERT_EQ(face.rows, k_side) << name;
        fer_context * members[2] = {f32.ctx, s8.ctx};
        for (int32_t tta : {FER_TTA_NONE, FER_TTA_FLIP, FER_TTA_TEN_CROP}) {
            for (int n_members : {1, 2}) {
                const int n_views = fer_tta_views(tta);
                float sum[FER_N_CLASSES] = {};
                for (int m = 0; m < n_members; ++m) {
                    for (int v = 0; v < n_views; ++v) {
                        const auto [dx, dy, mirror] = layout[static_cast<size_t>(v)];
                        const std::vector<uint8_t> view = expected_view(face, dx, dy, mirror);
                        fer_result r;
                        ASSERT_EQ(fer_classify(members[m], view.data(), k_side, &r), FER_OK);
                        if (m == 0 && v == 1) {  // sum holds view 0 alone: does the mirror change anything?
                            views_differ = views_differ || !std::equal(sum, sum + FER_N_CLASSES, r.probabilities);
                        }
                        for (int c = 0; c < FER_N_CLASSES; ++c) {
                            sum[c] += r.probabilities[c];
                        }
                    }
                }
                fer_result got;
                ASSERT_EQ(fer_classify_ensemble(members, n_members, face.data, static_cast<int>(face.step), tta, &got),
                          FER_OK);
                int top = 0;
                for (int c = 0; c < FER_N_CLASSES; ++c) {
                    const float mean = sum[c] / static_cast<float>(n_members * n_views);
                    EXPECT_EQ(got.probabilities[c], mean) << name << " tta " << tta << " members " << n_members;
                    top = mean > sum[top] / static_cast<float>(n_members * n_views) ? c : top;
                }
                EXPECT_EQ(got.top_class, top);
                EXPECT_EQ(got.confidence, got.probabilities[top]);
            }
        }
        fer_result a, b;
        ASSERT_EQ(fer_classify(f32.ctx, face.data, k_side, &a), FER_OK);
        ASSERT_EQ(fer_classify(s8.ctx, face.data, k_side, &b), FER_OK);
        members_differ = members_differ || !std::equal(a.probabilities, a.probabilities + FER_N_CLASSES, b.probabilities);
    }
    // Otherwise the test could not tell members or views apart.
    EXPECT_TRUE(members_differ);
    EXPECT_TRUE(views_differ);
}

TEST_F(Ensemble, FlipIsTheOldFlipTta) {
    const cv::Mat face = sample("disgust-PublicTest_1274561.jpg");
    const std::vector<uint8_t> mirror = expected_view(face, 0, 0, true);
    fer_result a, b, flip;
    ASSERT_EQ(fer_classify(s8.ctx, face.data, k_side, &a), FER_OK);
    ASSERT_EQ(fer_classify(s8.ctx, mirror.data(), k_side, &b), FER_OK);
    ASSERT_EQ(fer_classify_flip(s8.ctx, face.data, k_side, &flip), FER_OK);
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        EXPECT_EQ(flip.probabilities[c], 0.5f * (a.probabilities[c] + b.probabilities[c]));
    }
}

// Member 0's context ends on the face itself, so its class activation map is
// the face's, not a shifted view's.
TEST_F(Ensemble, MemberZeroEndsOnTheFaceItself) {
    const cv::Mat face = sample("happy-PublicTest_10245799.jpg");
    int h = 0, w = 0;
    ASSERT_TRUE(fer_model_has_cam(f32.model, &h, &w));
    fer_context * members[2] = {f32.ctx, s8.ctx};
    fer_result r;
    ASSERT_EQ(fer_classify_ensemble(members, 2, face.data, k_side, FER_TTA_TEN_CROP, &r), FER_OK);
    std::vector<float> got(static_cast<size_t>(h * w)), want(got.size()), shifted(got.size());
    ASSERT_EQ(fer_context_cam(f32.ctx, r.top_class, got.data(), got.size()), FER_OK);
    const std::vector<uint8_t> last_view = expected_view(face, FER_TTA_SHIFT, FER_TTA_SHIFT, true);
    ASSERT_EQ(fer_classify(f32.ctx, last_view.data(), k_side, &r), FER_OK);
    ASSERT_EQ(fer_context_cam(f32.ctx, r.top_class, shifted.data(), shifted.size()), FER_OK);
    ASSERT_EQ(fer_classify(f32.ctx, face.data, k_side, &r), FER_OK);
    ASSERT_EQ(fer_context_cam(f32.ctx, r.top_class, want.data(), want.size()), FER_OK);
    EXPECT_EQ(got, want);
    EXPECT_NE(shifted, want);  // else the check could not fail
}

TEST_F(Ensemble, BadArgumentsAreRefused) {
    const cv::Mat face = sample("sad-PublicTest_10897412.jpg");
    fer_context * members[FER_ENSEMBLE_MAX + 1];
    std::fill(members, members + FER_ENSEMBLE_MAX + 1, s8.ctx);
    fer_result r;
    EXPECT_EQ(fer_classify_ensemble(members, 0, face.data, k_side, FER_TTA_NONE, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_ensemble(members, FER_ENSEMBLE_MAX + 1, face.data, k_side, FER_TTA_NONE, &r),
              FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_ensemble(members, FER_ENSEMBLE_MAX, face.data, k_side, FER_TTA_NONE, &r), FER_OK);
    EXPECT_EQ(fer_classify_ensemble(members, 1, face.data, k_side, 5, &r), FER_ERR_INVALID_ARGUMENT);
    fer_context * with_null[2] = {s8.ctx, nullptr};
    EXPECT_EQ(fer_classify_ensemble(with_null, 2, face.data, k_side, FER_TTA_NONE, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_classify_ensemble(nullptr, 1, face.data, k_side, FER_TTA_NONE, &r), FER_ERR_INVALID_ARGUMENT);
}

// The pipeline with an ensemble: every face's probabilities are the ensemble's
// on that face's crop; one member is fer_analyze_image itself.
TEST_F(Ensemble, AnalyzeClassifiesEveryFaceWithTheEnsemble) {
    fer_detector * det = fer_detector_load_from_file((k_models + "yunet-int8.tflite").c_str(), nullptr, nullptr, 0);
    ASSERT_NE(det, nullptr);
    cv::Mat canvas(480, 640, CV_8UC3, cv::Scalar(90, 110, 130));
    ASSERT_TRUE(fer_test::paste_sample_faces(canvas, {"happy-PublicTest_10245799.jpg", "surprise-PublicTest_10780425.jpg"},
                                             {cv::Rect(60, 120, 200, 200), cv::Rect(360, 140, 180, 180)}));
    cv::Mat grey;
    cv::cvtColor(canvas, grey, cv::COLOR_BGR2GRAY);
    fer_pipeline_params p = fer_pipeline_default_params();
    p.tta = FER_TTA_TEN_CROP;
    fer_context * members[2] = {f32.ctx, s8.ctx};
    fer_face faces[8], single[8];
    int32_t n = 0, n1 = 0;
    ASSERT_EQ(fer_analyze_image_ensemble(members, 2, det, canvas.data, canvas.cols, canvas.rows,
                                         static_cast<int32_t>(canvas.step), FER_PIXEL_BGR, &p, faces, 8, &n, nullptr),
              FER_OK);
    ASSERT_GE(n, 2);
    for (int i = 0; i < n; ++i) {
        uint8_t crop[k_side * k_side];
        ASSERT_EQ(fer_crop_face(grey.data, grey.cols, grey.rows, static_cast<int32_t>(grey.step), &faces[i].box, &p, crop,
                                nullptr, nullptr, nullptr),
                  FER_OK);
        fer_result want;
        ASSERT_EQ(fer_classify_ensemble(members, 2, crop, k_side, FER_TTA_TEN_CROP, &want), FER_OK);
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            EXPECT_EQ(faces[i].result.probabilities[c], want.probabilities[c]) << "face " << i;
        }
    }
    p.tta = FER_TTA_NONE;
    ASSERT_EQ(fer_analyze_image_ensemble(members, 1, det, canvas.data, canvas.cols, canvas.rows,
                                         static_cast<int32_t>(canvas.step), FER_PIXEL_BGR, &p, faces, 8, &n, nullptr),
              FER_OK);
    ASSERT_EQ(fer_analyze_image(f32.ctx, det, canvas.data, canvas.cols, canvas.rows, static_cast<int32_t>(canvas.step),
                                FER_PIXEL_BGR, &p, single, 8, &n1, nullptr),
              FER_OK);
    ASSERT_EQ(n, n1);
    for (int i = 0; i < n; ++i) {
        EXPECT_TRUE(std::equal(faces[i].result.probabilities, faces[i].result.probabilities + FER_N_CLASSES,
                               single[i].result.probabilities));
    }
    EXPECT_EQ(fer_analyze_image_ensemble(members, 0, det, canvas.data, canvas.cols, canvas.rows,
                                         static_cast<int32_t>(canvas.step), FER_PIXEL_BGR, &p, faces, 8, &n, nullptr),
              FER_ERR_INVALID_ARGUMENT);
    fer_detector_free(det);
}

}  // namespace
