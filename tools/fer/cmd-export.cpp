#include "args.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "export-tflite.h"
#include "infer.h"
#ifdef FER_HAVE_ONNX
#include "export-onnx.h"
#include "onnx-check.h"
#endif

#include "fer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace fer {

namespace {

std::string git_commit() {
    const std::string cmd = std::string("git -C '") + FER_SOURCE_DIR + "' rev-parse --short=12 HEAD 2>/dev/null";
    FILE * p = popen(cmd.c_str(), "r");
    if (!p) {
        return "unknown";
    }
    char buf[64] = {0};
    const bool ok = std::fgets(buf, sizeof buf, p) != nullptr;
    pclose(p);
    std::string s = ok ? buf : "";
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s.empty() ? "unknown" : s;
}

// Faces for the built-in check: smooth random blobs, deterministic.
dataset synthetic_faces(int n, uint64_t seed) {
    dataset d;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::vector<uint8_t> img(k_image_pixels);
    for (int i = 0; i < n; ++i) {
        const double fx = 2 + 8 * u(rng), fy = 2 + 8 * u(rng), ph = 6.28 * u(rng);
        for (int y = 0; y < k_image_side; ++y) {
            for (int x = 0; x < k_image_side; ++x) {
                const double v = 128 + 80 * std::sin(x / fx + ph) * std::cos(y / fy) + 30 * (u(rng) - 0.5);
                img[static_cast<size_t>(y * k_image_side + x)] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
            }
        }
        d.append(img.data(), 0, "synthetic-" + std::to_string(i));
    }
    return d;
}

// The faces an export is checked on: --check synthetic ones, then up to
// --check-max of --check-data's --check-split. check(faces) measures, and
// report(what, result, labelled) prints and judges.
template <class Check, class Report>
void check_export(const arg_parser & a, long long n_check, Check check, Report report) {
    if (n_check > 0) {
        report(std::string("synthetic"), check(synthetic_faces(static_cast<int>(n_check), 7)), false);
    }
    if (a.has("check-data")) {
        const long long check_max = a.get_int("check-max");
        if (check_max < 0) {
            throw usage_error("export: --check-max must be >= 0");
        }
        const dataset d = subsample(load_dataset(a.get("check-data"), a.get("check-split")),
                                    static_cast<size_t>(check_max), 2);
        report(a.get("check-split"), check(d), true);
    }
}

struct parity {
    double max_abs = 0.0;
    size_t top_mismatch = 0;
    size_t n = 0;
    double runtime_ms = 0.0;
    size_t correct_ref = 0, correct_rt = 0;  // against the labels
};

// Runtime float32 probabilities against libtorch's forward pass.
parity check_parity(Net & net, const fer_model * model, const dataset & d) {
    parity r;
    const torch::Tensor ref = predict_probabilities(net, d, 256, false, d.size() > 1000);
    fer_context * ctx = fer_context_new(model);
    if (!ctx) {
        throw runtime_error("export: out of memory");
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = 0; i < d.size(); ++i) {
        fer_result res;
        if (fer_classify(ctx, d.image(i), k_image_side, &res) != FER_OK) {
            fer_context_free(ctx);
            throw runtime_error("export: the runtime failed to classify face " + std::to_string(i));
        }
        const float * p = ref[static_cast<int64_t>(i)].data_ptr<float>();
        int top = 0;
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            r.max_abs = std::max(r.max_abs, static_cast<double>(std::fabs(res.probabilities[k] - p[k])));
            top = p[k] > p[top] ? k : top;
        }
        r.top_mismatch += top != res.top_class;
        r.correct_ref += top == d.labels[i];
        r.correct_rt += res.top_class == d.labels[i];
    }
    r.runtime_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.n = d.size();
    fer_context_free(ctx);
    return r;
}

