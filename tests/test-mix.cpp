// Mixup and CutMix (train/mix.h): plans, their effect on a batch, and a
// training run with them that stays deterministic.

#include "error.h"
#include "log.h"
#include "mix.h"
#include "test-util.h"
#include "trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <set>

namespace {

using fer_test::expect_error;

torch::Tensor distinct_batch(int64_t n) {
    // Face i is filled with 10 * i + a ramp, so each pixel tells its source.
    return (torch::arange(n).reshape({n, 1, 1, 1}) * 10 +
            torch::arange(48 * 48).reshape({1, 1, 48, 48}).to(torch::kFloat) / 10000.0)
        .to(torch::kFloat);
}

TEST(Mix, NoneLeavesTheBatchAlone) {
    std::mt19937_64 rng(1);
    const fer::mix_plan p = fer::draw_mix("none", 1.0, 1.0, 8, 48, rng);
    EXPECT_FALSE(p.active);
    torch::Tensor x = distinct_batch(8), before = x.clone();
    fer::apply_mix(p, x);
    EXPECT_TRUE(torch::equal(x, before));
}

TEST(Mix, MixupBlendsEachFaceWithItsPartner) {
    std::mt19937_64 rng(2);
    const fer::mix_plan p = fer::draw_mix("mixup", 0.4, 1.0, 8, 48, rng);
    ASSERT_TRUE(p.active);
    EXPECT_FALSE(p.cut);
    EXPECT_GT(p.lambda, 0.0);
    EXPECT_LT(p.lambda, 1.0);
    std::vector<int64_t> sorted = p.partner;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 8; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i) << "a permutation";
    const torch::Tensor before = distinct_batch(8);
    torch::Tensor x = before.clone();
    fer::apply_mix(p, x);
    for (int64_t i = 0; i < 8; ++i) {
        const torch::Tensor want = p.lambda * before[i] + (1 - p.lambda) * before[p.partner[static_cast<size_t>(i)]];
        EXPECT_LT((x[i] - want).abs().max().item<double>(), 1e-4) << i;
    }
    // The same seed, the same plan.
    std::mt19937_64 again(2);
    const fer::mix_plan q = fer::draw_mix("mixup", 0.4, 1.0, 8, 48, again);
    EXPECT_EQ(q.lambda, p.lambda);
    EXPECT_EQ(q.partner, p.partner);
}

TEST(Mix, CutMixPastesARectangleAndLambdaIsWhatIsLeft) {
    int checked = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
        std::mt19937_64 rng(seed);
        const fer::mix_plan p = fer::draw_mix("cutmix", 1.0, 1.0, 4, 48, rng);
        ASSERT_TRUE(p.active && p.cut);
        const int area = (p.x1 - p.x0) * (p.y1 - p.y0);
        EXPECT_NEAR(p.lambda, 1.0 - area / 2304.0, 1e-12);
        const torch::Tensor before = distinct_batch(4);
        torch::Tensor x = before.clone();
        fer::apply_mix(p, x);
        for (int64_t i = 0; i < 4; ++i) {
            const int64_t j = p.partner[static_cast<size_t>(i)];
            for (int y = 0; y < 48; y += 3) {
                for (int xx = 0; xx < 48; xx += 3) {
                    const bool inside = xx >= p.x0 && xx < p.x1 && y >= p.y0 && y < p.y1;
                    ASSERT_EQ(x[i][0][y][xx].item<float>(), before[inside ? j : i][0][y][xx].item<float>())
                        << "seed " << seed << " face " << i << " at " << xx << "," << y;
                }
            }
        }
        checked += area > 0;
    }
    EXPECT_GT(checked, 10);
}

TEST(Mix, ProbabilityOfMixing) {
    std::mt19937_64 rng(3);
    int active = 0;
    for (int k = 0; k < 400; ++k) active += fer::draw_mix("cutmix", 1.0, 0.5, 16, 48, rng).active;
    EXPECT_GT(active, 150);
    EXPECT_LT(active, 250);
    for (int k = 0; k < 50; ++k) EXPECT_FALSE(fer::draw_mix("mixup", 1.0, 0.0, 16, 48, rng).active);
    expect_error([&] { fer::draw_mix("blend", 1.0, 1.0, 4, 48, rng); }, fer::error_kind::usage, "--mix");
}

TEST(Mix, TrainingWithCutMixIsDeterministicAndRecorded) {
    fer::log_set_quiet(true);
    fer_test::temp_dir tmp("fer-test-mix");
    const std::string csv = tmp / "m.csv";
    {
        std::mt19937 rng(1);
        std::uniform_int_distribution<int> px(0, 255);
        std::ofstream out(csv);
        out << "emotion,pixels,Usage\n";
        for (int k = 0; k < 28; ++k) {
            out << k % 7 << ",";
            for (int i = 0; i < 2304; ++i) out << (i ? " " : "") << px(rng);
            out << ",Training\n";
        }
    }
    fer::train_options o;
    o.data = csv;
    o.threads = 1;
    o.epochs = 2;
    o.batch = 8;
    o.mix = "cutmix";
    o.mix_prob = 1.0;
    o.out_dir = tmp / "a";
    const fer::train_result ra = fer::train(o, false);
    o.out_dir = tmp / "b";
    const fer::train_result rb = fer::train(o, false);
    EXPECT_EQ(ra.final_train_accuracy, rb.final_train_accuracy);
    std::ifstream ma(tmp / "a/metrics.csv"), mb(tmp / "b/metrics.csv");
    std::string la, lb;
    std::getline(ma, la);
    std::getline(mb, lb);
    std::getline(ma, la);
    std::getline(mb, lb);
    EXPECT_EQ(la.substr(0, la.find(",", la.find(",", la.find(",") + 1) + 1)),
              lb.substr(0, lb.find(",", lb.find(",", lb.find(",") + 1) + 1)))
        << "same training loss";
    std::ifstream cfg(tmp / "a/config.txt");
    const std::string config((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
    EXPECT_NE(config.find("mix=cutmix\n"), std::string::npos) << config;
    EXPECT_NE(config.find("mix_prob=1\n"), std::string::npos) << config;
}

}  // namespace
