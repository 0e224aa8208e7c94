// YuNet in fer's runtime against the original ONNX file in a real ONNX
// runtime (onnxruntime-node, tests/interop/run-onnx.js), on real photos at
// two input sizes: the float file's twelve outputs within 1e-4, and the int8
// file finding the same faces as the ONNX file (decoded and NMS'd by the
// runtime's YuNet decoder; IoU >= 0.9 for at least 98% of them, both ways).
// Skipped with a message when ../shared or tests/interop/node_modules is absent.

#include "calib-images.h"
#include "detect/yunet.h"
#include "test-util.h"
#include "onnx-reader.h"
#include "yunet-model.h"

#include "fer.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path k_src = FER_SOURCE_DIR;
const fs::path k_shared_data = FER_SHARED_DATA;
const fs::path k_onnx = k_shared_data / ".." / "models" / "yunet" / "yunet_n_dynamic.onnx";

struct sized_input {
    std::string photo;
    int h, w;
    std::vector<float> nhwc;  // what fer's runtime takes
    bool held_out;            // not a calibration photo of models/yunet-int8.tflite
};

using outputs = std::vector<std::vector<float>>;  // the twelve maps, NHWC = ONNX's [N, H*W, C]

// The photos: the repository's group photo, dlib's test photos and WIDER
// validation photos, each letterboxed to 320x320 and to 640x480 (W x H).
std::vector<sized_input> make_inputs() {
    const std::vector<fs::path> photos = {
        k_src / "samples" / "group-photo.jpg",
        k_shared_data / "faces" / "2008_001322.jpg",
        k_shared_data / "faces" / "2009_004587.jpg",
        k_shared_data / "faces" / "bald_guys.jpg",
        k_shared_data / "faces" / "solvay_conference.jpg",
        k_shared_data / "faces" / "Tom_Cruise_avp_2014_4.jpg",
        k_shared_data / "faces" / "dogs.jpg",
        k_shared_data / "wider-val-dev" / "images" / "0_Parade_Parade_0_125.jpg",
        k_shared_data / "wider-val-dev" / "images" / "2_Demonstration_Political_Rally_2_219.jpg",
        k_shared_data / "wider-val-dev" / "images" / "4_Dancing_Dancing_4_384.jpg",
        k_shared_data / "wider-val-dev" / "images" / "9_Press_Conference_Press_Conference_9_129.jpg",
    };
    std::vector<sized_input> r;
    for (const auto & p : photos) {
        const cv::Mat img = cv::imread(p.string(), cv::IMREAD_COLOR);
        if (img.empty()) {
            ADD_FAILURE() << p << ": cannot decode";
            continue;
        }
        for (const auto & [h, w] : std::vector<std::pair<int, int>>{{320, 320}, {480, 640}}) {
            r.push_back({p.filename().string(), h, w, fer::letterbox_bgr(img.data, img.rows, img.cols, img.step, h, w),
                         p.string().find("wider-val-dev") != std::string::npos});
        }
    }
    return r;
}

std::vector<float> nchw_of(const sized_input & in) {
    std::vector<float> r(in.nhwc.size());
    const size_t hw = static_cast<size_t>(in.h) * static_cast<size_t>(in.w);
    for (size_t i = 0; i < hw; ++i) {
        for (size_t c = 0; c < 3; ++c) {
            r[c * hw + i] = in.nhwc[i * 3 + c];
        }
    }
    return r;
}

size_t map_size(const sized_input & in, int k) {
    const int s = fer::yunet_output_stride(k);
    return static_cast<size_t>(in.h / s) * static_cast<size_t>(in.w / s) * static_cast<size_t>(fer::yunet_output_channels(k));
}