#ifdef FER_HAVE_ONNX
// --format onnx: the float32 graph as ONNX (checked by ONNX's checker when
// written), then run by OpenCV's dnn module against fer's runtime on the same
// float32 graph: synthetic faces and, with --check-data, a FER2013 split.
int export_onnx(const arg_parser & a, const tfl_model & m, const std::string & out, long long n_check, double tol,
                bool int8) {
    onnx_export_summary s;
    const std::string bytes = tflite_to_onnx(m, &s);
    write_file_atomic(out, bytes);
    std::printf("wrote %s (%zu bytes): ONNX opset %d, IR %d, %s, input [N,1,48,48] NCHW, %d nodes (%s); "
                "ONNX checker and strict shape inference: passed\n",
                out.c_str(), bytes.size(), s.opset, s.ir_version, int8 ? "int8 as QDQ" : "float32", s.n_nodes,
                s.op_list.c_str());
    if (int8) {
        std::printf("int8 QDQ: no parity check (OpenCV 4.6 cannot read per-channel QDQ weights; onnxruntime's fused "
                    "int8 kernels differ from fer's: docs/runtime.md)\n");
        return 0;
    }
    const std::string tfl = tflite_serialize(m);
    std::string log;
    fer_model_params params = fer_model_default_params();
    params.log_user_data = &log;
    params.log_callback = [](int, const char * msg, void * user) { *static_cast<std::string *>(user) += msg; };
    fer_model * model = fer_model_load_from_buffer(tfl.data(), tfl.size(), params);
    if (!model) {
        throw runtime_error("export: fer's runtime rejects the float32 graph: " + log);
    }
    int rc = 0;
    auto report = [&](const std::string & what, const onnx_parity & p, bool labelled) {
        const bool ok = p.max_abs <= tol && p.top_mismatch == 0;
        std::printf("check %s: %zu faces, max |OpenCV dnn (ONNX) - fer runtime (float32 TFLite)| = %.3g (tolerance "
                    "%g), top class differs on %zu: %s\n",
                    what.c_str(), p.n, p.max_abs, tol, p.top_mismatch, ok ? "ok" : "FAILED");
        if (labelled && p.n) {
            std::printf("accuracy on %s: OpenCV dnn on the ONNX file %.2f%%\n", what.c_str(),
                        100.0 * static_cast<double>(p.correct) / static_cast<double>(p.n));
        }
        rc = ok ? rc : 3;
    };
    try {
        check_export(a, n_check, [&](const dataset & faces) { return onnx_opencv_parity(bytes, model, faces); },
                     report);
    } catch (...) {
        fer_model_free(model);
        throw;
    }
    fer_model_free(model);
    return rc;
}
#endif

}  // namespace

int cmd_export(int argc, char ** argv) {
    arg_parser a("export", "--out M.tflite|M.onnx [OPTIONS]",
                 "Export a model to TensorFlow Lite (float32, or int8 with --int8): batch norm\n"
                 "folded, dropout removed, fused ReLU, NHWC, a SOFTMAX output and, for global-\n"
                 "average-pool heads, the last feature map as a second output (class activation\n"
                 "maps). Labels, input size, preprocessing, model name/version, training data and\n"
                 "commit go into the file's metadata. The written file is then loaded with fer's\n"
                 "own runtime and checked against libtorch on synthetic faces (and on a dataset\n"
                 "split with --check-data). --format onnx writes ONNX instead (float32), checked by\n"
                 "ONNX's checker and run by OpenCV's dnn module against fer's runtime. docs/runtime.md\n"
                 "describes the files and the checks.");
    a.option("model", "PATH", "model file or run folder (default: the shipped model)");
    a.option("out", "FILE", "the .tflite (or .onnx) to write (atomically)");
    a.option("format", "F", "tflite, or onnx (float32, opset 13, NCHW; checked with ONNX's checker and against "
                            "OpenCV's dnn module; default: from --out's extension)");
    a.option("name", "NAME", "model name in the metadata (default: the architecture)");
    a.option("version", "V", "model version in the metadata", "1");
    a.option("training-data", "TEXT", "training data in the metadata", "FER2013 Training split (28,709 faces)");
    a.option("commit", "ID", "commit in the metadata (default: git rev-parse HEAD of the source tree)");
    a.option("check-faces", "N", "synthetic faces for the runtime-vs-libtorch check (0: none)", "16");
    a.option("check-data", "PATH", "also check on every face of a FER2013 split (CSV or image folders)");
    a.option("check-split", "SPLIT", "split for --check-data", "PublicTest");
    a.option("check-max", "N", "check at most N faces of the split (a fixed random subset; 0: all)", "0");
    a.option("tolerance", "T", "max |runtime - libtorch| probability accepted by the check (float32)", "1e-4");
    a.flag("int8", "post-training int8 quantisation (per-channel weights, calibrated activations)");
    a.option("calibration", "PATH", "FER2013 data whose Training split calibrates int8 (default: data/fer2013)");
    a.option("samples", "N", "calibration faces (a fixed random subset of Training)", "1000");
    a.option("calibration-method", "M", "int8 activation ranges: minmax (observed) or mse (least quantisation error)", "mse");
    a.option("min-agreement", "F", "int8: least top-class agreement with libtorch on --check-data", "0.99");
    a.flag("qdq", "with --format onnx --int8: write the int8 graph as QDQ anyway (experimental, not at parity)");
    a.flag("reference-kernels", "check with the readable reference kernels only (no AVX2/FMA)");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.has("out")) {
        throw usage_error("export: --out is required (see fer export --help)");
    }
    const long long n_check = a.get_int("check-faces");
    if (n_check < 0 || n_check > 100000) {
        throw usage_error("export: --check-faces must be in 0..100000");
    }
    const double tol = a.get_double("tolerance");
    torch::set_num_threads(2);
    const model_ref ref = resolve_model(a.get("model"));
    Net net = load_model(ref.file);
    export_options opt;
    opt.model_name = a.get("name");
    opt.model_version = a.get("version");
    opt.training_data = a.get("training-data");
    opt.commit = a.has("commit") ? a.get("commit") : git_commit();
    opt.source = ref.file;
    const std::string out = a.get("out");
    const bool int8 = a.enabled("int8");
    const std::string format = a.has("format") ? a.get("format")
                               : out.size() > 5 && out.compare(out.size() - 5, 5, ".onnx") == 0 ? "onnx"
                                                                                               : "tflite";
    if (format != "tflite" && format != "onnx") {
        throw usage_error("export: --format must be tflite or onnx");
    }
    export_summary s;
    tfl_model m = net_to_tflite(net, opt, &s);
