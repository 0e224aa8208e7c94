// fer export --format onnx: the written file passes ONNX's checker, carries
// the TFLite file's metadata, and two independent ONNX runtimes reproduce fer's
// runtime on the float32 TFLite graph of the same network: onnxruntime-node
// (tests/interop/run-onnx.js) and OpenCV's cv::dnn::readNetFromONNX, within
// 1e-4 on every probability and with the same top class on every face. Faces:
// the seven crops of samples/ and, when ../shared is there, 200 PublicTest faces
// of its FER2013 sample (the full PublicTest is measured by hand:
// docs/runtime.md). The onnxruntime part is skipped with a message when
// tests/interop/node_modules is missing.

#include "export-onnx.h"
#include "test-util.h"

#include "fer.h"

#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const fs::path k_src = FER_SOURCE_DIR;
const std::string k_fer = FER_EXE;
const fs::path k_sample_csv = fs::path(FER_SHARED_DATA) / "fer2013-sample.csv";
constexpr int k_px = FER_INPUT_SIZE * FER_INPUT_SIZE;

std::string read_file(const fs::path & p) {
    std::ifstream f(p, std::ios::binary);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// 48x48 grey faces: samples/*-PublicTest_*.jpg, then up to `n_csv` PublicTest rows of the sample CSV.
std::vector<std::vector<uint8_t>> test_faces(size_t n_csv) {
    std::vector<std::vector<uint8_t>> faces;
    std::vector<fs::path> crops;
    for (const auto & e : fs::directory_iterator(k_src / "samples")) {
        if (e.path().filename().string().find("PublicTest") != std::string::npos) {
            crops.push_back(e.path());
        }
    }
    std::sort(crops.begin(), crops.end());
    for (const auto & p : crops) {
        const cv::Mat g = cv::imread(p.string(), cv::IMREAD_GRAYSCALE);
        EXPECT_TRUE(!g.empty() && g.rows == 48 && g.cols == 48 && g.isContinuous()) << p;
        faces.emplace_back(g.data, g.data + k_px);
    }
    std::ifstream csv(k_sample_csv);
    std::string line;
    for (size_t n = 0; n < n_csv && std::getline(csv, line);) {
        const size_t a = line.find(','), b = line.rfind(',');
        if (a == std::string::npos || line.compare(b + 1, 10, "PublicTest") != 0) {
            continue;
        }
        std::istringstream px(line.substr(a + 1, b - a - 1));
        std::vector<uint8_t> f;
        for (int v; px >> v;) {
            f.push_back(static_cast<uint8_t>(v));
        }
        EXPECT_EQ(f.size(), static_cast<size_t>(k_px)) << line.substr(0, 40);
        faces.push_back(f);
        ++n;
    }
    return faces;
}

class OnnxExport : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new fer_test::temp_dir("fer-onnx");
        const std::string pt = (k_src / "models" / "fernet.pt").string();
        export_log_ = fer_test::run_command("'" + k_fer + "' export --format onnx --model '" + pt + "' --out '" +
                                            (*dir_ / "fernet.onnx") + "' --check-faces 16 2>&1");
        tflite_log_ = fer_test::run_command("'" + k_fer + "' export --model '" + pt + "' --out '" +
                                            (*dir_ / "fernet.tflite") + "' --check-faces 0 2>&1");
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static fer_test::temp_dir * dir_;
    static fer_test::command_result export_log_, tflite_log_;
};
fer_test::temp_dir * OnnxExport::dir_ = nullptr;
fer_test::command_result OnnxExport::export_log_, OnnxExport::tflite_log_;

// The runtime's float32 probabilities and CAM features (NHWC) of each face.
struct runtime_outputs {
    std::vector<float> probs, features;
    int fh = 0, fw = 0, fc = 0;
};
runtime_outputs run_runtime(const std::string & tflite, const std::vector<std::vector<uint8_t>> & faces) {
    runtime_outputs r;
    fer_model * m = fer_model_load_from_file(tflite.c_str(), fer_model_default_params());
    EXPECT_NE(m, nullptr);
    if (!m) {
        return r;
    }
    int dims[4] = {0};
    EXPECT_EQ(fer_model_n_outputs(m), 2);
    EXPECT_EQ(fer_model_output_dims(m, 1, dims), 4);
    r.fh = dims[1], r.fw = dims[2], r.fc = dims[3];
    fer_context * ctx = fer_context_new(m);
    for (const auto & f : faces) {
        fer_result res;
        EXPECT_EQ(fer_classify(ctx, f.data(), 48, &res), FER_OK);
        r.probs.insert(r.probs.end(), res.probabilities, res.probabilities + FER_N_CLASSES);
        size_t n = 0;
        const float * feat = fer_context_output(ctx, 1, &n);
        EXPECT_EQ(n, static_cast<size_t>(r.fh * r.fw * r.fc));
        r.features.insert(r.features.end(), feat, feat + n);
    }
    fer_context_free(ctx);
    fer_model_free(m);
    return r;
}

