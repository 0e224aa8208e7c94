#include "args.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "infer.h"
#include "log.h"
#include "metrics.h"
#include "plots.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace fer {

namespace {

metrics evaluate(Net & net, const dataset & d, int64_t batch, bool tta, bool progress) {
    torch::Tensor probs = predict_probabilities(net, d, batch, tta, progress);
    return compute_metrics(d.labels, top_classes(probs), 7);
}

}  // namespace

int cmd_eval(int argc, char ** argv) {
    arg_parser a("eval", "--data PATH [OPTIONS]",
                 "Measure a model on a FER2013 split: accuracy, macro-F1, per-class precision,\n"
                 "recall, F1 and support, and the confusion matrix (counts and row-normalised).");
    a.option("data", "PATH", "fer2013.csv or an image-folder tree");
    a.option("split", "SPLIT", "split to evaluate (Training, PublicTest, PrivateTest)", "PublicTest");
    a.option("model", "PATH", "model file or run folder (default: the shipped model)");
    a.flag("json", "print one JSON object instead of text");
    a.option("out", "DIR", "write confusion.png, metrics.json and, for a run folder, curves.png");
    a.option("tta", "MODE", "test-time augmentation reported beside single-crop: none or flip", "none");
    a.option("batch", "N", "faces per forward pass", "256");
    a.option("threads", "N", "libtorch threads", "2");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.positionals().empty()) {
        throw usage_error("eval: unexpected argument '" + a.positionals()[0] + "'");
    }
    if (a.get("data").empty()) {
        throw usage_error("eval: --data is required (see fer eval --help)");
    }
    const std::string tta = a.get("tta");
    if (tta != "none" && tta != "flip") {
        throw usage_error("eval: --tta must be none or flip");
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
    torch::set_num_threads(static_cast<int>(threads));
    const model_ref ref = resolve_model(a.get("model"));
    Net net = load_model(ref.file);
    const dataset d = load_dataset(a.get("data"), a.get("split"), static_cast<int>(threads));

    const std::vector<std::string> names = class_names();
    const metrics single = evaluate(net, d, batch, false, !json);
    metrics flipped;
    if (tta == "flip") {
        flipped = evaluate(net, d, batch, true, !json);
    }
    std::string js = metrics_json(single, names);
    js.pop_back();  // extend the object
    js += ", \"model\": \"" + json_escape(ref.file) + "\", \"arch\": \"" + net->arch + "\", \"split\": \"" +
          json_escape(a.get("split")) + "\"";
    if (tta == "flip") {
        js += ", \"tta_flip\": " + metrics_json(flipped, names);
    }
    js += "}";
    if (json) {
        std::printf("%s\n", js.c_str());
    } else {
        std::printf("model  %s (%s)\ndata   %s [%s]\n\n", ref.file.c_str(), net->arch.c_str(), a.get("data").c_str(),
                    a.get("split").c_str());
        std::fputs(format_metrics(single, names).c_str(), stdout);
        if (tta == "flip") {
            std::printf("\nwith test-time augmentation (mean of face and mirror image):\n");
            std::fputs(format_metrics(flipped, names).c_str(), stdout);
        }
    }
    if (!out_dir.empty()) {
        const fs::path o(out_dir);
        write_file_atomic((o / "metrics.json").string(), js + "\n");
        write_png((o / "confusion.png").string(),
                  draw_confusion(single, names, net->arch + " on " + a.get("split") + " (single crop)"));
        if (tta == "flip") {
            write_png((o / "confusion-tta.png").string(),
                      draw_confusion(flipped, names, net->arch + " on " + a.get("split") + " (flip TTA)"));
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