#ifndef FER_HAVE_ONNX
    if (format == "onnx") {
        throw usage_error("export: this fer was built without ONNX (install libonnx-dev and reconfigure)");
    }
#endif
    if (format == "onnx" && int8 && !a.enabled("qdq")) {
        throw usage_error("export: --format onnx writes float32 only: int8 as QDQ does not keep parity (onnxruntime's "
                          "int8 kernels change the top class of 8% of PublicTest faces, OpenCV 4.6 cannot read it; "
                          "docs/runtime.md); --qdq writes it anyway");
    }
    if (int8) {
        const long long n_cal = a.get_int("samples");
        if (n_cal < 1 || n_cal > 100000) {
            throw usage_error("export: --samples must be in 1..100000");
        }
        const std::string method_name = a.get("calibration-method");
        if (method_name != "minmax" && method_name != "mse") {
            throw usage_error("export: --calibration-method must be minmax or mse");
        }
        const calibration_method method = method_name == "mse" ? calibration_method::mse : calibration_method::minmax;
        const std::string cal = a.has("calibration") ? a.get("calibration") : std::string(FER_SOURCE_DIR) + "/data/fer2013";
        const dataset train = subsample(load_dataset(cal, "Training"), static_cast<size_t>(n_cal), 1);
        const auto t0 = std::chrono::steady_clock::now();
        m = quantize_tflite_int8(m, calibrate_tflite(m, train.pixels.data(), train.size(), method));
        std::printf("int8: calibrated on %zu Training faces of %s in %.1f s\n", train.size(), cal.c_str(),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
#ifdef FER_HAVE_ONNX
    if (format == "onnx") {
        return export_onnx(a, m, out, n_check, tol, int8);
    }
#endif
    const std::string bytes = tflite_serialize(m);
    write_file_atomic(out, bytes);
    std::printf("wrote %s (%zu bytes): %s %s, %d ops (%s), %lld weights%s\n", out.c_str(), bytes.size(),
                net->arch.c_str(), int8 ? "int8" : "float32", static_cast<int>(m.ops.size()),
                tflite_op_list(m).c_str(), static_cast<long long>(s.n_weights),
                s.has_cam ? ", CAM features as output 1" : "");

    std::string log;
    fer_model_params params = fer_model_default_params();
    params.log_user_data = &log;
    params.log_callback = [](int, const char * msg, void * user) { *static_cast<std::string *>(user) += msg; };
    params.reference_kernels = a.enabled("reference-kernels") ? 1 : 0;
    fer_model * model = fer_model_load_from_file(out.c_str(), params);
    if (!model) {
        throw runtime_error("export: fer's runtime rejects the written file: " + log);
    }
    std::printf("runtime kernels: %s\n", fer_model_kernels(model));
    int rc = 0;
    const double min_agree = a.get_double("min-agreement");
    auto report = [&](const std::string & what, const parity & p, bool labelled) {
        const double agree = p.n ? 1.0 - static_cast<double>(p.top_mismatch) / static_cast<double>(p.n) : 1.0;
        // float32 must match libtorch; int8 is judged on real faces only (top-class agreement)
        const bool ok = int8 ? (!labelled || agree >= min_agree) : (p.max_abs <= tol && p.top_mismatch == 0);
        std::printf("check %s: %zu faces, max |runtime - libtorch| = %.3g%s, top class differs on %zu (agreement "
                    "%.2f%%); runtime %.2f ms/face: %s\n",
                    what.c_str(), p.n, p.max_abs, int8 ? "" : (" (tolerance " + std::to_string(tol) + ")").c_str(),
                    p.top_mismatch, 100.0 * agree, p.n ? p.runtime_ms / static_cast<double>(p.n) : 0.0,
                    ok ? "ok" : "FAILED");
        if (labelled) {
            std::printf("accuracy on %s: libtorch float32 %.2f%%, runtime %s %.2f%% (%zu faces)\n", what.c_str(),
                        100.0 * static_cast<double>(p.correct_ref) / static_cast<double>(p.n),
                        int8 ? "int8" : "float32", 100.0 * static_cast<double>(p.correct_rt) / static_cast<double>(p.n),
                        p.n);
        }
        if (!ok) {
            rc = 3;
        }
    };
    try {
        check_export(a, n_check, [&](const dataset & faces) { return check_parity(net, model, faces); }, report);
    } catch (...) {
        fer_model_free(model);
        throw;
    }
    fer_model_free(model);
    return rc;
}

}  // namespace fer
