// The face detectors side by side: YuNet (float32 and int8 files, run by our
// runtime) and the Haar cascade, on labelled photos, plus the time of the
// whole pipeline (detect + classify) on one thread.
//
//   Accuracy  ../shared/data/wider-val-dev (114 WIDER FACE validation photos)
//             and ../shared/data/faces (the dlib PASCAL photos, training.xml +
//             testing.xml): a detection matches a labelled face one-to-one at
//             IoU >= 0.4 (greedy, best score first); recall over faces at
//             least 32 / 64 px high; precision over detections at least that
//             high; a detection matching a smaller labelled face is ignored
//             (the protocol of wider-val-dev/README.md). False faces on dogs.jpg.
//   Speed     a 640x480 frame (the group photo letterboxed) with min face 0
//             and 80 (live), and a 12 MP photo (bald_guys.jpg enlarged), median
//             of --reps runs, each detector + the int8 classifier.
//
//   bench-face-detectors --shared ../shared/data [--reps 20] [--models models] [--classifier M.tflite]
#include "fer-pipeline.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct rect {
    double x, y, w, h;
};

struct photo {
    std::string path;
    std::vector<rect> faces;
};

double iou(const rect & a, const rect & b) {
    const double ix = std::max(0.0, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
    const double iy = std::max(0.0, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
    const double u = a.w * a.h + b.w * b.h - ix * iy;
    return u > 0 ? ix * iy / u : 0.0;
}

std::vector<photo> read_wider(const std::string & dir) {
    std::vector<photo> out;
    std::ifstream f(dir + "/boxes.txt");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("# ", 0) == 0 && line.find(".jpg") != std::string::npos) {
            std::istringstream s(line.substr(2));
            std::string name;
            s >> name;
            out.push_back({dir + "/images/" + name, {}});
        } else if (!line.empty() && line[0] != '#' && !out.empty()) {
            std::istringstream s(line);
            double x1, y1, x2, y2;
            if (s >> x1 >> y1 >> x2 >> y2) {
                out.back().faces.push_back({x1, y1, x2 - x1 + 1, y2 - y1 + 1});  // inclusive corners
            }
        }
    }
    return out;
}

std::string attr(const std::string & line, const std::string & key) {
    const size_t p = line.find(key + "='");
    if (p == std::string::npos) return "";
    const size_t s = p + key.size() + 2;
    return line.substr(s, line.find('\'', s) - s);
}

std::vector<photo> read_dlib(const std::string & dir) {
    std::vector<photo> out;
    for (const char * xml : {"training.xml", "testing.xml"}) {
        std::ifstream f(dir + "/" + xml);
        std::string line;
        while (std::getline(f, line)) {
            if (line.find("<image ") != std::string::npos) {
                out.push_back({dir + "/" + attr(line, "file"), {}});
            } else if (line.find("<box ") != std::string::npos && !out.empty()) {
                out.back().faces.push_back({std::atof(attr(line, "left").c_str()), std::atof(attr(line, "top").c_str()),
                                            std::atof(attr(line, "width").c_str()), std::atof(attr(line, "height").c_str())});
            }
        }
    }
    return out;
}

struct tally {
    int faces = 0, found = 0, detections = 0, true_det = 0;
};

// Greedy matching, best score first: each detection's labelled face (IoU at
// least 0.4, each face taken once), or -1 for a detection that matches none.
std::vector<int> match(const std::vector<rect> & truth, const std::vector<std::pair<rect, float>> & dets) {
    std::vector<int> order(dets.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return dets[a].second > dets[b].second; });
    std::vector<int> taken(truth.size(), 0), face_of(dets.size(), -1);
    for (int d : order) {
        double best_iou = 0.4;
        for (size_t k = 0; k < truth.size(); ++k) {
            const double v = iou(dets[d].first, truth[k]);
            if (!taken[k] && v >= best_iou) {
                best_iou = v;
                face_of[size_t(d)] = int(k);
            }
        }
        if (face_of[size_t(d)] >= 0) taken[size_t(face_of[size_t(d)])] = 1;
    }
    return face_of;
}