int top_of(const float * p) {
    return static_cast<int>(std::max_element(p, p + FER_N_CLASSES) - p);
}

// max |a - b| over the probabilities; counts faces whose top class differs.
void expect_same_probabilities(const char * who, const std::vector<float> & got, const std::vector<float> & want,
                               size_t n_faces) {
    ASSERT_EQ(got.size(), n_faces * FER_N_CLASSES);
    double max_abs = 0;
    size_t top_differs = 0;
    for (size_t i = 0; i < n_faces; ++i) {
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            max_abs = std::max(max_abs, static_cast<double>(std::fabs(got[i * 7 + k] - want[i * 7 + k])));
        }
        top_differs += top_of(&got[i * 7]) != top_of(&want[i * 7]);
    }
    std::printf("%s vs fer runtime: %zu faces, max |diff| %.3g, top class differs on %zu\n", who, n_faces, max_abs,
                top_differs);
    EXPECT_LE(max_abs, 1e-4) << who;
    EXPECT_EQ(top_differs, 0u) << who;
}

std::vector<float> nchw_input(const std::vector<std::vector<uint8_t>> & faces) {
    std::vector<float> x;
    for (const auto & f : faces) {
        for (uint8_t p : f) {
            x.push_back((static_cast<float>(p) - FER_PIXEL_MEAN) / FER_PIXEL_STD);
        }
    }
    return x;
}

TEST_F(OnnxExport, WritesACheckedFileWithTheModelsMetadata) {
    ASSERT_EQ(export_log_.code, 0) << export_log_.out;
    EXPECT_NE(export_log_.out.find("ONNX checker and strict shape inference: passed"), std::string::npos);
    EXPECT_NE(export_log_.out.find("check synthetic: 16 faces"), std::string::npos) << export_log_.out;
    const std::string bytes = read_file(dir_->path() / "fernet.onnx");
    EXPECT_EQ(fer::onnx_check(bytes), "");
    const fer::onnx_description m = fer::onnx_describe(bytes);
    EXPECT_EQ(m.opset, 13);
    std::map<std::string, std::string> meta = m.metadata;
    EXPECT_EQ(meta["fer.labels"], "angry\ndisgust\nfear\nhappy\nsad\nsurprise\nneutral\n");
    EXPECT_EQ(meta["labels"], "angry,disgust,fear,happy,sad,surprise,neutral");
    EXPECT_NE(meta["fer.info"].find("format=fer-onnx 1\n"), std::string::npos) << meta["fer.info"];
    EXPECT_EQ(meta["model"], "fernet");
    EXPECT_EQ(meta["version"], "1");
    EXPECT_EQ(meta["precision"], "float32");
    EXPECT_EQ(meta["input_height"], "48");
    EXPECT_NE(meta["input"].find("NCHW"), std::string::npos);
    EXPECT_EQ(meta["pixel_mean"], "127.5");
    EXPECT_EQ(m.inputs, std::vector<std::string>{"input"});
    EXPECT_EQ(m.outputs, (std::vector<std::string>{"probabilities", "features"}));
    // a corrupted file is refused by the same check
    EXPECT_NE(fer::onnx_check(bytes.substr(0, bytes.size() / 2)), "");
}

