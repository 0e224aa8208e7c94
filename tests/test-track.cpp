// Face tracker of the runtime (src/track.cpp, fer_tracker_* in fer-pipeline.h):
// id assignment, greedy IoU matching, track expiry and EMA smoothing, on
// hand-made faces so that every expected value can be worked out by hand.
#include "fer-pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <set>
#include <vector>

namespace {

struct tracker_deleter {
    void operator()(fer_tracker * t) const { fer_tracker_free(t); }
};
using tracker_ptr = std::unique_ptr<fer_tracker, tracker_deleter>;

tracker_ptr make_tracker(float iou, float alpha, int32_t max_missed) {
    fer_tracker_params p = fer_tracker_default_params();
    p.iou_threshold = iou;
    p.ema_alpha = alpha;
    p.max_missed = max_missed;
    return tracker_ptr(fer_tracker_new(p));
}

// A face whose classification puts `conf` on class `cls` and spreads the rest evenly.
fer_face make_face(int32_t x, int32_t y, int32_t side, int cls = FER_NEUTRAL, float conf = 0.88f) {
    fer_face f{};
    f.box = fer_box{x, y, side, side, 5};
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        f.result.probabilities[c] = c == cls ? conf : (1.0f - conf) / (FER_N_CLASSES - 1);
    }
    f.result.top_class = cls;
    f.result.confidence = conf;
    f.track_id = -1;
    return f;
}

std::vector<int32_t> ids(const std::vector<fer_face> & faces) {
    std::vector<int32_t> out;
    for (const auto & f : faces) out.push_back(f.track_id);
    return out;
}

int update(fer_tracker * t, std::vector<fer_face> & faces) {
    return fer_tracker_update(t, faces.data(), static_cast<int32_t>(faces.size()));
}

}  // namespace

TEST(Tracker, DefaultParamsAreAccepted) {
    const fer_tracker_params p = fer_tracker_default_params();
    EXPECT_GT(p.iou_threshold, 0.0f);
    EXPECT_LE(p.iou_threshold, 1.0f);
    EXPECT_GT(p.ema_alpha, 0.0f);
    EXPECT_LE(p.ema_alpha, 1.0f);
    EXPECT_GE(p.max_missed, 0);
    tracker_ptr t(fer_tracker_new(p));
    EXPECT_NE(t, nullptr);
}

TEST(Tracker, BadParamsAreRejected) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    struct bad {
        float iou, alpha;
        int32_t max_missed;
    };
    for (const bad & b : {bad{0.0f, 0.3f, 5}, bad{-0.1f, 0.3f, 5}, bad{1.01f, 0.3f, 5}, bad{nan, 0.3f, 5},
                          bad{0.3f, 0.0f, 5}, bad{0.3f, -1.0f, 5}, bad{0.3f, 1.5f, 5}, bad{0.3f, nan, 5},
                          bad{0.3f, 0.3f, -1}, bad{0.3f, 0.3f, 2000000000}}) {
        EXPECT_EQ(make_tracker(b.iou, b.alpha, b.max_missed), nullptr)
            << "iou " << b.iou << " alpha " << b.alpha << " max_missed " << b.max_missed;
    }
    // The edges of the ranges are valid.
    EXPECT_NE(make_tracker(1.0f, 1.0f, 0), nullptr);
}

