#include "args.h"
#include "augment.h"
#include "checkpoint.h"
#include "cli-common.h"
#include "commands.h"
#include "dataset.h"
#include "error.h"
#include "gradcam.h"
#include "image-io.h"
#include "plots.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace fer {

int cmd_explain(int argc, char ** argv) {
    arg_parser a("explain", "[OPTIONS] IMAGE|DIR ... --out DIR",
                 "Grad-CAM heatmaps: for each face image, OUT/<name>-cam.png shows the face, the\n"
                 "heatmap of the regions that drive the explained class, and the probabilities;\n"
                 "OUT/<name>.json holds the probabilities.");
    a.positional("IMAGE|DIR", "face images or folders of them", true);
    a.option("model", "PATH", "model file or run folder (default: the shipped model)");
    a.option("out", "DIR", "output folder (created)");
    a.option("class", "NAME", "explain this class instead of the predicted one");
    a.option("threads", "N", "libtorch threads", "2");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.positionals().empty()) {
        throw usage_error("explain: no input images (see fer explain --help)");
    }
    if (a.get("out").empty()) {
        throw usage_error("explain: --out DIR is required");
    }
    const int cls = a.get("class").empty() ? -1 : parse_class(a.get("class"));
    const long long threads = a.get_int("threads");
    if (threads < 1 || threads > 256) {
        throw usage_error("explain: --threads must be in 1..256");
    }
    torch::set_num_threads(static_cast<int>(threads));
    Net net = load_model(resolve_model(a.get("model")).file);
    const std::vector<std::string> files = list_images(a.positionals());
    const fs::path out(a.get("out"));
    std::error_code ec;
    fs::create_directories(out, ec);
    if (!fs::is_directory(out, ec)) {
        throw runtime_error(out.string() + ": cannot create output folder");
    }
    const std::vector<std::string> names = class_names();
    int failed = 0;
    for (const auto & f : files) {
        uint8_t face[k_image_pixels];
        std::string err;
        if (!read_face_image(f, face, &err)) {
            std::fprintf(stderr, "error: %s: %s\n", f.c_str(), err.c_str());
            ++failed;
            continue;
        }
        torch::Tensor x = torch::empty({1, 1, k_image_side, k_image_side});
        normalise_face(face, x.data_ptr<float>());
        cam_result r = grad_cam(net, x, cls);
        torch::Tensor cam = r.map.contiguous();
        cv::Mat face_mat(k_image_side, k_image_side, CV_8UC1, face);
        cv::Mat cam_mat(k_image_side, k_image_side, CV_32FC1, cam.data_ptr<float>());
        std::vector<float> probs(r.probabilities.data_ptr<float>(), r.probabilities.data_ptr<float>() + 7);
        const std::string stem = fs::path(f).stem().string();
        write_png((out / (stem + "-cam.png")).string(),
                  draw_cam_panel(face_mat, cam_mat, probs, names, static_cast<int>(r.cls)));
        std::string js = "{\"file\": \"" + json_escape(f) + "\", \"explained\": \"" +
                         names[static_cast<size_t>(r.cls)] + "\", \"probabilities\": {";
        for (size_t c = 0; c < names.size(); ++c) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%s\"%s\": %.6f", c ? ", " : "", names[c].c_str(), probs[c]);
            js += buf;
        }
        js += "}}\n";
        write_file_atomic((out / (stem + ".json")).string(), js);
        std::printf("%s -> %s (explained: %s %.1f%%)\n", f.c_str(), (out / (stem + "-cam.png")).c_str(),
                    names[static_cast<size_t>(r.cls)].c_str(), 100 * probs[static_cast<size_t>(r.cls)]);
    }
    if (failed) {
        std::fprintf(stderr, "%d of %zu images could not be read\n", failed, files.size());
        return 2;
    }
    return 0;
}

}  // namespace fer
