// The runtime's C API on its own (no libtorch): the shipped models load and
// classify with every kernel set, broken and hostile files are refused
// without harm. Built in the normal test build and in the ASan + UBSan build
// (scripts/sanitize.sh), where "without harm" is checked by the sanitizers.
#include "fer-cpp.h"
#include "fer-detect.h"
#include "fer-pipeline.h"
#include "fer.h"
#include "kernel-tester.h"

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
constexpr int k_tflite_int8 = 9;  // the TFLite type number fer_context_tensor reports

}  // namespace

// Every kernel set this build and CPU run (fer_kernel_set_supported), forced
// through fer_model_params.kernel_set, against the reference set on the same
// faces: every tensor of the int8 model byte-identical (the optimised int8
// kernels are exact twins), float32 probabilities within rounding.
TEST(RuntimeC, ShippedModelsClassifyWithEveryKernelSet) {
    const auto faces = random_faces(6, 3);
    for (const char * name : {"fernet.tflite", "fernet-int8.tflite"}) {
        const fs::path path = k_models / name;
        if (!fs::exists(path)) {
            GTEST_SKIP() << path << " is missing";
        }
        const bool int8 = std::string(name).find("int8") != std::string::npos;
        std::vector<fer_result> reference_results;
        std::vector<std::vector<unsigned char>> reference_tensors;
        int sets_run = 0;
        // REFERENCE first: the others are compared with it.
        for (int set : {static_cast<int>(FER_KERNELS_REFERENCE), static_cast<int>(FER_KERNELS_BEST),
                        static_cast<int>(FER_KERNELS_AVX2), static_cast<int>(FER_KERNELS_AVXVNNI),
                        static_cast<int>(FER_KERNELS_NEON), static_cast<int>(FER_KERNELS_WASM_SIMD128)}) {
            const std::string set_name = fer_kernel_set_name(set);
            if (!fer_kernel_set_supported(set)) {
                quiet_log log;
                fer_model_params p = log.params();
                p.kernel_set = set;
                EXPECT_EQ(fer_model_load_from_file(path.c_str(), p), nullptr) << set_name;
                EXPECT_NE(log.text.find(set_name), std::string::npos) << log.text;
                continue;
            }
            ++sets_run;
            quiet_log log;
            fer_model_params p = log.params();
            p.kernel_set = set;
            p.keep_all_tensors = 1;
            fer_model * m = fer_model_load_from_file(path.c_str(), p);
            ASSERT_NE(m, nullptr) << name << " " << set_name << ": " << log.text;
            if (set != FER_KERNELS_BEST) {
                EXPECT_EQ(fer_model_kernel_set(m), set) << set_name;
            }
            EXPECT_NE(fer_model_kernel_set(m), FER_KERNELS_BEST);
            fer_context * c = fer_context_new(m);
            ASSERT_NE(c, nullptr);
            int h = 0, w = 0;
            const bool cam = fer_model_has_cam(m, &h, &w) != 0;
            for (size_t i = 0; i < faces.size() / 2304; ++i) {
                fer_result r;
                ASSERT_EQ(fer_classify(c, faces.data() + i * 2304, 48, &r), FER_OK);
                float sum = 0.0f;
                for (float q : r.probabilities) {
                    EXPECT_TRUE(q >= 0.0f && q <= 1.0f) << name << " face " << i;
                    sum += q;
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
                // every INT8 tensor of the graph after this face (float32 ones,
                // e.g. the int8 model's dequantised head, differ by rounding)
                std::vector<unsigned char> bytes;
                for (int t = 0; t < fer_model_n_tensors(m); ++t) {
                    size_t n = 0;
                    int type = 0;
                    const void * data = fer_context_tensor(c, t, &n, &type, nullptr);
                    ASSERT_NE(data, nullptr) << "tensor " << t;
                    if (type == k_tflite_int8) {
                        bytes.insert(bytes.end(), static_cast<const unsigned char *>(data),
                                     static_cast<const unsigned char *>(data) + n);
                    }
                }
                if (set == FER_KERNELS_REFERENCE) {
                    reference_results.push_back(r);
                    reference_tensors.push_back(bytes);
                    continue;
                }
                const fer_result & ref = reference_results[i];
                EXPECT_EQ(r.top_class, ref.top_class) << name << " " << set_name << " face " << i;
                for (int k = 0; k < FER_N_CLASSES; ++k) {
                    EXPECT_NEAR(r.probabilities[k], ref.probabilities[k], 1e-4f) << name << " " << set_name;
                }
                if (int8) {
                    EXPECT_GT(bytes.size(), 100000u);
                    EXPECT_TRUE(bytes == reference_tensors[i]) << name << " " << set_name << " face " << i
                                                              << ": an int8 tensor differs from the reference kernels'";
                }
            }
            EXPECT_EQ(fer_classify(c, nullptr, 48, nullptr), FER_ERR_INVALID_ARGUMENT);
            fer_context_free(c);
            fer_model_free(m);
        }
        EXPECT_GE(sets_run, 2) << "BEST and REFERENCE always run";
    }
}

// The old switch still works: reference_kernels = 1 is the reference set.
TEST(RuntimeC, ReferenceKernelsFlagSelectsTheReferenceSet) {
    quiet_log log;
    fer_model * m = fer_model_load_from_file((k_models / "fernet-int8.tflite").c_str(), log.params(1));
    ASSERT_NE(m, nullptr) << log.text;
    EXPECT_EQ(fer_model_kernel_set(m), FER_KERNELS_REFERENCE);
    EXPECT_STREQ(fer_model_kernels(m), "reference");
    fer_model_free(m);
    fer_model_params p = fer_model_default_params();
    p.kernel_set = 99;
    p.log_callback = [](int, const char *, void *) {};
    EXPECT_EQ(fer_model_load_from_file((k_models / "fernet-int8.tflite").c_str(), p), nullptr);
    EXPECT_EQ(fer_kernel_set_name(99), nullptr);
}

// YuNet (int8, depthwise convolutions, several float outputs): every INT8
// tensor of every supported kernel set byte-identical to the reference
// set's, the float outputs within rounding.
TEST(RuntimeC, DetectorGraphGivesTheSameResultsWithEveryKernelSet) {
    const fs::path path = k_models / "yunet-int8.tflite";
    if (!fs::exists(path)) {
        GTEST_SKIP() << path << " is missing";
    }
    std::vector<std::vector<float>> reference;
    std::vector<unsigned char> reference_int8;
    for (int set = FER_KERNELS_REFERENCE; set < FER_KERNELS_COUNT; ++set) {
        if (!fer_kernel_set_supported(set)) {
            continue;
        }
        quiet_log log;
        fer_model_params p = log.params();
        p.kernel_set = set;
        p.keep_all_tensors = 1;
        p.input_height = 96;
        p.input_width = 128;
        fer_model * m = fer_model_load_from_file(path.c_str(), p);
        ASSERT_NE(m, nullptr) << log.text;
        fer_context * c = fer_context_new(m);
        ASSERT_NE(c, nullptr);
        int dims[4];
        const int rank = fer_model_input_dims(m, dims);
        size_t n = 1;
        for (int k = 0; k < rank; ++k) {
            n *= static_cast<size_t>(dims[k]);
        }
        std::mt19937 rng(17);
        std::vector<float> input(n);
        for (float & x : input) {
            x = static_cast<float>(rng() % 256);
        }
        ASSERT_EQ(fer_context_run(c, input.data(), input.size()), FER_OK);
        std::vector<unsigned char> int8;
        for (int t = 0; t < fer_model_n_tensors(m); ++t) {
            size_t count = 0;
            int type = 0;
            const void * data = fer_context_tensor(c, t, &count, &type, nullptr);
            ASSERT_NE(data, nullptr);
            if (type == k_tflite_int8) {
                int8.insert(int8.end(), static_cast<const unsigned char *>(data),
                            static_cast<const unsigned char *>(data) + count);
            }
        }
        if (set == FER_KERNELS_REFERENCE) {
            reference_int8 = int8;
            EXPECT_GT(reference_int8.size(), 10000u);
        } else {
            EXPECT_TRUE(int8 == reference_int8) << fer_kernel_set_name(set) << ": an int8 tensor differs";
        }
        for (int o = 0; o < fer_model_n_outputs(m); ++o) {
            size_t count = 0;
            const float * out = fer_context_output(c, o, &count);
            ASSERT_NE(out, nullptr);
            std::vector<float> v(out, out + count);
            if (set == FER_KERNELS_REFERENCE) {
                reference.push_back(v);
                continue;
            }
            const std::vector<float> & ref = reference[static_cast<size_t>(o)];
            ASSERT_EQ(v.size(), ref.size());
            for (size_t i = 0; i < v.size(); ++i) {
                ASSERT_NEAR(v[i], ref[i], 1e-4f * (std::fabs(ref[i]) + 1.0f))
                    << fer_kernel_set_name(set) << ": output " << fer_model_output_name(m, o) << " element " << i;
            }
        }
        fer_context_free(c);
        fer_model_free(m);
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

// The optimised int8 convolutions this build and CPU run against their
// reference twin, on the cases of tests/kernel-tester.h (the same cases run
// under Node for SIMD128 and under qemu-aarch64 for NEON).
TEST(Kernels, Int8ConvTwinsMatchReference) {
    int variants = 0;
#ifdef FER_HAVE_AVX2
    if (fer_rt::fer_cpu_has_avx2_fma()) {
        const fer_kernel_test::conv_s8_variant avx2 = {
            "avx2", 2, fer_kernel_test::run_int16_pairs<fer_rt::fer_conv2d_s8__avx2>};
        const int runs_before = fer_kernel_test::row_run_cases;
        EXPECT_EQ(fer_kernel_test::check_conv_s8(avx2), 0);
        EXPECT_GT(fer_kernel_test::row_run_cases, runs_before) << "no case took the row-run rewrite";
        ++variants;
    }
#endif
#ifdef FER_HAVE_AVXVNNI
    if (fer_rt::fer_cpu_has_avxvnni()) {
        const fer_kernel_test::conv_s8_variant vnni = {
            "avxvnni", 4,
            [](const fer_rt::conv_params & p, const fer_rt::quant_params & q, const int8_t * x, const int8_t * w,
               const int32_t * bias, const float * scale, int8_t * out, int32_t * scratch) {
                const size_t oc_pad = static_cast<size_t>(fer_rt::conv_padded_channels(p.out_c));
                std::vector<int8_t> wv(static_cast<size_t>(p.k_h * p.k_w * ((p.in_c + 3) / 4)) * oc_pad * 4);
                std::vector<int32_t> bv(oc_pad);
                std::vector<float> sv(oc_pad);
                fer_rt::fer_conv2d_pack_s8_vnni(p, q.in_zp, w, bias, scale, wv.data(), bv.data(), sv.data());
                fer_rt::fer_conv2d_s8__avxvnni(p, q, x, wv.data(), bv.data(), sv.data(), out, scratch);
            }};
        EXPECT_EQ(fer_kernel_test::check_conv_s8(vnni), 0);
        ++variants;
    }
#endif
    if (variants == 0) {
        GTEST_SKIP() << "no optimised int8 convolution runs on this build and CPU";
    }
}

// The Winograd F(2x2, 3x3) int8 convolution against the reference: exact
// integer arithmetic, so bit-identical (tests/kernel-tester.h has the cases).
TEST(Kernels, Int8WinogradMatchesReference) {
#ifdef FER_HAVE_AVX2
    if (!fer_rt::fer_cpu_has_avx2_fma()) {
        GTEST_SKIP() << "the CPU lacks AVX2";
    }
    fer_kernel_test::conv_s8_variant v = {"avx2 winograd", 2,
                                          fer_kernel_test::run_winograd<fer_rt::fer_conv2d_s8_winograd__avx2>};
    v.scratch_words = fer_rt::fer_conv2d_s8_winograd_scratch;
    EXPECT_EQ(fer_kernel_test::check_conv_s8_winograd(v), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

// YuNet's input resampling kernel against the reference, bit for bit.
TEST(Kernels, ScaleAddTwinsMatchReference) {
#ifdef FER_HAVE_AVX2
    if (!fer_rt::fer_cpu_has_avx2_fma()) {
        GTEST_SKIP() << "the CPU lacks AVX2";
    }
    EXPECT_EQ(fer_kernel_test::check_scale_add_u8("avx2", fer_rt::fer_scale_add_u8__avx2), 0);
#else
    GTEST_SKIP() << "built without the AVX2 kernels";
#endif
}

// Which convolutions the Winograd kernel takes, and its scratch plan for
// fernet's first 3x3 layer worked out by hand.
TEST(Kernels, WinogradTakesThreeByThreeStrideOne) {
    fer_rt::conv_params p;
    p.in_h = p.in_w = p.out_h = p.out_w = 48, p.in_c = p.out_c = 32;
    p.k_h = p.k_w = 3, p.pad_top = p.pad_left = 1;
    EXPECT_TRUE(fer_rt::fer_conv2d_s8_winograd_fits(p));
    const fer_rt::fer_winograd_geometry g = fer_rt::fer_conv2d_s8_winograd_geometry(p);
    EXPECT_EQ(g.words, 16);
    EXPECT_EQ(g.tiles_h, 24);
    EXPECT_EQ(g.tiles_w, 24);
    EXPECT_EQ(g.rows, 50);
    EXPECT_EQ(g.band_tiles, 5 * 24);  // 16 x 24 tiles x 16 words = 24 KiB a tile row: 5 rows in 128 KiB
    fer_rt::conv_params q = p;
    q.stride_h = q.stride_w = 2;
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_winograd_fits(q));
    q = p;
    q.in_c = 1;  // fernet's grey stem stays direct
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_winograd_fits(q));
    q = p;
    q.k_h = q.k_w = 5;
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_winograd_fits(q));
    q = p;
    q.dil_h = 2;
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_winograd_fits(q));
    q = p;
    q.in_c = fer_rt::fer_conv2d_s8_winograd_max_in_c + 1;
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_winograd_fits(q));
}