// onnxruntime on every input; false (with a message) when it fails.
bool run_onnx(const std::vector<sized_input> & ins, const fer_test::temp_dir & dir, std::vector<outputs> & got,
              std::string & log) {
    std::string jobs;
    for (size_t i = 0; i < ins.size(); ++i) {
        const std::string in = dir / ("in" + std::to_string(i) + ".f32"), out = dir / ("out" + std::to_string(i) + ".f32");
        const std::vector<float> x = nchw_of(ins[i]);
        std::ofstream(in, std::ios::binary).write(reinterpret_cast<const char *>(x.data()), static_cast<std::streamsize>(x.size() * 4));
        jobs += " " + in + ":1x3x" + std::to_string(ins[i].h) + "x" + std::to_string(ins[i].w) + ":" + out;
    }
    const auto r = fer_test::run_command("node '" + (k_src / "tests" / "interop" / "run-onnx.js").string() + "' '" +
                                         k_onnx.string() + "'" + jobs + " 2>&1");
    log = r.out;
    if (r.code != 0) {
        return false;
    }
    for (size_t i = 0; i < ins.size(); ++i) {
        std::ifstream f(dir / ("out" + std::to_string(i) + ".f32"), std::ios::binary);
        outputs o;
        for (int k = 0; k < 12; ++k) {
            std::vector<float> v(map_size(ins[i], k));
            f.read(reinterpret_cast<char *>(v.data()), static_cast<std::streamsize>(v.size() * 4));
            o.push_back(std::move(v));
        }
        if (!f) {
            log += "\nshort output file for input " + std::to_string(i);
            return false;
        }
        got.push_back(std::move(o));
    }
    return true;
}

// fer's runtime on every input, the model loaded once per input size.
std::vector<outputs> run_fer(const fs::path & model_path, const std::vector<sized_input> & ins) {
    std::vector<outputs> r;
    for (const auto & in : ins) {
        fer_model_params p = fer_model_default_params();
        p.input_height = in.h;
        p.input_width = in.w;
        fer_model * m = fer_model_load_from_file(model_path.c_str(), p);
        if (!m) {
            ADD_FAILURE() << model_path << " does not load at " << in.h << "x" << in.w;
            return {};
        }
        fer_context * ctx = fer_context_new(m);
        EXPECT_EQ(fer_context_run(ctx, in.nhwc.data(), in.nhwc.size()), FER_OK);
        outputs o;
        for (int k = 0; k < 12; ++k) {
            size_t n = 0;
            const float * v = fer_context_output(ctx, k, &n);
            EXPECT_EQ(n, map_size(in, k)) << fer::k_yunet_outputs[k];
            o.emplace_back(v, v + std::min(n, map_size(in, k)));
        }
        r.push_back(std::move(o));
        fer_context_free(ctx);
        fer_model_free(m);
    }
    return r;
}

using fer::detect::yunet_face;

// Faces from the raw maps through the runtime's own decoding and NMS
// (src/detect/yunet.*) at the detector's default NMS IoU, 0.3.
std::vector<yunet_face> faces_of(const outputs & o, const sized_input & in, float threshold) {
    std::vector<yunet_face> faces;
    for (int l = 0; l < 3; ++l) {
        const int s = 8 << l;
        fer::detect::yunet_decode_level(o[l].data(), o[3 + l].data(), o[6 + l].data(), o[9 + l].data(), in.h / s,
                                        in.w / s, s, threshold, faces);
    }
    fer::detect::yunet_nms(faces, 0.3f, 0);
    return faces;
}

bool interop_ready(std::string & why) {
    if (!fs::exists(k_onnx)) {
        why = k_onnx.string() + " is absent (../shared is not there)";
        return false;
    }
    if (!fs::exists(k_src / "tests" / "interop" / "node_modules" / "onnxruntime-node") ||
        std::system("node --version > /dev/null 2>&1") != 0) {
        why = "tests/interop/node_modules/onnxruntime-node or node is missing (run scripts/setup.sh, or: cd tests/interop && "
              "ONNXRUNTIME_NODE_INSTALL=skip npm ci)";
        return false;
    }
    return true;
}

class YunetParity : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        std::string why;
        if (!interop_ready(why)) {
            skip_ = why;
            return;
        }
        inputs_ = make_inputs();
        fer_test::temp_dir dir("fer-yunet");
        if (!run_onnx(inputs_, dir, onnx_, log_)) {
            onnx_.clear();
        }
    }
    void SetUp() override {
        if (!skip_.empty()) {
            GTEST_SKIP() << skip_;
        }
        ASSERT_EQ(onnx_.size(), inputs_.size()) << "onnxruntime-node failed:\n" << log_;
    }
    static std::string skip_, log_;
    static std::vector<sized_input> inputs_;
    static std::vector<outputs> onnx_;
};
std::string YunetParity::skip_, YunetParity::log_;
std::vector<sized_input> YunetParity::inputs_;
std::vector<outputs> YunetParity::onnx_;

}  // namespace

