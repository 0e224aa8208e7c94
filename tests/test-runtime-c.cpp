// The runtime's C API on its own (no libtorch): the shipped models load and
// classify with every kernel set, broken and hostile files are refused
// without harm. Built in the normal test build and in the ASan + UBSan build
// (scripts/sanitize.sh), where "without harm" is checked by the sanitizers.
#include "fer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<unsigned char> read_file(const fs::path & p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

struct quiet_log {
    std::string text;
    fer_model_params params(int reference = 0) {
        fer_model_params p = fer_model_default_params();
        p.log_callback = [](int, const char * m, void * u) { static_cast<quiet_log *>(u)->text += m; };
        p.log_user_data = this;
        p.reference_kernels = reference;
        return p;
    }
};

std::vector<unsigned char> random_faces(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<unsigned char> v(n * 48 * 48);
    for (auto & p : v) {
        p = static_cast<unsigned char>(rng() & 0xff);
    }
    return v;
}

const fs::path k_models = fs::path(FER_SOURCE_DIR) / "models";

}  // namespace

TEST(RuntimeC, ShippedModelsClassifyWithEveryKernelSet) {
    const auto faces = random_faces(6, 3);
    for (const char * name : {"fernet.tflite", "fernet-int8.tflite"}) {
        const fs::path path = k_models / name;
        if (!fs::exists(path)) {
            GTEST_SKIP() << path << " is missing";
        }
        std::vector<fer_result> by_kernels[2];
        for (int reference = 0; reference < 2; ++reference) {
            quiet_log log;
            fer_model * m = fer_model_load_from_file(path.c_str(), log.params(reference));
            ASSERT_NE(m, nullptr) << name << ": " << log.text;
            fer_context * c = fer_context_new(m);
            ASSERT_NE(c, nullptr);
            int h = 0, w = 0;
            const bool cam = fer_model_has_cam(m, &h, &w) != 0;
            for (size_t i = 0; i < faces.size() / 2304; ++i) {
                fer_result r;
                ASSERT_EQ(fer_classify(c, faces.data() + i * 2304, 48, &r), FER_OK);
                float sum = 0.0f;
                for (float p : r.probabilities) {
                    EXPECT_TRUE(p >= 0.0f && p <= 1.0f) << name << " face " << i;
                    sum += p;
                }
                // an int8 SOFTMAX output has steps of 1/256: seven roundings of up to half a step
                EXPECT_NEAR(sum, 1.0f, 7.0f / 512.0f) << name << " face " << i;
                EXPECT_EQ(r.probabilities[r.top_class], r.confidence);
                if (cam) {
                    std::vector<float> map(static_cast<size_t>(h * w));
                    ASSERT_EQ(fer_context_cam(c, r.top_class, map.data(), map.size()), FER_OK);
                    for (float v : map) {
                        EXPECT_TRUE(std::isfinite(v));
                    }
                    EXPECT_EQ(fer_context_cam(c, r.top_class, map.data(), map.size() - 1), FER_ERR_INVALID_ARGUMENT);
                }
                by_kernels[reference].push_back(r);
            }
            EXPECT_EQ(fer_classify(c, nullptr, 48, nullptr), FER_ERR_INVALID_ARGUMENT);
            fer_context_free(c);
            fer_model_free(m);
        }
        for (size_t i = 0; i < by_kernels[0].size(); ++i) {  // optimised vs reference kernels
            EXPECT_EQ(by_kernels[0][i].top_class, by_kernels[1][i].top_class) << name << " face " << i;
            for (int k = 0; k < FER_N_CLASSES; ++k) {
                EXPECT_NEAR(by_kernels[0][i].probabilities[k], by_kernels[1][i].probabilities[k], 1e-4f) << name;
            }
        }
    }
}

// Every prefix length of a real model (a sample of them) and every byte
// flipped in its first kilobyte: each is either loaded and runs, or refused
// with a message. The sanitizers catch any out-of-bounds access on the way.
TEST(RuntimeC, TruncatedAndCorruptedModelsAreHandled) {
    const fs::path path = k_models / "fernet-int8.tflite";
    if (!fs::exists(path)) {
        GTEST_SKIP() << path << " is missing";
    }
    const std::vector<unsigned char> good = read_file(path);
    ASSERT_GT(good.size(), 1024u);
    const auto face = random_faces(1, 5);
    auto try_load = [&](const std::vector<unsigned char> & bytes, const std::string & what) {
        quiet_log log;
        fer_model * m = fer_model_load_from_buffer(bytes.data(), bytes.size(), log.params());
        if (!m) {
            EXPECT_FALSE(log.text.empty()) << what << ": refused without a message";
            return;
        }
        fer_context * c = fer_context_new(m);
        fer_result r;
        if (c) {
            fer_classify(c, face.data(), 48, &r);
        }
        fer_context_free(c);
        fer_model_free(m);
    };
    for (size_t len = 0; len < good.size(); len += len < 256 ? 7 : 4099) {
        std::vector<unsigned char> cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
        quiet_log log;
        EXPECT_EQ(fer_model_load_from_buffer(cut.data(), cut.size(), log.params()), nullptr) << "prefix " << len;
        EXPECT_FALSE(log.text.empty()) << "prefix " << len;
    }
    std::mt19937 rng(11);
    for (size_t i = 0; i < 300; ++i) {
        std::vector<unsigned char> bad = good;
        const size_t at = rng() % 1024;
        bad[at] = static_cast<unsigned char>(bad[at] ^ (1u << (rng() % 8)));
        try_load(bad, "byte " + std::to_string(at) + " flipped");
    }
}

// The fuzzer's seeds and the inputs of its past findings (tests/fuzz/).
TEST(RuntimeC, FuzzCorpusAndRegressionsAreHandled) {
    const fs::path dir = fs::path(FER_SOURCE_DIR) / "tests" / "fuzz";
    int n = 0;
    for (const char * sub : {"corpus", "regressions"}) {
        for (const auto & e : fs::directory_iterator(dir / sub)) {
            const std::vector<unsigned char> bytes = read_file(e.path());
            quiet_log log;
            fer_model * m = fer_model_load_from_buffer(bytes.data(), bytes.size(), log.params());
            if (m) {
                fer_context * c = fer_context_new(m);
                const auto face = random_faces(1, 9);
                fer_result r;
                EXPECT_EQ(fer_classify(c, face.data(), 48, &r), FER_OK) << e.path();
                fer_context_free(c);
                fer_model_free(m);
            } else {
                EXPECT_FALSE(log.text.empty()) << e.path();
            }
            ++n;
        }
    }
    EXPECT_GE(n, 4);
}