TEST(Tracker, BadUpdateArgumentsAreRejected) {
    tracker_ptr t = make_tracker(0.3f, 0.3f, 5);
    fer_face f = make_face(0, 0, 50);
    EXPECT_EQ(fer_tracker_update(nullptr, &f, 1), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tracker_update(t.get(), nullptr, 1), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tracker_update(t.get(), &f, -1), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(fer_tracker_update(t.get(), nullptr, 0), FER_OK);  // a frame without faces
    fer_tracker_free(nullptr);  // like free(NULL)
}

TEST(Tracker, IdsStayWithMovingFaces) {
    tracker_ptr t = make_tracker(0.3f, 0.3f, 5);
    // Two faces walking towards each other 4 px per frame, and growing; the
    // detector lists faces largest first, so their order in the array swaps.
    for (int frame = 0; frame < 30; ++frame) {
        fer_face a = make_face(10 + 4 * frame, 40, 80 + frame);
        fer_face b = make_face(400 - 4 * frame, 60, 100 - frame / 2);
        const bool a_first = a.box.width >= b.box.width;
        std::vector<fer_face> faces = a_first ? std::vector<fer_face>{a, b} : std::vector<fer_face>{b, a};
        ASSERT_EQ(update(t.get(), faces), FER_OK);
        const int32_t id_a = faces[a_first ? 0 : 1].track_id, id_b = faces[a_first ? 1 : 0].track_id;
        // Frame 0 lists b (100 px) before a (80 px): b is seen first and gets id 1.
        EXPECT_EQ(id_a, 2) << "frame " << frame;
        EXPECT_EQ(id_b, 1) << "frame " << frame;
    }
}

TEST(Tracker, NewFaceGetsNewIdAndIdsAreNeverReused) {
    tracker_ptr t = make_tracker(0.3f, 0.3f, 2);
    std::vector<fer_face> one{make_face(0, 0, 100)};
    ASSERT_EQ(update(t.get(), one), FER_OK);
    EXPECT_EQ(one[0].track_id, 1);

    // A second face far away is new.
    std::vector<fer_face> two{make_face(2, 0, 100), make_face(300, 0, 100)};
    ASSERT_EQ(update(t.get(), two), FER_OK);
    EXPECT_EQ(ids(two), (std::vector<int32_t>{1, 2}));

    // Face 2 goes missing for max_missed (2) frames: it keeps its id when it comes back.
    std::vector<fer_face> only1{make_face(4, 0, 100)};
    ASSERT_EQ(update(t.get(), only1), FER_OK);
    ASSERT_EQ(update(t.get(), only1), FER_OK);
    std::vector<fer_face> back{make_face(4, 0, 100), make_face(300, 0, 100)};
    ASSERT_EQ(update(t.get(), back), FER_OK);
    EXPECT_EQ(ids(back), (std::vector<int32_t>{1, 2}));

    // Missing for max_missed + 1 frames: the track is dropped and the same
    // place later gets a fresh id, never an old one.
    for (int i = 0; i < 3; ++i) ASSERT_EQ(update(t.get(), only1), FER_OK);
    ASSERT_EQ(update(t.get(), back), FER_OK);
    EXPECT_EQ(ids(back), (std::vector<int32_t>{1, 3}));

    // Everything gone for long: all new faces get ids above every earlier one.
    std::vector<fer_face> none;
    for (int i = 0; i < 3; ++i) ASSERT_EQ(update(t.get(), none), FER_OK);
    ASSERT_EQ(update(t.get(), back), FER_OK);
    EXPECT_EQ(ids(back), (std::vector<int32_t>{4, 5}));
}

TEST(Tracker, BestOverlapIsMatchedFirst) {
    tracker_ptr t = make_tracker(0.3f, 0.3f, 5);
    std::vector<fer_face> start{make_face(0, 0, 100), make_face(60, 0, 100)};
    ASSERT_EQ(update(t.get(), start), FER_OK);
    ASSERT_EQ(ids(start), (std::vector<int32_t>{1, 2}));
    // Face 0 at x=35 overlaps track 1 (x=0) with IoU 65/135 = 0.48 and track 2
    // (x=60) with 75/125 = 0.60; face 1 at x=70 overlaps track 2 with 90/110 =
    // 0.82 and track 1 with 30/170 = 0.18. Taking faces in order would give
    // face 0 track 2 and leave face 1 without a match (0.18 < 0.3); best
    // pair first gives face 1 track 2, then face 0 track 1.
    std::vector<fer_face> next{make_face(35, 0, 100), make_face(70, 0, 100)};
    ASSERT_EQ(update(t.get(), next), FER_OK);
    EXPECT_EQ(ids(next), (std::vector<int32_t>{1, 2}));
}

TEST(Tracker, BelowIouThresholdIsANewFace) {
    tracker_ptr t = make_tracker(0.5f, 0.3f, 5);
    std::vector<fer_face> a{make_face(0, 0, 100)};
    ASSERT_EQ(update(t.get(), a), FER_OK);
    // Shifted by 40 px: IoU 60/140 = 0.43 < 0.5.
    std::vector<fer_face> b{make_face(40, 0, 100)};
    ASSERT_EQ(update(t.get(), b), FER_OK);
    EXPECT_EQ(b[0].track_id, 2);
    // Shifted by 30 px from there: IoU 70/130 = 0.54 >= 0.5.
    std::vector<fer_face> c{make_face(70, 0, 100)};
    ASSERT_EQ(update(t.get(), c), FER_OK);
    EXPECT_EQ(c[0].track_id, 2);
}

TEST(Tracker, EmaMatchesHandComputedValues) {
    tracker_ptr t = make_tracker(0.3f, 0.25f, 5);
    // Frame 1 starts the track with its own probabilities.
    // happy 0.88 (others 0.02), then sad 0.94 (others 0.01), then sad 0.94 again.
    std::vector<fer_face> f1{make_face(0, 0, 100, FER_HAPPY, 0.88f)};
    ASSERT_EQ(update(t.get(), f1), FER_OK);
    EXPECT_FLOAT_EQ(f1[0].smoothed[FER_HAPPY], 0.88f);
    EXPECT_FLOAT_EQ(f1[0].smoothed[FER_SAD], 0.02f);
    EXPECT_EQ(f1[0].smoothed_class, FER_HAPPY);

    std::vector<fer_face> f2{make_face(0, 0, 100, FER_SAD, 0.94f)};
    ASSERT_EQ(update(t.get(), f2), FER_OK);
    // 0.25 * 0.01 + 0.75 * 0.88 = 0.6625; 0.25 * 0.94 + 0.75 * 0.02 = 0.25;
    // others 0.25 * 0.01 + 0.75 * 0.02 = 0.0175.
    EXPECT_NEAR(f2[0].smoothed[FER_HAPPY], 0.6625f, 1e-6f);
    EXPECT_NEAR(f2[0].smoothed[FER_SAD], 0.25f, 1e-6f);
    EXPECT_NEAR(f2[0].smoothed[FER_ANGRY], 0.0175f, 1e-6f);
    EXPECT_EQ(f2[0].smoothed_class, FER_HAPPY);
    EXPECT_EQ(f2[0].result.top_class, FER_SAD);  // the frame's own result is left alone

    std::vector<fer_face> f3{make_face(0, 0, 100, FER_SAD, 0.94f)};
    ASSERT_EQ(update(t.get(), f3), FER_OK);
    // happy: 0.25 * 0.01 + 0.75 * 0.6625 = 0.499375; sad: 0.25 * 0.94 + 0.75 * 0.25 = 0.4225.
    EXPECT_NEAR(f3[0].smoothed[FER_HAPPY], 0.499375f, 1e-6f);
    EXPECT_NEAR(f3[0].smoothed[FER_SAD], 0.4225f, 1e-6f);
    EXPECT_EQ(f3[0].smoothed_class, FER_HAPPY);

    std::vector<fer_face> f4{make_face(0, 0, 100, FER_SAD, 0.94f)};
    ASSERT_EQ(update(t.get(), f4), FER_OK);
    // happy 0.25 * 0.01 + 0.75 * 0.499375 = 0.37703125; sad 0.25 * 0.94 + 0.75 * 0.4225 = 0.551875.
    EXPECT_NEAR(f4[0].smoothed[FER_HAPPY], 0.37703125f, 1e-6f);
    EXPECT_NEAR(f4[0].smoothed[FER_SAD], 0.551875f, 1e-6f);
    EXPECT_EQ(f4[0].smoothed_class, FER_SAD);

    float sum = 0;
    for (float p : f4[0].smoothed) sum += p;
    EXPECT_NEAR(sum, 1.0f, 1e-5f);  // a convex combination of distributions stays one
}

TEST(Tracker, OneOutlierFrameDoesNotFlipTheLabel) {
    tracker_ptr t(fer_tracker_new(fer_tracker_default_params()));
    ASSERT_NE(t, nullptr);
    for (int frame = 0; frame < 20; ++frame) {
        const bool outlier = frame == 10;
        std::vector<fer_face> f{make_face(100 + frame, 50, 120, outlier ? FER_FEAR : FER_HAPPY, outlier ? 0.97f : 0.7f)};
        ASSERT_EQ(update(t.get(), f), FER_OK);
        EXPECT_EQ(f[0].track_id, 1);
        EXPECT_EQ(f[0].result.top_class, outlier ? FER_FEAR : FER_HAPPY);
        EXPECT_EQ(f[0].smoothed_class, FER_HAPPY) << "frame " << frame;
    }
}

TEST(Tracker, AlphaOneDisablesSmoothing) {
    tracker_ptr t = make_tracker(0.3f, 1.0f, 5);
    const int classes[] = {FER_HAPPY, FER_SAD, FER_HAPPY, FER_ANGRY};
    for (int cls : classes) {
        std::vector<fer_face> f{make_face(0, 0, 100, cls, 0.6f)};
        ASSERT_EQ(update(t.get(), f), FER_OK);
        EXPECT_EQ(f[0].smoothed_class, cls);
        for (int c = 0; c < FER_N_CLASSES; ++c) EXPECT_FLOAT_EQ(f[0].smoothed[c], f[0].result.probabilities[c]);
    }
}

TEST(Tracker, MoreFacesThanTheTableAreReportedUntracked) {
    tracker_ptr t = make_tracker(0.3f, 0.3f, 5);
    // 100 disjoint faces in one frame: the table holds a bounded number of
    // tracks; those get distinct ids, the others -1 with their own probabilities.
    std::vector<fer_face> many;
    for (int i = 0; i < 100; ++i) many.push_back(make_face((i % 10) * 50, (i / 10) * 50, 40, i % FER_N_CLASSES, 0.5f));
    ASSERT_EQ(update(t.get(), many), FER_OK);
    std::set<int32_t> seen;
    int untracked = 0;
    for (const auto & f : many) {
        if (f.track_id == -1) {
            ++untracked;
        } else {
            EXPECT_TRUE(seen.insert(f.track_id).second) << "id " << f.track_id << " given twice";
        }
        EXPECT_EQ(f.smoothed_class, f.result.top_class);
    }
    EXPECT_GE(seen.size(), 16u);  // at least a crowded frame's worth
    EXPECT_EQ(seen.size() + untracked, many.size());
    // The same faces next frame keep the same ids: tracked ones are not evicted by untracked ones.
    std::vector<fer_face> again = many;
    ASSERT_EQ(update(t.get(), again), FER_OK);
    EXPECT_EQ(ids(again), ids(many));
}