TEST_F(OnnxExport, OpenCVDnnReproducesTheRuntime) {
    ASSERT_EQ(export_log_.code, 0) << export_log_.out;
    ASSERT_EQ(tflite_log_.code, 0) << tflite_log_.out;
    const auto faces = test_faces(200);
    if (!fs::exists(k_sample_csv)) {
        std::printf("note: %s absent: only the samples/ crops are compared\n", k_sample_csv.c_str());
    }
    const runtime_outputs want = run_runtime(*dir_ / "fernet.tflite", faces);
    cv::dnn::Net net = cv::dnn::readNetFromONNX(*dir_ / "fernet.onnx");
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    const int shape[4] = {static_cast<int>(faces.size()), 1, 48, 48};
    std::vector<float> x = nchw_input(faces);
    net.setInput(cv::Mat(4, shape, CV_32F, x.data()), "input");
    std::vector<cv::Mat> outs;
    net.forward(outs, std::vector<cv::String>{"probabilities", "features"});
    ASSERT_EQ(outs.size(), 2u);
    ASSERT_TRUE(outs[0].isContinuous());
    const std::vector<float> probs(outs[0].ptr<float>(), outs[0].ptr<float>() + outs[0].total());
    expect_same_probabilities("OpenCV dnn", probs, want.probs, faces.size());
    // features: ONNX NCHW against the runtime's NHWC, relative to their range
    const float * f = outs[1].ptr<float>();
    ASSERT_EQ(outs[1].total(), want.features.size());
    double max_abs = 0, range = 0;
    const int hw = want.fh * want.fw;
    for (size_t i = 0; i < faces.size(); ++i) {
        for (int c = 0; c < want.fc; ++c) {
            for (int p = 0; p < hw; ++p) {
                const float a = f[(i * want.fc + c) * hw + p], b = want.features[(i * hw + p) * want.fc + c];
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(a - b)));
                range = std::max(range, static_cast<double>(std::fabs(b)));
            }
        }
    }
    EXPECT_LE(max_abs, 1e-5 * std::max(1.0, range)) << "features (range " << range << ")";
}

