// Calibrates the box-to-crop rule of the face pipeline (crop_scale,
// crop_shift_y in fer_pipeline_params): each PublicTest face is upscaled 3x
// onto a larger textured canvas, found by the detector, cropped under each
// rule of a grid and classified; accuracy is compared with classifying the
// original 48x48 crop. Results: docs/face-detection.md.
//
//   crop-calibration --data data/fer2013 --model models/fernet.tflite
//                    --cascade /usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml [--every 1]
#include "fer-pipeline.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char ** argv) {
    std::string data = "data/fer2013", model_path = "models/fernet.tflite",
                cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
    int every = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--data") data = argv[i + 1];
        else if (k == "--model") model_path = argv[i + 1];
        else if (k == "--cascade") cascade = argv[i + 1];
        else if (k == "--every") every = std::max(1, std::atoi(argv[i + 1]));
        else { std::fprintf(stderr, "usage: crop-calibration [--data DIR] [--model F] [--cascade F] [--every N]\n"); return 1; }
    }
    fer_model * model = fer_model_load_from_file(model_path.c_str(), fer_model_default_params());
    char err[256] = "";
    fer_detector * det = fer_detector_load_from_file(cascade.c_str(), nullptr, err, sizeof err);
    if (!model || !det) {
        std::fprintf(stderr, "error: cannot load %s\n", !model ? model_path.c_str() : (cascade + ": " + err).c_str());
        return 2;
    }
    fer_context * ctx = fer_context_new(model);
    struct item { std::string file; int label; };
    std::vector<item> items;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        const fs::path dir = fs::path(data) / "PublicTest" / fer_class_name(c);
        std::vector<std::string> files;
        for (const auto & e : fs::directory_iterator(dir)) files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        for (const auto & f : files) items.push_back({f, c});
    }
    const float scales[] = {1.0f, 1.1f, 1.2f, 1.3f};
    const float shifts[] = {0.0f, 0.05f, 0.1f};
    const int n_rules = 12;
    int n = 0, direct_ok = 0, detected = 0, ok[n_rules] = {0}, direct_ok_detected = 0;
    cv::RNG rng(12345);
    for (size_t k = 0; k < items.size(); k += size_t(every)) {
        const cv::Mat face = cv::imread(items[k].file, cv::IMREAD_GRAYSCALE);
        if (face.empty() || face.cols != 48) continue;
        ++n;
        fer_result r;
        fer_classify(ctx, face.data, int(face.step), &r);
        const bool d_ok = r.top_class == items[k].label;
        direct_ok += d_ok;
        // A 432x432 canvas: blurred noise around a smooth gradient (a room-like
        // background with texture); the face 3x (144 px) at a random place.
        cv::Mat canvas(432, 432, CV_8U);
        rng.fill(canvas, cv::RNG::UNIFORM, 40, 200);
        cv::GaussianBlur(canvas, canvas, cv::Size(0, 0), 6);
        cv::Mat big;
        cv::resize(face, big, cv::Size(144, 144), 0, 0, cv::INTER_CUBIC);
        const cv::Rect at(rng.uniform(20, 268), rng.uniform(20, 268), 144, 144);
        big.copyTo(canvas(at));
        int rule = 0;
        bool found = false;
        for (float sc : scales) {
            for (float sh : shifts) {
                fer_pipeline_params p = fer_pipeline_default_params();
                p.crop_scale = sc;
                p.crop_shift_y = sh;
                fer_face faces[8];
                int32_t nf = 0;
                fer_analyze(ctx, det, canvas.data, canvas.cols, canvas.rows, int(canvas.step), &p, faces, 8, &nf, nullptr);
                // The largest box whose centre lies on the pasted face.
                for (int i = 0; i < std::min(nf, 8); ++i) {
                    const cv::Point c(faces[i].box.x + faces[i].box.width / 2, faces[i].box.y + faces[i].box.height / 2);
                    if (at.contains(c)) {
                        found = true;
                        ok[rule] += faces[i].result.top_class == items[k].label;
                        break;
                    }
                }
                ++rule;
            }
        }
        detected += found;
        direct_ok_detected += found && d_ok;
        if (n % 200 == 0) std::fprintf(stderr, "\r%d faces", n);
    }
    std::fprintf(stderr, "\n");
    std::printf("faces: %d, detected: %d (%.1f%%); direct 48x48 crops: %.2f%% (%.2f%% on the detected ones)\n\n", n,
                detected, 100.0 * detected / n, 100.0 * direct_ok / n, 100.0 * direct_ok_detected / std::max(1, detected));
    std::printf("| crop_scale | crop_shift_y | accuracy, detected faces | accuracy, all faces (missed = wrong) | lost vs direct (detected) |\n|---:|---:|---:|---:|---:|\n");
    int rule = 0;
    for (float sc : scales) {
        for (float sh : shifts) {
            std::printf("| %.2f | %.2f | %.2f%% | %.2f%% | %+.2f |\n", sc, sh, 100.0 * ok[rule] / std::max(1, detected),
                        100.0 * ok[rule] / n, 100.0 * (ok[rule] - direct_ok_detected) / std::max(1, detected));
            ++rule;
        }
    }
    fer_context_free(ctx);
    fer_detector_free(det);
    fer_model_free(model);
    return 0;
}