TEST_F(YunetParity, FloatFileMatchesOnnxRuntime) {
    const std::vector<outputs> ours = run_fer(k_src / "models" / "yunet.tflite", inputs_);
    ASSERT_EQ(ours.size(), inputs_.size());
    double worst = 0.0;
    for (int k = 0; k < 12; ++k) {
        double max_diff = 0.0;
        std::string where;
        for (size_t i = 0; i < inputs_.size(); ++i) {
            ASSERT_EQ(ours[i][k].size(), onnx_[i][k].size());
            for (size_t j = 0; j < ours[i][k].size(); ++j) {
                const double d = std::fabs(static_cast<double>(ours[i][k][j]) - onnx_[i][k][j]);
                if (!(d <= max_diff)) {  // also catches NaN
                    max_diff = std::isnan(d) ? INFINITY : d;
                    where = inputs_[i].photo + " " + std::to_string(inputs_[i].w) + "x" + std::to_string(inputs_[i].h);
                }
            }
        }
        std::printf("float %-8s max |fer - onnxruntime| = %.3g (%s)\n", fer::k_yunet_outputs[k], max_diff, where.c_str());
        EXPECT_LE(max_diff, 1e-4) << fer::k_yunet_outputs[k] << " at " << where;
        worst = std::max(worst, max_diff);
    }
    std::printf("float: %zu inputs, worst output difference %.3g\n", inputs_.size(), worst);
}

TEST_F(YunetParity, Int8FileFindsTheSameFaces) {
    const std::vector<outputs> q = run_fer(k_src / "models" / "yunet-int8.tflite", inputs_);
    ASSERT_EQ(q.size(), inputs_.size());
    for (float threshold : {0.6f, 0.5f}) {  // the detector's default score threshold, and a lower one
        size_t n_float = 0, found = 0, n_int8 = 0, confirmed = 0;
        size_t held_out = 0, held_out_found = 0;  // WIDER photos: not among the calibration photos
        for (size_t i = 0; i < inputs_.size(); ++i) {
            const std::vector<yunet_face> a = faces_of(onnx_[i], inputs_[i], threshold), b = faces_of(q[i], inputs_[i], threshold);
            auto matched = [](const yunet_face & x, const std::vector<yunet_face> & ys) {
                return std::any_of(ys.begin(), ys.end(), [&](const yunet_face & y) { return fer::detect::yunet_iou(x, y) >= 0.9f; });
            };
            n_float += a.size();
            n_int8 += b.size();
            const size_t f = static_cast<size_t>(std::count_if(a.begin(), a.end(), [&](const yunet_face & x) { return matched(x, b); }));
            found += f;
            if (inputs_[i].held_out) {
                held_out += a.size();
                held_out_found += f;
            }
            if (std::getenv("FER_YUNET_DEBUG")) {  // lists the faces int8 misses
                for (const yunet_face & x : a) {
                    float best = 0.0f, bs = 0.0f;
                    for (const yunet_face & y : b) {
                        if (fer::detect::yunet_iou(x, y) > best) {
                            best = fer::detect::yunet_iou(x, y);
                            bs = y.score;
                        }
                    }
                    if (best < 0.9f) {
                        std::printf("  %s %dx%d: ONNX face %.0f,%.0f %.0fx%.0f score %.3f: best int8 IoU %.3f (score %.3f)\n",
                                    inputs_[i].photo.c_str(), inputs_[i].w, inputs_[i].h, x.x, x.y, x.w, x.h,
                                    x.score, best, bs);
                    }
                }
            }
            confirmed += static_cast<size_t>(std::count_if(b.begin(), b.end(), [&](const yunet_face & x) { return matched(x, a); }));
        }
        const double recall = n_float ? static_cast<double>(found) / n_float : 1.0;
        const double precision = n_int8 ? static_cast<double>(confirmed) / n_int8 : 1.0;
        std::printf("int8 at score %.1f: %zu / %zu ONNX faces found (IoU >= 0.9): %.2f%%; %zu / %zu int8 faces are ONNX "
                    "faces: %.2f%%\n", threshold, found, n_float, 100.0 * recall, confirmed, n_int8, 100.0 * precision);
        std::printf("  of which on the WIDER photos (held out from calibration): %zu / %zu\n", held_out_found, held_out);
        EXPECT_GT(n_float, 20u) << "too few faces to measure anything";
        EXPECT_GE(recall, 0.98) << "at score threshold " << threshold;
        EXPECT_GE(precision, 0.98) << "at score threshold " << threshold;
    }
}