TEST_F(OnnxExport, OnnxruntimeReproducesTheRuntime) {
    ASSERT_EQ(export_log_.code, 0) << export_log_.out;
    ASSERT_EQ(tflite_log_.code, 0) << tflite_log_.out;
    if (!fs::exists(k_src / "tests" / "interop" / "node_modules" / "onnxruntime-node") ||
        fer_test::run_command("node --version >/dev/null 2>&1").code != 0) {
        GTEST_SKIP() << "tests/interop/node_modules/onnxruntime-node or node is missing (run scripts/setup.sh, or: "
                        "cd tests/interop && ONNXRUNTIME_NODE_INSTALL=skip npm ci)";
    }
    const auto faces = test_faces(200);
    const runtime_outputs want = run_runtime(*dir_ / "fernet.tflite", faces);
    const std::vector<float> x = nchw_input(faces);
    {
        std::ofstream f(*dir_ / "faces.f32", std::ios::binary);
        f.write(reinterpret_cast<const char *>(x.data()), static_cast<std::streamsize>(x.size() * 4));
    }
    const auto r = fer_test::run_command("node '" + (k_src / "tests" / "interop" / "run-onnx.js").string() + "' '" +
                                         (*dir_ / "fernet.onnx") + "' '" + (*dir_ / "faces.f32") + ":" +
                                         std::to_string(faces.size()) + "x1x48x48:" + (*dir_ / "ort.f32") + "' 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    // outputs in session order, concatenated: find where "probabilities" is
    const size_t at_p = r.out.find("\"probabilities\""), at_f = r.out.find("\"features\"");
    ASSERT_NE(at_p, std::string::npos) << r.out;
    const std::string out = read_file(dir_->path() / "ort.f32");
    const size_t n_probs = faces.size() * FER_N_CLASSES;
    ASSERT_EQ(out.size(), (n_probs + want.features.size()) * 4) << r.out;
    std::vector<float> probs(n_probs);
    const size_t offset = at_f != std::string::npos && at_f < at_p ? want.features.size() : 0;
    std::memcpy(probs.data(), out.data() + offset * 4, n_probs * 4);
    expect_same_probabilities("onnxruntime-node", probs, want.probs, faces.size());
}

// int8 as QDQ (--int8 --qdq, experimental): a checked file whose Q/DQ
// semantics, run exactly as written (onnxruntime without graph fusion), stay
// within 1e-2 of fer's int8 runtime with the same top class. (onnxruntime's
// fused int8 kernels and OpenCV 4.6 do not: docs/runtime.md.)
TEST(OnnxExportQdq, UnfusedQdqFollowsTheInt8Runtime) {
    if (!fs::exists(k_sample_csv)) {
        GTEST_SKIP() << k_sample_csv << " is absent (../shared is not there): no calibration faces";
    }
    if (!fs::exists(k_src / "tests" / "interop" / "node_modules" / "onnxruntime-node") ||
        fer_test::run_command("node --version >/dev/null 2>&1").code != 0) {
        GTEST_SKIP() << "tests/interop/node_modules/onnxruntime-node or node is missing";
    }
    fer_test::temp_dir dir("fer-onnx-qdq");
    const std::string common = " --int8 --model '" + (k_src / "models" / "fernet.pt").string() + "' --calibration '" +
                               k_sample_csv.string() + "' --samples 200 --check-faces 0";
    auto r = fer_test::run_command("'" + k_fer + "' export --format onnx --qdq" + common + " --out '" +
                                   (dir / "q.onnx") + "' 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    r = fer_test::run_command("'" + k_fer + "' export" + common + " --out '" + (dir / "q.tflite") + "' 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    const std::string bytes = read_file(dir.path() / "q.onnx");
    EXPECT_EQ(fer::onnx_check(bytes), "");
    EXPECT_EQ(fer::onnx_describe(bytes).metadata["precision"].rfind("int8", 0), 0u);
    const auto faces = test_faces(200);
    std::vector<float> want;
    {
        fer_model * m = fer_model_load_from_file((dir / "q.tflite").c_str(), fer_model_default_params());
        ASSERT_NE(m, nullptr);
        fer_context * ctx = fer_context_new(m);
        for (const auto & f : faces) {
            fer_result res;
            ASSERT_EQ(fer_classify(ctx, f.data(), 48, &res), FER_OK);
            want.insert(want.end(), res.probabilities, res.probabilities + FER_N_CLASSES);
        }
        fer_context_free(ctx);
        fer_model_free(m);
    }
    const std::vector<float> x = nchw_input(faces);
    {
        std::ofstream f(dir / "faces.f32", std::ios::binary);
        f.write(reinterpret_cast<const char *>(x.data()), static_cast<std::streamsize>(x.size() * 4));
    }
    r = fer_test::run_command("node '" + (k_src / "tests" / "interop" / "run-onnx.js").string() +
                              "' --optimization disabled '" + (dir / "q.onnx") + "' '" + (dir / "faces.f32") + ":" +
                              std::to_string(faces.size()) + "x1x48x48:" + (dir / "ort.f32") + "' 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    const std::string out = read_file(dir.path() / "ort.f32");
    const size_t at_p = r.out.find("\"probabilities\""), at_f = r.out.find("\"features\"");
    const size_t n_probs = faces.size() * FER_N_CLASSES;
    const size_t offset = at_f != std::string::npos && at_f < at_p ? out.size() / 4 - n_probs : 0;
    std::vector<float> got(n_probs);
    ASSERT_GE(out.size(), (offset + n_probs) * 4);
    std::memcpy(got.data(), out.data() + offset * 4, n_probs * 4);
    double max_abs = 0;
    size_t top_differs = 0;
    for (size_t i = 0; i < faces.size(); ++i) {
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            max_abs = std::max(max_abs, static_cast<double>(std::fabs(got[i * 7 + k] - want[i * 7 + k])));
        }
        top_differs += top_of(&got[i * 7]) != top_of(&want[i * 7]);
    }
    std::printf("unfused QDQ in onnxruntime vs fer int8 runtime: %zu faces, max |diff| %.3g, top differs on %zu\n",
                faces.size(), max_abs, top_differs);
    EXPECT_LE(max_abs, 1e-2);
    EXPECT_EQ(top_differs, 0u);
}

TEST(OnnxExportCli, RefusesInt8AndUnknownFormats) {
    fer_test::temp_dir dir("fer-onnx-cli");
    const std::string pt = (k_src / "models" / "fernet.pt").string();
    auto r = fer_test::run_command("'" + k_fer + "' export --format onnx --int8 --model '" + pt + "' --out '" +
                                   (dir / "m.onnx") + "' 2>&1");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("float32 only"), std::string::npos) << r.out;
    r = fer_test::run_command("'" + k_fer + "' export --format pb --model '" + pt + "' --out '" + (dir / "m.pb") +
                              "' 2>&1");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("--format must be tflite or onnx"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir / "m.onnx"));
}