// Which int8 convolutions take the row-run rewrite (fer_conv2d_s8_row_runs):
// YuNet's RGB stem (3x3, stride 2, padded by its own PAD op) does, with the
// geometry worked out by hand; a grey stem at stride 1 and odd padding do not.
TEST(Kernels, RowRunsTakeTheRgbStem) {
    fer_rt::conv_params p;
    p.in_h = 194, p.in_w = 258, p.in_c = 3, p.out_h = 96, p.out_w = 128, p.out_c = 16;
    p.k_h = p.k_w = 3, p.stride_h = p.stride_w = 2;
    fer_rt::conv_params r;
    ASSERT_TRUE(fer_rt::fer_conv2d_s8_row_runs(p, &r));
    EXPECT_EQ(r.in_c, 2);         // one word a column
    EXPECT_EQ(r.in_w, 387);       // 258 x 3 values
    EXPECT_EQ(r.k_w, 5);          // 9 values and a zero
    EXPECT_EQ(r.stride_w, 3);     // 6 values an output
    EXPECT_EQ(r.out_w, 128);
    EXPECT_EQ(r.k_h, 3);
    const std::vector<int8_t> w = [] {
        std::vector<int8_t> v(16 * 3 * 3 * 3);
        for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int8_t>(i % 251 - 125);
        return v;
    }();
    std::vector<int8_t> wr(16 * 3 * 5 * 2);
    fer_rt::fer_conv2d_s8_row_run_weights(p, r, w.data(), wr.data());
    EXPECT_EQ(wr[10 * 3 + 0], w[27 * 1 + 0]);       // output 1, row 0, value 0: kx 0, channel 0
    EXPECT_EQ(wr[(5 * 3 + 2) * 10 + 8], w[(5 * 3 + 2) * 9 + 8]);  // output 5, row 2, value 8: kx 2, channel 2
    EXPECT_EQ(wr[(5 * 3 + 2) * 10 + 9], 0);          // the padding value
    fer_rt::conv_params q = p;
    q.in_c = 1, q.stride_w = 1;   // fernet's grey stem: odd word offsets
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_row_runs(q, &r));
    q = p;
    q.pad_left = 1;               // 3 values of padding: half a word
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_row_runs(q, &r));
    q = p;
    q.in_c = 4;                   // even channel counts already fill their words
    EXPECT_FALSE(fer_rt::fer_conv2d_s8_row_runs(q, &r));
}

