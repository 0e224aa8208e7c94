// Landmark crops (YuNet + alignment) against the box crops of the Haar path,
// measured on FER2013 faces pasted into larger scenes.
//
//   --calibrate  Training faces: where YuNet puts the 5 landmarks, mapped back
//                into each face's own 48x48 frame; their mean is the canonical
//                frame FER_CANONICAL_LANDMARKS (src/pipeline.cpp).
//   (default)    PublicTest faces, each pasted at two sizes and two tilts on a
//                textured canvas, found and classified through the pipeline
//                three ways: Haar box crop, YuNet landmark crop upright
//                (align 0), YuNet aligned (align 1); against the same face
//                classified whole (its original 48x48 crop). docs/face-detection.md.
//
//   align-calibration --data data/fer2013 --model models/fernet-int8.tflite
//                     --detector models/yunet-int8.tflite
//                     --cascade /usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml
//                     [--every 5] [--calibrate]
#include "fer-pipeline.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct item {
    std::string file;
    int label;
};

std::vector<item> list_split(const std::string & data, const std::string & split, int every) {
    std::vector<item> all;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        const fs::path dir = fs::path(data) / split / fer_class_name(c);
        std::vector<std::string> files;
        for (const auto & e : fs::directory_iterator(dir)) files.push_back(e.path().string());
        std::sort(files.begin(), files.end());
        for (const auto & f : files) all.push_back({f, c});
    }
    std::vector<item> out;
    for (size_t k = 0; k < all.size(); k += size_t(every)) out.push_back(all[k]);
    return out;
}

// The face (48x48) enlarged to `side` px, pasted at a random place of a
// textured 480x480 canvas, the whole canvas turned by `angle` degrees about
// the face centre. Returns the canvas; *to_canvas maps face-frame points
// (0..48) to canvas pixels.
cv::Mat scene(const cv::Mat & face, int side, double angle, cv::RNG & rng, cv::Mat * to_canvas) {
    cv::Mat canvas(480, 480, CV_8U);
    rng.fill(canvas, cv::RNG::UNIFORM, 40, 200);
    cv::GaussianBlur(canvas, canvas, cv::Size(0, 0), 6);
    cv::Mat big;
    cv::resize(face, big, cv::Size(side, side), 0, 0, cv::INTER_CUBIC);
    const int margin = side / 2 + 10;
    const cv::Rect at(rng.uniform(margin, 480 - side - margin), rng.uniform(margin, 480 - side - margin), side, side);
    big.copyTo(canvas(at));
    const cv::Point2f centre(at.x + side * 0.5f, at.y + side * 0.5f);
    const cv::Mat rot = cv::getRotationMatrix2D(centre, angle, 1.0);  // 2x3, double
    cv::Mat turned;
    cv::warpAffine(canvas, turned, rot, canvas.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT);
    // face frame -> canvas before the turn: scale side/48, offset at; then rot
    cv::Mat place = (cv::Mat_<double>(3, 3) << side / 48.0, 0, at.x, 0, side / 48.0, at.y, 0, 0, 1);
    cv::Mat r3 = cv::Mat::eye(3, 3, CV_64F);
    rot.copyTo(r3(cv::Rect(0, 0, 3, 2)));
    *to_canvas = r3 * place;
    return turned;
}