// A graph with what fernet lacks: a strided SAME convolution, a depthwise
// convolution, ADD and a flatten of a 12x12 feature map before the fully
// connected layer (TFLite flattens NHWC: the ONNX graph must transpose first).
TEST(OnnxExportGraph, HandBuiltGraphMatchesTheRuntimeInOpenCV) {
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 0.3f);
    auto random = [&](size_t n) {
        std::vector<float> v(n);
        for (float & x : v) {
            x = nd(rng);
        }
        return v;
    };
    fer::tfl_model m;
    auto add = [&](fer::tfl_tensor t) {
        m.tensors.push_back(std::move(t));
        return static_cast<int32_t>(m.tensors.size() - 1);
    };
    const int32_t in = add(fer::tfl_activation_tensor("input", {1, 48, 48, 1}));
    const int32_t cw = add(fer::tfl_const_f32("conv/weights", {4, 3, 3, 1}, random(36)));
    const int32_t cb = add(fer::tfl_const_f32("conv/bias", {4}, random(4)));
    const int32_t c = add(fer::tfl_activation_tensor("conv", {1, 24, 24, 4}));
    const int32_t mp = add(fer::tfl_activation_tensor("pool", {1, 12, 12, 4}));
    const int32_t dw = add(fer::tfl_const_f32("dw/weights", {1, 3, 3, 4}, random(36)));
    const int32_t db = add(fer::tfl_const_f32("dw/bias", {4}, random(4)));
    const int32_t d = add(fer::tfl_activation_tensor("dw", {1, 12, 12, 4}));
    const int32_t sum = add(fer::tfl_activation_tensor("sum", {1, 12, 12, 4}));
    const int32_t shape = add(fer::tfl_const_i32("flat/shape", {2}, {1, 576}));
    const int32_t flat = add(fer::tfl_activation_tensor("flat", {1, 576}));
    const int32_t fw = add(fer::tfl_const_f32("fc/weights", {7, 576}, random(7 * 576)));
    const int32_t fb = add(fer::tfl_const_f32("fc/bias", {7}, random(7)));
    const int32_t logits = add(fer::tfl_activation_tensor("logits", {1, 7}));
    const int32_t probs = add(fer::tfl_activation_tensor("probabilities", {1, 7}));
    m.ops.push_back(fer::tfl_conv(in, cw, cb, c, fer::tfl_same, 2, fer::tfl_act_relu));
    m.ops.push_back(fer::tfl_pool(fer::tfl_max_pool_2d, c, mp, fer::tfl_valid, 2, 2));
    m.ops.push_back(fer::tfl_depthwise(mp, dw, db, d, fer::tfl_same, 1, 1, fer::tfl_act_relu));
    m.ops.push_back(fer::tfl_add_op(mp, d, sum, fer::tfl_act_none));
    m.ops.push_back(fer::tfl_reshape_op(sum, shape, flat, {1, 576}));
    m.ops.push_back(fer::tfl_fc(flat, fw, fb, logits, fer::tfl_act_none));
    m.ops.push_back(fer::tfl_softmax_op(logits, probs, 1.0f));
    m.inputs = {in};
    m.outputs = {probs};

    const std::string tfl = fer::tflite_serialize(m);
    fer_model * rt = fer_model_load_from_buffer(tfl.data(), tfl.size(), fer_model_default_params());
    ASSERT_NE(rt, nullptr);
    fer_context * ctx = fer_context_new(rt);
    fer::onnx_export_summary summary;
    const std::string onnx = fer::tflite_to_onnx(m, &summary);
    EXPECT_NE(summary.op_list.find("Transpose x1"), std::string::npos) << summary.op_list;
    cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx.data(), onnx.size());
    double max_abs = 0;
    for (int trial = 0; trial < 5; ++trial) {
        std::vector<float> x = random(48 * 48);
        ASSERT_EQ(fer_context_run(ctx, x.data(), x.size()), FER_OK);
        size_t n = 0;
        const float * want = fer_context_output(ctx, 0, &n);
        ASSERT_EQ(n, 7u);
        const int dims[4] = {1, 1, 48, 48};
        net.setInput(cv::Mat(4, dims, CV_32F, x.data()), "input");
        const cv::Mat got = net.forward("probabilities");
        for (int k = 0; k < 7; ++k) {
            max_abs = std::max(max_abs, static_cast<double>(std::fabs(got.ptr<float>()[k] - want[k])));
        }
    }
    EXPECT_LE(max_abs, 1e-5);
    fer_context_free(ctx);
    fer_model_free(rt);
}

TEST(OnnxExportGraph, OperatorsOutsideTheSubsetAreNamed) {
    fer::tfl_model m;
    m.tensors.push_back(fer::tfl_activation_tensor("input", {1, 48, 48, 1}));
    m.tensors.push_back(fer::tfl_const_i32("paddings", {4, 2}, {0, 0, 1, 1, 1, 1, 0, 0}));
    m.tensors.push_back(fer::tfl_activation_tensor("padded", {1, 50, 50, 1}));
    m.ops.push_back(fer::tfl_pad_op(0, 1, 2));
    m.inputs = {0};
    m.outputs = {2};
    fer_test::expect_error([&] { fer::tflite_to_onnx(m); }, fer::error_kind::runtime, {"operator 0", "no ONNX"});
    m.tensors[0].type = fer::tfl_int8;
    fer_test::expect_error([&] { fer::tflite_to_onnx(m); }, fer::error_kind::runtime, {"float32"});
}

}  // namespace