// models/yunet.tflite is exactly what the converter makes of the ONNX file
// today (no stale or hand-edited file), and the runtime reads it as a detector.
TEST(YunetConvert, ShippedFloatFileIsTheConversion) {
    if (!fs::exists(k_onnx)) {
        GTEST_SKIP() << k_onnx.string() << " is absent (../shared is not there)";
    }
    const fer::onnx::model m = fer::onnx::read_model_file(k_onnx.string());
    const fer::tfl_model t = fer::yunet_to_tflite(m, k_onnx.string(), (k_onnx.parent_path() / "SOURCE-COMMIT").string(),
                                                  320, nullptr);
    const std::string bytes = fer::tflite_serialize(t);
    std::ifstream f(k_src / "models" / "yunet.tflite", std::ios::binary);
    const std::string shipped((std::istreambuf_iterator<char>(f)), {});
    EXPECT_TRUE(bytes == shipped) << "models/yunet.tflite differs from a fresh conversion (" << shipped.size()
                                  << " vs " << bytes.size() << " bytes): rerun the command in models/README.md";
    for (const char * name : {"yunet.tflite", "yunet-int8.tflite"}) {
        fer_model * model = fer_model_load_from_file((k_src / "models" / name).c_str(), fer_model_default_params());
        ASSERT_NE(model, nullptr) << name;
        EXPECT_STREQ(fer_model_task(model), "face_detector") << name;
        EXPECT_STREQ(fer_model_meta(model, "detector"), "yunet") << name;
        EXPECT_STREQ(fer_model_meta(model, "strides"), "8,16,32") << name;
        EXPECT_STREQ(fer_model_meta(model, "input"), "bgr") << name;
        ASSERT_EQ(fer_model_n_outputs(model), 12) << name;
        for (int k = 0; k < 12; ++k) {
            EXPECT_STREQ(fer_model_output_name(model, k), fer::k_yunet_outputs[k]) << name;
        }
        fer_model_free(model);
    }
}

// Damaged copies of the real file (random bytes, flipped bits, cuts): the
// reader and converter either convert them or throw fer::error, never crash
// or throw anything else. (Also run once under ASan + UBSan with 3,000 cases
// while writing the reader: no finding.)
TEST(YunetConvert, DamagedFilesFailCleanly) {
    if (!fs::exists(k_onnx)) {
        GTEST_SKIP() << k_onnx.string() << " is absent (../shared is not there)";
    }
    std::ifstream f(k_onnx, std::ios::binary);
    const std::string base((std::istreambuf_iterator<char>(f)), {});
    const std::string commit = (k_onnx.parent_path() / "SOURCE-COMMIT").string();
    std::mt19937 rng(11);
    int converted = 0, rejected = 0;
    for (int it = 0; it < 300; ++it) {
        std::string s = base;
        for (unsigned k = 0, n = 1 + rng() % 8; k < n && !s.empty(); ++k) {
            const size_t at = rng() % s.size();
            switch (rng() % 3) {
            case 0: s[at] = static_cast<char>(rng()); break;
            case 1: s[at] = static_cast<char>(s[at] ^ (1 << (rng() % 8))); break;
            default: s.resize(at);
            }
        }
        try {
            const fer::onnx::model m = fer::onnx::read_model(s, "damaged.onnx");
            fer::yunet_to_tflite(m, "damaged.onnx", commit, 320, nullptr);
            ++converted;
        } catch (const fer::error & e) {
            ++rejected;
            EXPECT_NE(std::string(e.what()).find("damaged.onnx"), std::string::npos) << e.what();
        } catch (const std::exception & e) {
            ADD_FAILURE() << "case " << it << ": not a fer::error: " << e.what();
        }
    }
    std::printf("damaged files: %d converted, %d rejected\n", converted, rejected);
    EXPECT_GT(rejected, 200);
}
