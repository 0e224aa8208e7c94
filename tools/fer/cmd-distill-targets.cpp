// `fer distill-targets`: runs teacher networks once over a training split and
// stores their probabilities (each face as it is and mirrored) for
// `fer train --teacher` (format: train/teacher-file.h).
#include "args.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "holdout.h"
#include "infer.h"
#include "log.h"
#include "teacher-file.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <utility>
#include <sstream>

namespace fer {

int cmd_distill_targets(int argc, char ** argv) {
    arg_parser a("distill-targets", "--model M[,M...] --data PATH --out FILE [OPTIONS]",
                 "Store the soft outputs of teacher networks over every face of a training split\n"
                 "(holdout included), as it is and mirrored, for fer train --teacher FILE. With\n"
                 "several models, the file holds the mean of their probabilities (an ensemble).");
    a.option("model", "M[,M...]", "teacher .pt files or run folders (their best.pt)");
    a.option("data", "PATH", "fer2013.csv or an image-folder tree, as given to fer train");
    a.option("split", "SPLIT", "the split the student trains on", "Training");
    a.option("out", "FILE", "teacher file to write (atomically)");
    a.option("batch", "N", "faces per forward pass", "256");
    a.option("threads", "N", "libtorch threads", "2");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.positionals().empty()) {
        throw usage_error("distill-targets: unexpected argument '" + a.positionals()[0] + "'");
    }
    for (const char * required : {"model", "data", "out"}) {
        if (a.get(required).empty()) {
            throw usage_error(std::string("distill-targets: --") + required + " is required");
        }
    }
    const long long threads = a.get_int("threads"), batch = a.get_int("batch");
    if (threads < 1 || threads > 256 || batch < 1 || batch > 65536) {
        throw usage_error("distill-targets: --threads must be in 1..256 and --batch in 1..65536");
    }
    torch::set_num_threads(static_cast<int>(threads));
    std::vector<std::string> files;
    std::istringstream list(a.get("model"));
    for (std::string m; std::getline(list, m, ',');) {
        if (!m.empty()) {
            files.push_back(resolve_model(m).file);
        }
    }
    const dataset d = load_dataset(a.get("data"), a.get("split"), static_cast<int>(threads));
    dataset mirrored = d;
    for (size_t i = 0; i < d.size(); ++i) {
        uint8_t * p = mirrored.pixels.data() + i * k_image_pixels;
        for (int y = 0; y < k_image_side; ++y) {
            std::reverse(p + y * k_image_side, p + (y + 1) * k_image_side);
        }
    }
    std::vector<float> probs(d.size() * k_soft_width, 0.0f);
    for (const auto & f : files) {
        Net net = load_model(f);
        log_info("teacher " + f + " (" + net->arch + ") over " + std::to_string(d.size()) + " faces, as-is and mirrored");
        for (int v = 0; v < k_soft_views; ++v) {
            torch::Tensor p = predict_probabilities(net, v ? mirrored : d, batch, false, true).contiguous();
            const float * src = p.data_ptr<float>();
            for (size_t i = 0; i < d.size(); ++i) {
                for (int c = 0; c < 7; ++c) {
                    probs[i * k_soft_width + v * 7 + c] += src[i * 7 + c] / static_cast<float>(files.size());
                }
            }
        }
    }
    std::string names;
    for (const auto & f : files) {
        names += (names.empty() ? "" : ",") + f;
    }
    write_teacher_file(a.get("out"), d, probs, a.get("data") + " [" + a.get("split") + "]", names);
    log_info("wrote " + a.get("out"));
    // The teachers' accuracy on the holdout (the faces no run trains on) comes for free:
    // the ceiling to expect from students distilled from this file.
    const holdout_indices h = holdout_split(d);
    for (const auto & part : {std::make_pair("holdout", &h.holdout), std::make_pair("trained-on part", &h.train)}) {
        size_t single = 0, flip = 0;
        for (size_t i : *part.second) {
            const float * p = probs.data() + i * k_soft_width;
            int a_top = 0, f_top = 0;
            for (int c = 1; c < 7; ++c) {
                a_top = p[c] > p[a_top] ? c : a_top;
                f_top = p[c] + p[7 + c] > p[f_top] + p[7 + f_top] ? c : f_top;
            }
            single += a_top == d.labels[i];
            flip += f_top == d.labels[i];
        }
        const double n = static_cast<double>(std::max<size_t>(1, part.second->size()));
        char buf[200];
        std::snprintf(buf, sizeof buf, "teachers on the %s of %s (%zu faces): accuracy %.2f%%, flip TTA %.2f%%",
                      part.first, a.get("split").c_str(), part.second->size(), 100.0 * static_cast<double>(single) / n,
                      100.0 * static_cast<double>(flip) / n);
        log_info(buf);
    }
    return 0;
}

}  // namespace fer
