#include "args.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "image-io.h"
#include "infer.h"

#include <torch/torch.h>

#include <cstdio>

namespace fer {

// Until the face detector lands (issue 4), every image is taken to be one
// face crop, resized to 48x48 grey as FER2013 faces are.
int cmd_predict(int argc, char ** argv) {
    arg_parser a("predict", "[OPTIONS] IMAGE|DIR ...",
                 "Classify the emotion of face images (each image is one face crop, resized to\n"
                 "48x48 grey). Folders are searched recursively. Unreadable images are reported\n"
                 "by name and skipped; the exit code is 2 when any failed.");
    a.positional("IMAGE|DIR", "face images or folders of them", true);
    a.option("model", "PATH", "model file or run folder (default: the shipped model)");
    a.flag("json", "print one JSON array, one object per image");
    a.option("threads", "N", "libtorch threads", "2");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.positionals().empty()) {
        throw usage_error("predict: no input images (see fer predict --help)");
    }
    const long long threads = a.get_int("threads");
    if (threads < 1 || threads > 256) {
        throw usage_error("predict: --threads must be in 1..256");
    }
    torch::set_num_threads(static_cast<int>(threads));
    const bool json = a.enabled("json");
    Net net = load_model(resolve_model(a.get("model")).file);
    const std::vector<std::string> files = list_images(a.positionals());
    const std::vector<std::string> names = class_names();
    int failed = 0;
    bool first = true;
    if (json) {
        std::printf("[");
    } else {
        std::printf("%-48s %-9s %s\n", "file", "emotion", "confidence");
    }
    for (const auto & f : files) {
        uint8_t face[k_image_pixels];
        std::string err;
        if (!read_face_image(f, face, &err)) {
            std::fprintf(stderr, "error: %s: %s\n", f.c_str(), err.c_str());
            ++failed;
            continue;
        }
        dataset one;
        one.append(face, 0, f);
        torch::Tensor p = predict_probabilities(net, one, 1).squeeze(0);
        const int64_t top = p.argmax().item<int64_t>();
        const float conf = p[top].item<float>();
        if (json) {
            std::printf("%s\n  {\"file\": \"%s\", \"emotion\": \"%s\", \"confidence\": %.6f, \"probabilities\": {",
                        first ? "" : ",", json_escape(f).c_str(), names[static_cast<size_t>(top)].c_str(), conf);
            for (size_t c = 0; c < names.size(); ++c) {
                std::printf("%s\"%s\": %.6f", c ? ", " : "", names[c].c_str(), p[static_cast<int64_t>(c)].item<float>());
            }
            std::printf("}}");
        } else {
            std::printf("%-48s %-9s %5.1f%%\n", f.c_str(), names[static_cast<size_t>(top)].c_str(), 100 * conf);
        }
        first = false;
        std::fflush(stdout);
    }
    if (json) {
        std::printf("%s]\n", first ? "" : "\n");
    }
    if (failed) {
        std::fprintf(stderr, "%d of %zu images could not be read\n", failed, files.size());
        return 2;
    }
    return 0;
}

}  // namespace fer