// One photo's detections against its labels, for faces/detections at least min_h high.
void score(const std::vector<rect> & truth, const std::vector<std::pair<rect, float>> & dets, double min_h, tally & t) {
    const std::vector<int> face_of = match(truth, dets);
    for (const rect & r : truth) t.faces += r.h >= min_h;
    for (size_t d = 0; d < dets.size(); ++d) {
        if (face_of[d] >= 0) {
            if (truth[size_t(face_of[d])].h >= min_h) {
                ++t.found;
                ++t.detections;
                ++t.true_det;
            }  // else: matches a smaller face, ignored
        } else if (dets[d].first.h >= min_h) {
            ++t.detections;  // a false face of this size
        }
    }
}

struct detector_case {
    const char * name;
    fer_detector * det;
    int long_side;  // YuNet input_long_side (0: default)
    float threshold;  // YuNet score threshold at every face size (0: the defaults, size-aware)
    int min_size = 0;        // smallest face sought (0: the default pass)
    int max_pass_pixels = 0; // YuNet's largest single pass (0: default)
};

std::vector<std::pair<rect, float>> detect(const detector_case & c, const cv::Mat & bgr) {
    fer_detect_params p = fer_detect_default_params();
    p.input_long_side = c.long_side;
    p.min_size = c.min_size;
    p.max_pass_pixels = c.max_pass_pixels;
    if (c.threshold > 0) {
        p.score_threshold = c.threshold;
        p.small_face_score_threshold = c.threshold;
    }
    std::vector<fer_box> boxes(512);
    int32_t n = 0;
    fer_detector_detect_image(c.det, bgr.data, bgr.cols, bgr.rows, int32_t(bgr.step), FER_PIXEL_BGR, &p, boxes.data(),
                              int32_t(boxes.size()), &n);
    std::vector<std::pair<rect, float>> out;
    for (int i = 0; i < std::min<int>(n, int(boxes.size())); ++i) {
        const fer_box & b = boxes[size_t(i)];
        out.push_back({{double(b.x), double(b.y), double(b.width), double(b.height)},
                       b.n_landmarks ? b.score : float(b.n_neighbors)});
    }
    return out;
}

