// Grad-CAM maps: right size and range, and peaking where the evidence is.
// A network is trained for a few seconds on synthetic faces whose class is
// "the square is bright" (anywhere), so its map for that class must peak at
// the square it was shown.
#include "gradcam.h"
#include "models.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace {

constexpr int k_side = 48;

// Noise background with a 12x12 square at (y0, x0): bright for the class,
// dark otherwise, so that only the square itself tells the classes apart
// (the image mean barely differs).
torch::Tensor synthetic_face(torch::Generator & gen, int y0, int x0, bool bright) {
    torch::Tensor img = torch::rand({1, 1, k_side, k_side}, gen) * 0.6 - 0.3;
    img.index_put_({0, 0, torch::indexing::Slice(y0, y0 + 12), torch::indexing::Slice(x0, x0 + 12)},
                   bright ? 1.5 : -1.5);
    return img;
}

struct corner {
    int y, x;
};
const corner k_corners[3] = {{4, 4}, {32, 32}, {4, 32}};

fer::Net train_blob_detector() {
    torch::manual_seed(7);
    auto gen = at::detail::createCPUGenerator(7);
    fer::Net net = fer::make_net("fernet");
    torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(2e-3));
    net->train();
    for (int step = 0; step < 60; ++step) {
        std::vector<torch::Tensor> xs;
        std::vector<int64_t> ys;
        for (int i = 0; i < 32; ++i) {
            const bool blob = (i % 2) == 0;
            const int y0 = static_cast<int>(torch::randint(0, k_side - 12, {1}, gen).item<int64_t>());
            const int x0 = static_cast<int>(torch::randint(0, k_side - 12, {1}, gen).item<int64_t>());
            xs.push_back(synthetic_face(gen, y0, x0, blob));
            ys.push_back(blob ? 3 : 6);  // "happy" when the blob is there, else "neutral"
        }
        torch::Tensor x = torch::cat(xs), y = torch::tensor(ys);
        opt.zero_grad();
        torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        loss.backward();
        opt.step();
    }
    net->eval();
    return net;
}

}  // namespace

TEST(GradCam, MapHasFaceSizeAndUnitRange) {
    torch::manual_seed(1);
    fer::Net net = fer::make_net("fernet");
    torch::Tensor face = torch::randn({1, 1, k_side, k_side});
    fer::cam_result r = fer::grad_cam(net, face, 2);
    ASSERT_EQ(r.map.dim(), 2);
    EXPECT_EQ(r.map.size(0), k_side);
    EXPECT_EQ(r.map.size(1), k_side);
    EXPECT_GE(r.map.min().item<float>(), 0.0f);
    EXPECT_LE(r.map.max().item<float>(), 1.0f + 1e-6f);
    EXPECT_EQ(r.cls, 2);
    EXPECT_NEAR(r.probabilities.sum().item<float>(), 1.0f, 1e-5f);
}

TEST(GradCam, WorksForTheSeedNetworkToo) {
    torch::manual_seed(1);
    fer::Net net = fer::make_net("seed");
    fer::cam_result r = fer::grad_cam(net, torch::randn({1, 1, k_side, k_side}));
    EXPECT_EQ(r.map.size(0), k_side);
    EXPECT_EQ(r.cls, r.probabilities.argmax().item<int64_t>());
}

TEST(GradCam, RejectsBadShapes) {
    fer::Net net = fer::make_net("fernet");
    EXPECT_ANY_THROW(fer::grad_cam(net, torch::randn({2, 1, k_side, k_side})));
    EXPECT_ANY_THROW(fer::grad_cam(net, torch::randn({1, 1, k_side, k_side}), 7));
}

TEST(GradCam, PeaksOnThePlantedSignal) {
    torch::set_num_threads(1);
    fer::Net net = train_blob_detector();
    auto gen = at::detail::createCPUGenerator(99);
    for (const corner & c : k_corners) {
        torch::Tensor face = synthetic_face(gen, c.y, c.x, true);
        fer::cam_result r = fer::grad_cam(net, face, 3);
        ASSERT_GT(r.probabilities[3].item<float>(), 0.5f) << "the network did not learn the blob";
        const int64_t peak = r.map.argmax().item<int64_t>();
        const int py = static_cast<int>(peak / k_side), px = static_cast<int>(peak % k_side);
        // The peak lies on the blob (12x12), allowing the 8-pixel cells of the
        // 6x6 feature map to blur it a little.
        EXPECT_GE(py, c.y - 6) << "blob at (" << c.y << "," << c.x << "), peak at (" << py << "," << px << ")";
        EXPECT_LE(py, c.y + 17) << "blob at (" << c.y << "," << c.x << "), peak at (" << py << "," << px << ")";
        EXPECT_GE(px, c.x - 6) << "blob at (" << c.y << "," << c.x << "), peak at (" << py << "," << px << ")";
        EXPECT_LE(px, c.x + 17) << "blob at (" << c.y << "," << c.x << "), peak at (" << py << "," << px << ")";
        // The map is cooler far from the blob (the opposite corner).
        const corner o = {c.y < 24 ? 32 : 4, c.x < 24 ? 32 : 4};
        const float far = r.map.slice(0, o.y, o.y + 12).slice(1, o.x, o.x + 12).mean().item<float>();
        const float near = r.map.slice(0, c.y, c.y + 12).slice(1, c.x, c.x + 12).mean().item<float>();
        EXPECT_GT(near, far + 0.2f);
    }
}
