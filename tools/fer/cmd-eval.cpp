#include "args.h"
#include "atomic-file.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "holdout.h"
#include "log.h"
#include "metrics.h"
#include "plots.h"
#include "progress.h"

#include "fer-cpp.h"
#include "fer-pipeline.h"

#ifdef FER_TORCH_COMMANDS  // fer-torch: .pt checkpoints and run folders too
#include "checkpoint.h"
#include "infer.h"

#include <torch/torch.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace fer {

namespace {

#ifdef FER_TORCH_COMMANDS
metrics evaluate(Net & net, const dataset & d, int64_t batch, bool tta, bool progress) {
    torch::Tensor probs = predict_probabilities(net, d, batch, tta, progress);
    return compute_metrics(d.labels, top_classes(probs), 7);
}
#endif

bool is_tflite(const std::string & path) {
    return path.size() > 7 && path.compare(path.size() - 7, 7, ".tflite") == 0;
}

// The same measurement through fer's runtime on an exported .tflite file (what
// the apps run): `threads` threads, one context each, faces split in strides.
// Every member (an ensemble when several) classifies every view of `tta`
// (fer_tta) and the mean decides (fer_classify_ensemble).
metrics evaluate_tflite(const std::vector<fer::model> & members, const dataset & d, int32_t tta, int threads,
                        bool progress) {
    const size_t n = d.size();
    std::vector<int64_t> top(n, 0);
    std::vector<int> failed(static_cast<size_t>(threads), 0);
    std::atomic<int64_t> done{0};
    auto work = [&](int t) {
        std::vector<const fer_model *> models;
        for (const fer::model & m : members) {
            models.push_back(m.get());
        }
        ensemble_contexts contexts(models);
        const std::vector<fer_context *> & ctx = contexts.members;
        const bool ok = contexts.ok;
        for (size_t i = static_cast<size_t>(t); i < n; i += static_cast<size_t>(threads)) {
            const uint8_t * face = d.pixels.data() + i * FER_INPUT_SIZE * FER_INPUT_SIZE;
            fer_result r;
            if (!ok || fer_classify_ensemble(ctx.data(), static_cast<int32_t>(ctx.size()), face, FER_INPUT_SIZE, tta,
                                             &r) != FER_OK) {
                ++failed[static_cast<size_t>(t)];
                continue;
            }
            top[i] = r.top_class;
            ++done;
        }
    };
    progress_bar bar(tta != FER_TTA_NONE ? std::string("eval (") + tta_name(tta) + " TTA)" : "eval",
                     static_cast<int64_t>(n), "face");
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) {
        pool.emplace_back(work, t);
    }
    std::thread watcher;
    std::atomic<bool> finished{false};
    if (progress) {
        watcher = std::thread([&] {
            while (!finished) {
                bar.update(done);
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
            }
        });
    }
    work(0);
    for (auto & th : pool) {
        th.join();
    }
    finished = true;
    if (watcher.joinable()) {
        watcher.join();
        bar.finish();
    }
    for (int f : failed) {
        if (f) {
            throw runtime_error("eval: the runtime failed to classify " + std::to_string(f) + " faces");
        }
    }
    return compute_metrics(d.labels, top, 7);
}

}  // namespace

int cmd_eval(int argc, char ** argv) {
    arg_parser a("eval", "--data PATH [OPTIONS]",
                 "Measure a model on a FER2013 split: accuracy, macro-F1, per-class precision,\n"
                 "recall, F1 and support, and the confusion matrix (counts and row-normalised).");
    a.option("data", "PATH", "fer2013.csv or an image-folder tree");
    a.option("split", "SPLIT", "split to evaluate: PublicTest, PrivateTest, Training, or holdout (the 10% of\n"
                               "Training that fer train selects epochs on, not trained on: train/holdout.h)",
             "PublicTest");
    a.option("holdout", "X", "with --split holdout: the fraction held out, as given to fer train", "0.1");
    a.option("holdout-seed", "N", "with --split holdout: the seed, as given to fer train", "2013");
    a.option("model", "PATH", "a .tflite file (run by fer's runtime, as the apps do), a .pt checkpoint or a run\n"
                              "folder (libtorch) (default: the shipped .tflite model)");
    a.flag("json", "print one JSON object instead of text");
    a.option("out", "DIR", "write confusion.png, metrics.json and, for a run folder, curves.png");
    add_quality_options(a);  // the TTA is reported beside single-crop; ten-crop needs a .tflite model
    a.option("ensemble", "FILES", "comma-separated .tflite files classifying beside --model (.tflite); the mean of\n"
                                  "all members' probabilities decides");
    a.option("batch", "N", "faces per forward pass", "256");
    a.option("threads", "N", "threads (libtorch, or runtime contexts for .tflite)", "2");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.positionals().empty()) {
        throw usage_error("eval: unexpected argument '" + a.positionals()[0] + "'");
    }
    if (a.get("data").empty()) {
        throw usage_error("eval: --data is required (see fer eval --help)");
    }
    const int32_t tta = parse_tta_quality(a, "eval");
    std::vector<std::string> ensemble = split_list(a.get("ensemble"));
    if (parse_quality_best(a, "eval")) {
        for (const std::string & f : best_mode_members()) {
            ensemble.push_back(f);
        }
    }
    const long long threads = a.get_int("threads"), batch = a.get_int("batch");
    if (threads < 1 || threads > 256 || batch < 1 || batch > 65536) {
        throw usage_error("eval: --threads must be in 1..256 and --batch in 1..65536");
    }
    const bool json = a.enabled("json");
    const std::string out_dir = a.get("out");
    if (!out_dir.empty()) {
        std::error_code ec;
        fs::create_directories(out_dir, ec);
        if (!fs::is_directory(out_dir, ec)) {
            throw runtime_error(out_dir + ": cannot create output folder");
        }
    }
    const std::string model_arg = a.has("model") ? a.get("model") : default_tflite_model_path();
    const bool tflite = is_tflite(model_arg);