double median_ms(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The 10th and 90th percentiles: how much the machine moved during the runs
// (a shared virtual machine's speed can move by 1.5x between seconds).
std::string spread_ms(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f-%.2f", v[v.size() / 10], v[v.size() * 9 / 10]);
    return buf;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string shared = "../shared/data", models = "models", classifier;
    int reps = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        if (k == "--shared") shared = argv[i + 1];
        else if (k == "--models") models = argv[i + 1];
        else if (k == "--reps") reps = std::max(1, std::atoi(argv[i + 1]));
        else if (k == "--classifier") classifier = argv[i + 1];
        else { std::fprintf(stderr, "usage: bench-face-detectors [--shared DIR] [--models DIR] [--reps N] [--classifier M.tflite]\n"); return 1; }
    }
    char err[512] = "";
    fer_detector * haar = fer_detector_load_from_file(
        "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml", nullptr, err, sizeof err);
    fer_detector * y32 = fer_detector_load_from_file((models + "/yunet.tflite").c_str(), nullptr, err, sizeof err);
    fer_detector * y8 = fer_detector_load_from_file((models + "/yunet-int8.tflite").c_str(), nullptr, err, sizeof err);
    // the timing table's classifier: the shipped int8 model, or --classifier (e.g. a fernet-s run's export)
    if (classifier.empty()) classifier = models + "/fernet-int8.tflite";
    fer_model * model = fer_model_load_from_file(classifier.c_str(), fer_model_default_params());
    if (!haar || !y32 || !y8 || !model) {
        std::fprintf(stderr, "error: cannot load a detector or the model: %s\n", err);
        return 2;
    }
    const detector_case cases[] = {{"Haar alt2 (OpenCV defaults)", haar, 0, 0},
                                   {"YuNet float32, long side 640 (default thresholds)", y32, 0, 0},
                                   {"YuNet int8, long side 640 (default thresholds)", y8, 0, 0},
                                   {"YuNet int8, full size (default thresholds)", y8, 4096, 0},
                                   {"YuNet int8, long side 640, score >= 0.6", y8, 0, 0.6f},
                                   {"YuNet int8, long side 640, score >= 0.7", y8, 0, 0.7f},
                                   {"YuNet int8, long side 640, score >= 0.8", y8, 0, 0.8f},
                                   {"YuNet int8, long side 640, score >= 0.83 at every size", y8, 0, 0.83f},
                                   {"YuNet int8, long side 640, score >= 0.9", y8, 0, 0.9f}};
    const bool thresholds_only = std::getenv("FER_BENCH_THRESHOLDS") != nullptr;
    const std::vector<photo> wider = read_wider(shared + "/wider-val-dev");
    const std::vector<photo> dlib = read_dlib(shared + "/faces");
    if (wider.empty() || dlib.empty()) {
        std::fprintf(stderr, "error: %s/wider-val-dev or %s/faces is missing\n", shared.c_str(), shared.c_str());
        return 2;
    }
    const bool speed_only = std::getenv("FER_BENCH_SPEED_ONLY") != nullptr;  // the timing table alone
    if (std::getenv("FER_BENCH_SMALL") != nullptr) {
        // Small faces (min face 24) in large photos: one full pass at the
        // scale min_size asks for (the image itself: never enlarged) against
        // the proposal cascade (forced: max_pass_pixels at its least), and the
        // default 640 px pass. Recall over faces >= 24 / 32 / 64 px, precision
        // over detections that high, time per photo.
        const detector_case small_cases[] = {{"YuNet int8, long side 640 (default)", y8, 0, 0, 0, 0},
                                             {"YuNet int8, one pass at long side 3600 (the largest the activation arena holds)", y8, 3600, 0, 24, 100000000},
                                             {"YuNet int8, min face 24, proposal cascade", y8, 0, 0, 24, 65536}};
        std::printf("## Small faces in large photos: 4000x3000 mosaics of 16 wider-val-dev photos (min face 24)\n\n");
        std::printf("| detector | recall >= 24 px | precision >= 24 px | recall >= 32 px | precision >= 32 px | recall >= 64 px | precision >= 64 px | ms per photo |\n");
        std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
        // The large photos: 4x4 mosaics of the WIDER photos (each fitted into a
        // 1000x750 cell: about their own size, so the faces stay sharp), 4000x3000
        // each; their labels moved with them.
        std::vector<std::pair<cv::Mat, std::vector<rect>>> mosaics;
        for (size_t first = 0; first + 16 <= wider.size(); first += 16) {
            cv::Mat m(3000, 4000, CV_8UC3, cv::Scalar(0, 0, 0));
            std::vector<rect> labels;
            for (size_t k = 0; k < 16; ++k) {
                const photo & ph = wider[first + k];
                cv::Mat img = cv::imread(ph.path);
                if (img.empty()) continue;
                const double f = std::min(1000.0 / img.cols, 750.0 / img.rows);
                cv::resize(img, img, cv::Size(int(img.cols * f), int(img.rows * f)), 0, 0, cv::INTER_AREA);
                const int ox = int(k % 4) * 1000, oy = int(k / 4) * 750;
                img.copyTo(m(cv::Rect(ox, oy, img.cols, img.rows)));
                for (const rect & r : ph.faces) labels.push_back({r.x * f + ox, r.y * f + oy, r.w * f, r.h * f});
            }
            mosaics.push_back({m, labels});
        }
        for (const detector_case & c : small_cases) {
            tally t24, t32, t64;
            double ms = 0;
            for (const auto & mo : mosaics) {
                const cv::Mat & img = mo.first;
                const photo ph{"", mo.second};
                const auto t0 = std::chrono::steady_clock::now();
                const auto dets = detect(c, img);
                ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                score(ph.faces, dets, 24, t24);
                score(ph.faces, dets, 32, t32);
                score(ph.faces, dets, 64, t64);
            }
            auto pct = [](int a, int b) { return b ? 100.0 * a / b : 0.0; };
            std::printf("| %s | %.1f%% (%d/%d) | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f |\n", c.name,
                        pct(t24.found, t24.faces), t24.found, t24.faces, pct(t24.true_det, t24.detections),
                        pct(t32.found, t32.faces), pct(t32.true_det, t32.detections), pct(t64.found, t64.faces),
                        pct(t64.true_det, t64.detections), ms / double(mosaics.size()));
            std::fflush(stdout);
        }
        return 0;
    }
    if (std::getenv("FER_BENCH_SIZES") != nullptr) {
        // Recall and false faces by face height at YuNet's input (labelled
        // height x the scale of the pass): how small a face the int8 network
        // still finds with the default, size-aware thresholds, pooled over
        // four input scales of the WIDER photos. Chooses yunet.cpp's
        // k_smallest_face (the size min_size faces are scaled to).
        const double edges[] = {8, 12, 16, 20, 24, 32, 48, 1e9};
        constexpr int n_buckets = 7;
        int faces[n_buckets] = {}, found[n_buckets] = {}, dets[n_buckets] = {}, falses[n_buckets] = {};
        auto bucket = [&](double h) {
            for (int b = 0; b < n_buckets; ++b) {
                if (h >= edges[b] && h < edges[b + 1]) return b;
            }
            return -1;
        };
        for (const photo & ph : wider) {
            const cv::Mat img = cv::imread(ph.path);
            if (img.empty()) continue;
            for (const int long_side : {4096, 768, 512, 384, 256, 192}) {
                const double s = std::min(1.0, double(long_side) / std::max(img.cols, img.rows));
                const auto d = detect({"", y8, long_side, float(std::atof(std::getenv("FER_BENCH_SIZES")))}, img);
                const std::vector<int> face_of = match(ph.faces, d);
                std::vector<int> taken(ph.faces.size(), 0);
                for (size_t i = 0; i < d.size(); ++i) {
                    const int b = bucket(d[i].first.h * s);
                    if (face_of[i] >= 0) {
                        taken[size_t(face_of[i])] = 1;
                    } else if (b >= 0) {
                        ++falses[b];
                    }
                    if (b >= 0) ++dets[b];
                }
                for (size_t k = 0; k < ph.faces.size(); ++k) {
                    const int b = bucket(ph.faces[k].h * s);
                    if (b < 0 || ph.faces[k].h < 48) continue;  // faces clear at full size, shrunk
                    ++faces[b];
                    found[b] += taken[k];
                }
            }
        }
        std::printf("## YuNet int8 by face height at its input (WIDER faces >= 48 px, shown at long sides 1024/768/512/384/256/192; default thresholds)\n\n");
        std::printf("| face height at input | faces | recall | detections | unmatched |\n|---|---:|---:|---:|---:|\n");
        for (int b = 0; b < n_buckets; ++b) {
            std::printf("| %g-%g px | %d | %.1f%% | %d | %d |\n", edges[b], b + 1 < n_buckets ? edges[b + 1] : 0.0,
                        faces[b], faces[b] ? 100.0 * found[b] / faces[b] : 0.0, dets[b], falses[b]);
        }
        return 0;
    }
    if (!speed_only) {
    std::printf("## Accuracy (IoU >= 0.4, one-to-one)\n\n");
    std::printf("| detector | set | recall >= 32 px | precision >= 32 px | recall >= 64 px | precision >= 64 px | false faces on dogs.jpg |\n");
    std::printf("|---|---|---:|---:|---:|---:|---:|\n");
    const cv::Mat dogs = cv::imread(shared + "/faces/dogs.jpg");
    for (const detector_case & c : cases) {
        if (thresholds_only != (c.threshold > 0)) {
            continue;  // the threshold scan is its own run (FER_BENCH_THRESHOLDS=1), for choosing the default
        }
        const int dogs_fp = int(detect(c, dogs).size());
        for (int set = 0; set < 2; ++set) {
            const std::vector<photo> & photos = set == 0 ? wider : dlib;
            tally t32, t64;
            for (const photo & ph : photos) {
                const cv::Mat img = cv::imread(ph.path);
                if (img.empty()) continue;
                const auto dets = detect(c, img);
                score(ph.faces, dets, 32, t32);
                score(ph.faces, dets, 64, t64);
            }
            auto pct = [](int a, int b) { return b ? 100.0 * a / b : 0.0; };
            std::printf("| %s | %s | %.1f%% (%d/%d) | %.1f%% | %.1f%% (%d/%d) | %.1f%% | %d |\n", c.name,
                        set == 0 ? "wider-val-dev" : "dlib faces", pct(t32.found, t32.faces), t32.found, t32.faces,
                        pct(t32.true_det, t32.detections), pct(t64.found, t64.faces), t64.found, t64.faces,
                        pct(t64.true_det, t64.detections), dogs_fp);
            std::fflush(stdout);
        }
    }

    }  // !speed_only
    if (thresholds_only) {
        return 0;
    }
    // Speed: whole pipeline on one thread.
    std::printf("\n## Time per frame, detect + classify every face (%s), one thread (median of %d; p10-p90)\n\n",
                classifier.c_str(), reps);
    std::printf("| input | detector | faces | ms | p10-p90 ms |\n|---|---|---:|---:|---:|\n");
    cv::Mat group = cv::imread("samples/group-photo.jpg");
    cv::Mat frame(480, 640, CV_8UC3, cv::Scalar(90, 110, 120));
    if (!group.empty()) {
        // one face: the largest of the group photo's, enlarged into a 640x480 frame
        cv::Mat face = group(cv::Rect(20, 40, 150, 150));
        cv::resize(face, face, cv::Size(240, 240));
        face.copyTo(frame(cv::Rect(200, 120, 240, 240)));
    }
    cv::Mat big = cv::imread(shared + "/faces/bald_guys.jpg");
    cv::resize(big, big, cv::Size(4000, 3000), 0, 0, cv::INTER_LINEAR);
    fer_context * ctx = fer_context_new(model);
    struct speed_case { const char * input; const cv::Mat * img; int min_face; bool int8_only; };
    const speed_case speeds[] = {{"640x480, one face, min face 0", &frame, 0, false},
                                 {"640x480, one face, min face 80 (live)", &frame, 80, false},
                                 {"4000x3000 photo (12 MP), min face 0", &big, 0, false},
                                 {"4000x3000 photo (12 MP), min face 24 (proposal cascade)", &big, 24, true}};
    for (const speed_case & s : speeds) {
        for (const detector_case & c : {cases[0], cases[1], cases[2]}) {
            if (s.int8_only && c.det != y8) continue;
            fer_pipeline_params p = fer_pipeline_default_params();
            p.detect.min_size = s.min_face;
            std::vector<fer_face> faces(64);
            std::vector<double> ms;
            int32_t n = 0;
            for (int r = 0; r < reps + 1; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                fer_analyze_image(ctx, c.det, s.img->data, s.img->cols, s.img->rows, int32_t(s.img->step), FER_PIXEL_BGR,
                                  &p, faces.data(), 64, &n, nullptr);
                const double dt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                if (r) ms.push_back(dt);  // the first run loads the input size
            }
            std::printf("| %s | %s | %d | %.2f | %s |\n", s.input, c.name, n, median_ms(ms), spread_ms(ms).c_str());
            std::fflush(stdout);
        }
    }
    // The network alone (no resize, decoding or classification): the rows
    // bench/yunet-onnxruntime.js measures for onnxruntime at the same sizes.
    std::printf("\n## YuNet network alone, one forward pass, one thread (median of %d)\n\n", reps);
    std::printf("| input | runtime | ms |\n|---|---|---:|\n");
    for (const char * file : {"yunet.tflite", "yunet-int8.tflite"}) {
        for (const auto & hw : {std::pair<int, int>{480, 640}, std::pair<int, int>{192, 256}}) {
            fer_model_params mp = fer_model_default_params();
            mp.input_height = hw.first;
            mp.input_width = hw.second;
            fer_model * net = fer_model_load_from_file((models + "/" + file).c_str(), mp);
            fer_context * nc = net ? fer_context_new(net) : nullptr;
            if (!nc) {
                std::fprintf(stderr, "error: cannot instantiate %s at %dx%d\n", file, hw.second, hw.first);
                return 2;
            }
            std::vector<float> x(size_t(hw.first) * size_t(hw.second) * 3);
            for (size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7) % 251);
            std::vector<double> ms;
            for (int r = 0; r < reps + 1; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                fer_context_run(nc, x.data(), x.size());
                const double dt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
                if (r) ms.push_back(dt);
            }
            std::printf("| %dx%d | fer runtime, %s (%s) | %.2f |\n", hw.second, hw.first, file, fer_model_kernels(net),
                        median_ms(ms));
            fer_context_free(nc);
            fer_model_free(net);
        }
    }
    fer_context_free(ctx);
    fer_model_free(model);
    fer_detector_free(haar);
    fer_detector_free(y32);
    fer_detector_free(y8);
    return 0;
}
