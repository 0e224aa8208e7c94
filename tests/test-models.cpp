// The networks (seed, fernet): parameter counts against the original Keras
// model, the summary table, forward shapes, the features/head split that class
// activation maps rely on, and model files (save/load round trip, bad files).

#include "test-util.h"
#include "checkpoint.h"
#include "error.h"
#include "models.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <unistd.h>

namespace fs = std::filesystem;
namespace nn = torch::nn;

namespace {

class temp_dir : public fer_test::temp_dir {
public:
    temp_dir() : fer_test::temp_dir("fer-test-models") {}
};

using fer_test::expect_error;

class Models : public testing::Test {
protected:
    static void SetUpTestSuite() { torch::set_num_threads(1); }
    void SetUp() override { torch::manual_seed(1234); }
};

// seed: the original Keras model, layer by layer (Conv2D with bias; BN has
// gamma/beta trainable and moving mean/variance non-trainable):
//   conv1 3x3x1->128 + bias      1*128*9 + 128       =     1,280
//   conv2 3x3x128->128 + bias    128*128*9 + 128     =   147,584
//   batch norm 128               2*128 (+ 2*128)     =       256 (+ 256)
//   fc1 12*12*128 -> 64          18432*64 + 64       = 1,179,712
//   fc2 64 -> 7                  64*7 + 7            =       455
//   trainable 1,329,287; non-trainable 256; total 1,329,543
TEST_F(Models, SeedParameterCountsMatchKeras) {
    fer::Net net = fer::make_net("seed");
    fer::param_counts c = fer::count_params(net);
    EXPECT_EQ(c.total, 1329543);
    EXPECT_EQ(c.trainable, 1329287);
    EXPECT_EQ(c.non_trainable, 256);
    EXPECT_EQ(net->arch, "seed");
}

TEST_F(Models, SeedSummaryShowsTotalsWithCommas) {
    fer::Net net = fer::make_net("seed");
    const std::string s = fer::net_summary(net);
    SCOPED_TRACE(s);
    EXPECT_NE(s.find("Total params: 1,329,543"), std::string::npos);
    EXPECT_NE(s.find("Trainable params: 1,329,287"), std::string::npos);
    EXPECT_NE(s.find("Non-trainable params: 256"), std::string::npos);
    // Keras' per-layer shapes (H, W, C) and counts.
    EXPECT_NE(s.find("(48, 48, 128)"), std::string::npos);
    EXPECT_NE(s.find("(12, 12, 128)"), std::string::npos);
    EXPECT_NE(s.find("1,179,712"), std::string::npos);
    EXPECT_NE(s.find("147,584"), std::string::npos);
    EXPECT_NE(s.find("(7)"), std::string::npos);
}

TEST_F(Models, FernetIsUnderAMillionParameters) {
    fer::Net net = fer::make_net("fernet");
    fer::param_counts c = fer::count_params(net);
    EXPECT_LT(c.total, 1000000);
    EXPECT_GT(c.trainable, 100000);
    EXPECT_EQ(c.total, c.trainable + c.non_trainable);
    // Independent count over the module tree.
    int64_t params = 0, buffers = 0;
    for (const auto & p : net->parameters()) params += p.numel();
    for (const auto & b : net->named_buffers()) {
        if (b.key().find("num_batches_tracked") == std::string::npos) buffers += b.value().numel();
    }
    EXPECT_EQ(c.trainable, params);
    EXPECT_EQ(c.non_trainable, buffers);
    const std::string s = fer::net_summary(net);
    EXPECT_NE(s.find("Model: fernet"), std::string::npos) << s;
    EXPECT_GT(fer::net_macs(net), 0);
}

TEST_F(Models, ArchitecturesAndDescriptions) {
    std::vector<std::string> archs = fer::net_architectures();
    ASSERT_FALSE(archs.empty());
    EXPECT_EQ(archs.front(), "fernet");  // the default first
    for (const auto & a : archs) {
        EXPECT_STRNE(fer::net_description(a), "") << a;
        fer::Net net = fer::make_net(a);
        EXPECT_EQ(net->arch, a);
    }
}

TEST_F(Models, StudentHasAboutHalfTheMultiplyAccumulates) {
    fer::Net big = fer::make_net("fernet"), small = fer::make_net("fernet-s");
    const double ratio = static_cast<double>(fer::net_macs(small)) / static_cast<double>(fer::net_macs(big));
    EXPECT_GT(ratio, 0.45);
    EXPECT_LT(ratio, 0.62);
    // Hand count: 3x3 convolutions 1-24, 24-24 at 48x48; 24-48, 48-48 at 24x24; 48-96, 96-96 at 12x12;
    // 96-160, 160-160 at 6x6; then a 160x7 fully connected layer.
    const int64_t want = 9 * (48 * 48 * (1 * 24 + 24 * 24) + 24 * 24 * (24 * 48 + 48 * 48) +
                              12 * 12 * (48 * 96 + 96 * 96) + 6 * 6 * (96 * 160 + 160 * 160)) + 160 * 7;
    EXPECT_EQ(fer::net_macs(small), want);
    const std::string s = fer::net_summary(small);
    EXPECT_NE(s.find("Model: fernet-s"), std::string::npos) << s;
    EXPECT_NE(s.find("Multiply-accumulates per face"), std::string::npos) << s;
}

TEST_F(Models, UnknownArchitectureIsUsageError) {
    expect_error([] { fer::make_net("resnet50"); }, fer::error_kind::usage, "resnet50");
    expect_error([] { fer::make_net(""); }, fer::error_kind::usage, "architecture");
}

TEST_F(Models, ForwardShapes) {
    torch::NoGradGuard no_grad;
    for (const std::string arch : {"seed", "fernet", "fernet-s"}) {
        fer::Net net = fer::make_net(arch);
        net->eval();
        for (int64_t n : {1, 3}) {
            SCOPED_TRACE(arch + " N=" + std::to_string(n));
            torch::Tensor y = net->forward(torch::randn({n, 1, 48, 48}));
            ASSERT_EQ(y.dim(), 2);
            EXPECT_EQ(y.size(0), n);
            EXPECT_EQ(y.size(1), 7);
            EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
        }
    }
    // Training mode too (batch norm with batch statistics).
    fer::Net net = fer::make_net("fernet");
    net->train();
    EXPECT_EQ(net->forward(torch::randn({3, 1, 48, 48})).sizes(), (std::vector<int64_t>{3, 7}));
}

TEST_F(Models, FernetFeaturesAreASpatialMapAndHeadPoolsGlobally) {
    torch::NoGradGuard no_grad;
    fer::Net net = fer::make_net("fernet");
    net->eval();
    torch::Tensor x = torch::randn({2, 1, 48, 48});
    torch::Tensor f = net->features->forward(x);
    ASSERT_EQ(f.dim(), 4) << "features must end on a spatial feature map (N,C,H,W)";
    EXPECT_EQ(f.size(0), 2);
    EXPECT_GT(f.size(2), 1);
    EXPECT_GT(f.size(3), 1);

    bool has_gap = false;
    nn::Linear fc{nullptr};
    for (const auto & child : net->head->named_children()) {
        if (child.value()->as<nn::AdaptiveAvgPool2d>()) has_gap = true;
        if (auto l = std::dynamic_pointer_cast<nn::LinearImpl>(child.value())) fc = nn::Linear(l);
    }
    EXPECT_TRUE(has_gap) << "the head of fernet must start with global average pooling";
    ASSERT_FALSE(fc.is_empty());
    ASSERT_EQ(fc->weight.size(1), f.size(1));

    // CAM property: logits = W . mean_hw(features) + b, so a class activation
    // map sum_k W[c,k] F_k averages to the class logit minus the bias.
    torch::Tensor logits = net->forward(x);
    torch::Tensor via_gap = torch::matmul(f.mean({2, 3}), fc->weight.t()) + fc->bias;
    EXPECT_TRUE(torch::allclose(logits, via_gap, 1e-4, 1e-5));
    torch::Tensor cam = torch::einsum("ck,nkhw->nchw", {fc->weight, f});
    EXPECT_TRUE(torch::allclose(cam.mean({2, 3}) + fc->bias, logits, 1e-4, 1e-5));
}

// Non-default batch-norm statistics so a round trip that drops buffers fails.
void perturb(fer::Net & net) {
    torch::NoGradGuard no_grad;
    for (auto & b : net->named_buffers()) {
        if (b.value().is_floating_point()) {
            b.value().uniform_(0.5, 1.5);
        }
    }
}

TEST_F(Models, SaveLoadRoundTripGivesIdenticalOutputs) {
    temp_dir tmp;
    torch::NoGradGuard no_grad;
    for (const std::string arch : {"fernet", "seed"}) {
        SCOPED_TRACE(arch);
        fer::Net net = fer::make_net(arch);
        perturb(net);
        net->eval();
        const std::string path = tmp / (arch + ".pt");
        fer::save_model(path, net);
        ASSERT_TRUE(fs::is_regular_file(path));
        // Written atomically: no temporary left next to it.
        for (const auto & e : fs::directory_iterator(fs::path(path).parent_path())) {
            EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
        }
        fer::Net loaded = fer::load_model(path);
        EXPECT_EQ(loaded->arch, arch);
        EXPECT_FALSE(loaded->is_training()) << "load_model returns a network in evaluation mode";
        torch::Tensor x = torch::randn({4, 1, 48, 48});
        torch::Tensor a = net->forward(x), b = loaded->forward(x);
        EXPECT_EQ((a - b).abs().max().item<float>(), 0.0f);
        // Every parameter and buffer is identical.
        auto pa = net->named_parameters(), pb = loaded->named_parameters();
        ASSERT_EQ(pa.size(), pb.size());
        for (const auto & p : pa) {
            EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
        }
        auto ba = net->named_buffers(), bb = loaded->named_buffers();
        for (const auto & p : ba) {
            EXPECT_TRUE(torch::equal(p.value(), bb[p.key()])) << p.key();
        }
    }
}

TEST_F(Models, SaveOverwritesAtomically) {
    temp_dir tmp;
    const std::string path = tmp / "model.pt";
    fer::Net a = fer::make_net("fernet");
    fer::save_model(path, a);
    fer::Net b = fer::make_net("seed");
    fer::save_model(path, b);
    EXPECT_EQ(fer::load_model(path)->arch, "seed");
}

TEST_F(Models, LoadMissingEmptyAndGarbageFilesAreInputErrors) {
    temp_dir tmp;
    const std::string missing = tmp / "missing.pt";
    expect_error([&] { fer::load_model(missing); }, fer::error_kind::input, missing);

    const std::string empty = tmp / "empty.pt";
    std::ofstream(empty).close();
    expect_error([&] { fer::load_model(empty); }, fer::error_kind::input, empty);

    const std::string garbage = tmp / "garbage.pt";
    {
        std::ofstream out(garbage, std::ios::binary);
        std::mt19937 rng(99);
        for (int i = 0; i < 10000; ++i) out.put(static_cast<char>(rng() & 0xFF));
    }
    expect_error([&] { fer::load_model(garbage); }, fer::error_kind::input, garbage);

    // A zip file (libtorch archives are zip files) that is cut short.
    const std::string full = tmp / "full.pt";
    fer::Net net = fer::make_net("fernet");
    fer::save_model(full, net);
    const std::string truncated = tmp / "truncated.pt";
    {
        std::ifstream in(full, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream out(truncated, std::ios::binary);
        out << bytes.substr(0, bytes.size() / 2);
    }
    expect_error([&] { fer::load_model(truncated); }, fer::error_kind::input, truncated);

    // A directory is not a model file.
    expect_error([&] { fer::load_model(tmp / ""); }, fer::error_kind::input, "");
}

TEST_F(Models, LoadArchiveWithoutArchOrWithMismatchedWeights) {
    temp_dir tmp;
    // A libtorch archive with weights but no "arch" entry.
    fer::Net seed = fer::make_net("seed");
    const std::string no_arch = tmp / "no-arch.pt";
    {
        torch::serialize::OutputArchive ar, m;
        seed->save(m);
        ar.write("model", m);
        ar.save_to(no_arch);
    }
    expect_error([&] { fer::load_model(no_arch); }, fer::error_kind::input, no_arch);

    // "arch" says fernet but the weights are seed's.
    const std::string mismatch = tmp / "mismatch.pt";
    {
        torch::serialize::OutputArchive ar, m;
        ar.write("arch", c10::IValue(std::string("fernet")));
        seed->save(m);
        ar.write("model", m);
        ar.save_to(mismatch);
    }
    expect_error([&] { fer::load_model(mismatch); }, fer::error_kind::input, mismatch);
}

// load_model promises an input error naming the file for anything that is not a
// model it can read: that includes a model of an architecture it does not know.
TEST_F(Models, LoadModelOfUnknownArchitectureIsInputErrorNamingFile) {
    temp_dir tmp;
    fer::Net seed = fer::make_net("seed");
    const std::string unknown = tmp / "unknown-arch.pt";
    {
        torch::serialize::OutputArchive ar, m;
        ar.write("arch", c10::IValue(std::string("transformer")));
        seed->save(m);
        ar.write("model", m);
        ar.save_to(unknown);
    }
    // The file, not the command line, is at fault: an input error naming it.
    expect_error([&] { fer::load_model(unknown); }, fer::error_kind::input, unknown);
}

TEST_F(Models, SaveToUnwritablePathIsError) {
    temp_dir tmp;
    const std::string file = tmp / "regular-file";
    std::ofstream(file) << "x";
    fer::Net net = fer::make_net("fernet");
    const std::string path = file + "/model.pt";  // a folder that is a file
    try {
        fer::save_model(path, net);
        ADD_FAILURE() << "no exception thrown";
    } catch (const fer::error & e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
}

}  // namespace