#ifdef FER_TORCH_COMMANDS
    torch::set_num_threads(static_cast<int>(threads));
    Net net{nullptr};
#else
    if (!tflite) {
        throw needs_libtorch{"eval of a libtorch model (" + model_arg + ")"};
    }
#endif
    model_ref ref;
    std::vector<fer::model> rt;
    std::string arch, precision = "float32";
    if (tflite) {
        ref.file = model_arg;
        rt.push_back(load_runtime_model(model_arg));
        for (const std::string & f : ensemble) {
            rt.push_back(load_runtime_model(f));
        }
        arch = rt[0].meta("architecture") ? rt[0].meta("architecture") : "tflite";
        if (rt.size() > 1) {
            arch += " + " + std::to_string(rt.size() - 1) + " more";
        }
        if (const char * p = rt[0].meta("precision")) {  // "int8 (post-training: ...)" -> "int8"
            precision = std::string(p, std::strcspn(p, " "));
        }
    } else {
        if (tta == FER_TTA_TEN_CROP || !ensemble.empty()) {
            throw usage_error("eval: --tta ten-crop and --ensemble need a .tflite --model");
        }
#ifdef FER_TORCH_COMMANDS
        ref = resolve_model(model_arg);
        net = load_model(ref.file);
        arch = net->arch;
#endif
    }
    dataset d;
    if (a.get("split") == "holdout") {
        dataset training = load_dataset(a.get("data"), "Training", static_cast<int>(threads));
        const long long seed = a.get_int("holdout-seed");
        if (seed < 0) {
            throw usage_error("eval: --holdout-seed must be >= 0");
        }
        d = subset(training, holdout_split(training, a.get_double("holdout"), static_cast<uint64_t>(seed)).holdout);
    } else {
        d = load_dataset(a.get("data"), a.get("split"), static_cast<int>(threads));
    }

    const std::vector<std::string> names = class_names();
    auto run = [&](int32_t views) {
#ifdef FER_TORCH_COMMANDS
        if (!tflite) {
            return evaluate(net, d, batch, views == FER_TTA_FLIP, !json);
        }
#endif
        return evaluate_tflite(rt, d, views, static_cast<int>(threads), !json);
    };
    const metrics single = run(FER_TTA_NONE);
    metrics flipped;
    const bool with_tta = tta != FER_TTA_NONE;
    std::string tta_key = std::string("tta_") + tta_name(tta);
    std::replace(tta_key.begin(), tta_key.end(), '-', '_');
    if (with_tta) {
        flipped = run(tta);
    }
    std::string js = metrics_json(single, names);
    js.pop_back();  // extend the object
    js += ", \"model\": \"" + json_escape(ref.file) + "\", \"arch\": \"" + arch + "\", \"precision\": \"" +
          precision + "\", \"split\": \"" + json_escape(a.get("split")) + "\"";
    if (with_tta) {
        js += ", \"" + tta_key + "\": " + metrics_json(flipped, names);
    }
    if (rt.size() > 1) {
        js += ", \"ensemble\": [";
        for (size_t i = 1; i < rt.size(); ++i) {
            js += (i > 1 ? ", \"" : "\"") + json_escape(ensemble[i - 1]) + "\"";
        }
        js += "]";
    }
    js += "}";
    if (json) {
        std::printf("%s\n", js.c_str());
    } else {
        std::printf("model  %s (%s, %s%s)\ndata   %s [%s]\n\n", ref.file.c_str(), arch.c_str(), precision.c_str(),
                    tflite ? ", fer runtime" : ", libtorch", a.get("data").c_str(), a.get("split").c_str());
        std::fputs(format_metrics(single, names).c_str(), stdout);
        if (with_tta) {
            std::printf("\nwith test-time augmentation (%s):\n",
                        tta == FER_TTA_FLIP ? "mean of face and mirror image" : "mean of ten views");
            std::fputs(format_metrics(flipped, names).c_str(), stdout);
        }
    }
    if (!out_dir.empty()) {
        const fs::path o(out_dir);
        write_file_atomic((o / "metrics.json").string(), js + "\n");
        write_png((o / "confusion.png").string(),
                  draw_confusion(single, names, arch + " on " + a.get("split") + " (single crop)"));
        if (with_tta) {
            write_png((o / "confusion-tta.png").string(),
                      draw_confusion(flipped, names, arch + " on " + a.get("split") + " (" + tta_name(tta) + " TTA)"));
        }
        if (!ref.run_dir.empty()) {
            cv::Mat curves = draw_training_curves((fs::path(ref.run_dir) / "metrics.csv").string());
            if (!curves.empty()) {
                write_png((o / "curves.png").string(), curves);
            } else {
                log_warning(ref.run_dir + ": no readable metrics.csv; no training curves drawn");
            }
        }
        log_info("wrote " + out_dir + "/metrics.json and confusion.png");
    }
    return 0;
}

}  // namespace fer
