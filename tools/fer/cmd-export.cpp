#include "args.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "export-tflite.h"
#include "infer.h"

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

struct parity {
    double max_abs = 0.0;
    size_t top_mismatch = 0;
    size_t n = 0;
    double runtime_ms = 0.0;
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
    }
    r.runtime_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    r.n = d.size();
    fer_context_free(ctx);
    return r;
}

}  // namespace

int cmd_export(int argc, char ** argv) {
    arg_parser a("export", "--out M.tflite [OPTIONS]",
                 "Export a model to TensorFlow Lite (float32): batch norm folded, dropout removed,\n"
                 "fused ReLU, NHWC, a SOFTMAX output (and, for global-average-pool heads, the last\n"
                 "feature map as a second output for class activation maps). Labels, input size,\n"
                 "preprocessing, model name/version, training data and commit go into the file's\n"
                 "metadata. The written file is then loaded with fer's own runtime and checked\n"
                 "against libtorch on synthetic faces (and on a dataset split with --check-data).");
    a.option("model", "PATH", "model file or run folder (default: the shipped model)");
    a.option("out", "FILE", "the .tflite to write (atomically)");
    a.option("name", "NAME", "model name in the metadata (default: the architecture)");
    a.option("version", "V", "model version in the metadata", "1");
    a.option("training-data", "TEXT", "training data in the metadata", "FER2013 Training split (28,709 faces)");
    a.option("commit", "ID", "commit in the metadata (default: git rev-parse HEAD of the source tree)");
    a.option("check-faces", "N", "synthetic faces for the runtime-vs-libtorch check (0: none)", "16");
    a.option("check-data", "PATH", "also check on every face of a FER2013 split (CSV or image folders)");
    a.option("check-split", "SPLIT", "split for --check-data", "PublicTest");
    a.option("tolerance", "T", "max |runtime - libtorch| probability accepted by the check", "1e-4");
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
    const export_summary s = export_tflite(net, out, opt);
    std::printf("wrote %s: %s, %d ops (%s), %lld weights%s\n", out.c_str(), net->arch.c_str(), s.n_ops,
                s.op_list.c_str(), static_cast<long long>(s.n_weights),
                s.has_cam ? ", CAM features as output 1" : "");

    std::string log;
    fer_model_params params = fer_model_default_params();
    params.log_user_data = &log;
    params.log_callback = [](int, const char * msg, void * user) { *static_cast<std::string *>(user) += msg; };
    fer_model * model = fer_model_load_from_file(out.c_str(), params);
    if (!model) {
        throw runtime_error("export: fer's runtime rejects the written file: " + log);
    }
    int rc = 0;
    auto report = [&](const char * what, const parity & p) {
        const bool ok = p.max_abs <= tol && p.top_mismatch == 0;
        std::printf("check %s: %zu faces, max |runtime - libtorch| = %.3g (tolerance %.3g), top class differs on %zu; "
                    "runtime %.2f ms/face: %s\n",
                    what, p.n, p.max_abs, tol, p.top_mismatch, p.n ? p.runtime_ms / static_cast<double>(p.n) : 0.0,
                    ok ? "ok" : "FAILED");
        if (!ok) {
            rc = 3;
        }
    };
    try {
        if (n_check > 0) {
            report("synthetic", check_parity(net, model, synthetic_faces(static_cast<int>(n_check), 7)));
        }
        if (a.has("check-data")) {
            const dataset d = load_dataset(a.get("check-data"), a.get("check-split"));
            report(a.get("check-split").c_str(), check_parity(net, model, d));
        }
    } catch (...) {
        fer_model_free(model);
        throw;
    }
    fer_model_free(model);
    return rc;
}

}  // namespace fer