// The detected box whose centre is nearest the face centre, within half the face side; -1 if none.
int match(const fer_box * boxes, int n, cv::Point2d centre, double side) {
    int best = -1;
    double best_d = side * 0.5;
    for (int i = 0; i < n; ++i) {
        const double d = std::hypot(boxes[i].x + boxes[i].width * 0.5 - centre.x, boxes[i].y + boxes[i].height * 0.5 - centre.y);
        if (d < best_d) {
            best_d = d;
            best = i;
        }
    }
    return best;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string data = "data/fer2013", model_path = "models/fernet-int8.tflite", yunet_path = "models/yunet-int8.tflite",
                cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
    int every = 5;
    bool calibrate = false;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        if (k == "--calibrate") { calibrate = true; continue; }
        if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", k.c_str()); return 1; }
        if (k == "--data") data = argv[++i];
        else if (k == "--model") model_path = argv[++i];
        else if (k == "--detector") yunet_path = argv[++i];
        else if (k == "--cascade") cascade = argv[++i];
        else if (k == "--every") every = std::max(1, std::atoi(argv[++i]));
        else { std::fprintf(stderr, "usage: align-calibration [--data DIR] [--model F] [--detector F] [--cascade F] [--every N] [--calibrate]\n"); return 1; }
    }
    char err[512] = "";
    fer_model * model = fer_model_load_from_file(model_path.c_str(), fer_model_default_params());
    fer_detector * yunet = fer_detector_load_from_file(yunet_path.c_str(), nullptr, err, sizeof err);
    fer_detector * haar = fer_detector_load_from_file(cascade.c_str(), nullptr, err, sizeof err);
    if (!model || !yunet || !haar) {
        std::fprintf(stderr, "error: cannot load the model or a detector: %s\n", err);
        return 2;
    }
    fer_context * ctx = fer_context_new(model);
    cv::RNG rng(12345);
    fer_detect_params dp = fer_detect_default_params();
    if (calibrate) {
        fer_box boxes[32];
        const std::vector<item> items = list_split(data, "Training", every);
        double sum[10] = {0};
        int n = 0;
        for (size_t k = 0; k < items.size(); ++k) {
            const cv::Mat face = cv::imread(items[k].file, cv::IMREAD_GRAYSCALE);
            if (face.empty() || face.cols != 48) continue;
            cv::Mat to_canvas;
            const cv::Mat c = scene(face, 144, 0.0, rng, &to_canvas);
            int32_t nb = 0;
            fer_detector_detect_image(yunet, c.data, c.cols, c.rows, int(c.step), FER_PIXEL_GREY, &dp, boxes, 32, &nb);
            const cv::Point2d centre(to_canvas.at<double>(0, 0) * 24 + to_canvas.at<double>(0, 2),
                                     to_canvas.at<double>(1, 1) * 24 + to_canvas.at<double>(1, 2));
            const int m = match(boxes, std::min(nb, 32), centre, 144);
            if (m < 0) continue;
            for (int j = 0; j < 10; j += 2) {  // canvas -> face frame (no turn: scale and offset)
                sum[j] += (boxes[m].landmarks[j] - to_canvas.at<double>(0, 2)) / to_canvas.at<double>(0, 0);
                sum[j + 1] += (boxes[m].landmarks[j + 1] - to_canvas.at<double>(1, 2)) / to_canvas.at<double>(1, 1);
            }
            ++n;
            if (n % 200 == 0) std::fprintf(stderr, "\r%d faces", n);
        }
        std::fprintf(stderr, "\n");
        std::printf("Training faces: %zu, found by YuNet: %d\nFER_CANONICAL_LANDMARKS = {", items.size(), n);
        for (int j = 0; j < 10; ++j) std::printf("%s%.2ff", j ? ", " : "", sum[j] / std::max(1, n));
        std::printf("}\n");
        return 0;
    }

    const std::vector<item> items = list_split(data, "PublicTest", every);
    struct condition { int side; double angle; };
    const condition conds[] = {{72, 0}, {72, 20}, {160, 0}, {160, 20}};
    const char * paths[3] = {"Haar, box crop", "YuNet, upright landmark crop", "YuNet, aligned"};
    int n = 0, whole_ok = 0;
    int found[3] = {0}, correct[3] = {0}, agree[3] = {0};
    int found_t[3][2] = {}, correct_t[3][2] = {};  // by tilt: 0 or +-20 degrees
    for (size_t k = 0; k < items.size(); ++k) {
        const cv::Mat face = cv::imread(items[k].file, cv::IMREAD_GRAYSCALE);
        if (face.empty() || face.cols != 48) continue;
        fer_result whole;
        fer_classify(ctx, face.data, int(face.step), &whole);
        for (const condition & cd : conds) {
            ++n;
            whole_ok += whole.top_class == items[k].label;
            cv::Mat to_canvas;
            const double angle = cd.angle * (rng.uniform(0, 2) ? 1 : -1);
            const cv::Mat c = scene(face, cd.side, angle, rng, &to_canvas);
            const cv::Point2d centre(to_canvas.at<double>(0, 0) * 24 + to_canvas.at<double>(0, 1) * 24 + to_canvas.at<double>(0, 2),
                                     to_canvas.at<double>(1, 0) * 24 + to_canvas.at<double>(1, 1) * 24 + to_canvas.at<double>(1, 2));
            fer_box hb[32], yb[32];
            int32_t nh = 0, ny = 0;
            fer_detector_detect_image(haar, c.data, c.cols, c.rows, int(c.step), FER_PIXEL_GREY, &dp, hb, 32, &nh);
            fer_detector_detect_image(yunet, c.data, c.cols, c.rows, int(c.step), FER_PIXEL_GREY, &dp, yb, 32, &ny);
            const int tilt = cd.angle != 0 ? 1 : 0;
            for (int path = 0; path < 3; ++path) {
                const fer_box * bx = path == 0 ? hb : yb;
                const int m = match(bx, std::min(path == 0 ? nh : ny, 32), centre, cd.side);
                if (m < 0) continue;
                fer_pipeline_params p = fer_pipeline_default_params();
                p.align = path == 2 ? 1 : 0;
                uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE];
                fer_result r;
                if (fer_crop_face(c.data, c.cols, c.rows, int(c.step), &bx[m], &p, crop, nullptr, nullptr, nullptr) != FER_OK ||
                    fer_classify(ctx, crop, FER_INPUT_SIZE, &r) != FER_OK) {
                    continue;
                }
                ++found[path];
                correct[path] += r.top_class == items[k].label;
                agree[path] += r.top_class == whole.top_class;
                ++found_t[path][tilt];
                correct_t[path][tilt] += r.top_class == items[k].label;
            }
        }
        if (k % 50 == 0) std::fprintf(stderr, "\r%zu/%zu faces", k, items.size());
    }
    std::fprintf(stderr, "\n");
    std::printf("PublicTest faces: %zu (every %d), scenes: %d (sizes 72 and 160 px, tilt 0 and +-20 degrees)\n", items.size(),
                every, n);
    std::printf("whole 48x48 faces: %.2f%% accuracy\n\n", 100.0 * whole_ok / n);
    std::printf("| path | found | accuracy (missed = wrong) | accuracy, found faces | same class as whole face |\n|---|---:|---:|---:|---:|\n");
    for (int path = 0; path < 3; ++path) {
        std::printf("| %s | %.1f%% | %.2f%% | %.2f%% | %.2f%% |\n", paths[path], 100.0 * found[path] / n,
                    100.0 * correct[path] / n, 100.0 * correct[path] / std::max(1, found[path]),
                    100.0 * agree[path] / std::max(1, found[path]));
    }
    std::printf("\n| path | found, upright | found, tilted | accuracy of found, upright | accuracy of found, tilted |\n|---|---:|---:|---:|---:|\n");
    for (int path = 0; path < 3; ++path) {
        std::printf("| %s | %.1f%% | %.1f%% | %.2f%% | %.2f%% |\n", paths[path], 200.0 * found_t[path][0] / n,
                    200.0 * found_t[path][1] / n, 100.0 * correct_t[path][0] / std::max(1, found_t[path][0]),
                    100.0 * correct_t[path][1] / std::max(1, found_t[path][1]));
    }
    fer_context_free(ctx);
    fer_detector_free(yunet);
    fer_detector_free(haar);
    fer_model_free(model);
    return 0;
}