// One status enum and one error style across fer.h, fer-detect.h and
// fer-pipeline.h; the older detector names still work; the version.
TEST(RuntimeC, OneStatusEnumAndOneErrorStyle) {
    EXPECT_STREQ(fer_version(), FER_VERSION);
    // every status has its own text
    std::vector<std::string> texts;
    for (int st = FER_OK; st <= FER_ERR_MEMORY; ++st) {
        const std::string t = fer_status_string(st);
        EXPECT_NE(t, "unknown status") << st;
        for (const auto & seen : texts) {
            EXPECT_NE(seen, t) << st;
        }
        texts.push_back(t);
    }
    EXPECT_EQ(FER_DETECT_ERR_TOO_LARGE, FER_ERR_TOO_LARGE);
    EXPECT_STREQ(fer_detect_status_name(FER_DETECT_ERR_TOO_LARGE), fer_status_string(FER_ERR_TOO_LARGE));

    // constructors: NULL and the reason to the log callback, for models and detectors alike
    quiet_log log;
    fer_detector_params dp = fer_detector_default_params();
    dp.log_callback = [](int, const char * m, void * u) { static_cast<quiet_log *>(u)->text += m; };
    dp.log_user_data = &log;
    EXPECT_EQ(fer_detector_load("/nonexistent/face.tflite", dp), nullptr);
    EXPECT_NE(log.text.find("/nonexistent/face.tflite"), std::string::npos) << log.text;
    log.text.clear();
    EXPECT_EQ(fer_model_load("/nonexistent/model.tflite", log.params()), nullptr);
    EXPECT_NE(log.text.find("/nonexistent/model.tflite"), std::string::npos) << log.text;
    log.text.clear();
    const std::vector<unsigned char> junk(100, 'x');
    EXPECT_EQ(fer_detector_load_from_buffer(junk.data(), junk.size(), dp), nullptr);
    EXPECT_FALSE(log.text.empty());

    // the older error-buffer loader: the same file, the status in the shared enum
    fer_detect_status st = FER_DETECT_OK;
    char err[256] = "";
    EXPECT_EQ(fer_detector_load_from_file("/nonexistent/face.tflite", &st, err, sizeof err), nullptr);
    EXPECT_EQ(st, FER_ERR_IO);
    EXPECT_NE(std::string(err).find("/nonexistent"), std::string::npos);

    // the C++ handles over every object, and a detector failure as the pipeline's status
    const fs::path yunet = k_models / "yunet-int8.tflite";
    if (!fs::exists(yunet)) {
        GTEST_SKIP() << yunet << " is missing";
    }
    fer::model m = fer::model::load((k_models / "fernet-int8.tflite").c_str());
    fer::detector det = fer::detector::load(yunet.c_str());
    ASSERT_TRUE(m && det);
    EXPECT_STREQ(det.kind_name(), "yunet");
    fer::context ctx(m);
    fer::tracker tracker;
    ASSERT_TRUE(ctx && tracker);
    std::vector<uint8_t> grey(64 * 48, 100);
    fer_face faces[4];
    int32_t n = -1;
    EXPECT_EQ(det.analyze(ctx, grey.data(), 64, 48, 64, FER_PIXEL_GREY, fer_pipeline_default_params(), faces, 4, &n),
              FER_OK);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(tracker.update(faces, 0), FER_OK);
    EXPECT_EQ(det.analyze(ctx, grey.data(), 40000, 40000, 40000, FER_PIXEL_GREY, fer_pipeline_default_params(), faces,
                          4, &n),
              FER_ERR_TOO_LARGE);
}
