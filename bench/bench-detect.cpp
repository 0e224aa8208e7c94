// bench-detect: the runtime's face detector (include/fer-detect.h) against
// OpenCV's cv::CascadeClassifier on the labelled photographs of
// ../shared/data/faces: recall and precision at IoU >= 0.4 per cascade and
// setting, whether both return the same boxes, and time per image (median of
// --reps runs, one thread, both measured in the same run, interleaved).
//
//   bench-detect [--faces DIR] [--haar DIR] [--reps N] [--quick] [--csv FILE]
//
// See docs/face-detection.md for the figures and bench/run-detect.sh.
#include "fer-detect.h"

#include "../src/detect/cascade.h"
#include "../src/detect/group.h"
#include "../src/detect/haar-cascade.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct labelled_image {
    std::string file;
    std::vector<cv::Rect> faces;
};

// <image file='x.jpg' ...> <box top='90' left='194' width='37' height='37'/> ... </image>
std::vector<labelled_image> read_labels(const std::string & path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string text = ss.str();
    std::vector<labelled_image> out;
    const std::regex image_re("<image file='([^']+)'[^>]*>([\\s\\S]*?)</image>");
    const std::regex box_re("<box top='(-?\\d+)' left='(-?\\d+)' width='(\\d+)' height='(\\d+)'");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), image_re); it != std::sregex_iterator(); ++it) {
        labelled_image li;
        li.file = (*it)[1];
        const std::string body = (*it)[2];
        for (auto b = std::sregex_iterator(body.begin(), body.end(), box_re); b != std::sregex_iterator(); ++b) {
            li.faces.emplace_back(std::stoi((*b)[2]), std::stoi((*b)[1]), std::stoi((*b)[3]), std::stoi((*b)[4]));
        }
        out.push_back(li);
    }
    return out;
}

double iou(const cv::Rect & a, const cv::Rect & b) {
    const double inter = (a & b).area();
    return inter / (a.area() + b.area() - inter);
}

// Greedy one-to-one matching by decreasing IoU; returns the true positives.
int match(const std::vector<cv::Rect> & truth, const std::vector<cv::Rect> & found, double thr) {
    struct pair_iou {
        double v;
        size_t t, f;
    };
    std::vector<pair_iou> pairs;
    for (size_t t = 0; t < truth.size(); ++t) {
        for (size_t f = 0; f < found.size(); ++f) {
            const double v = iou(truth[t], found[f]);
            if (v >= thr) {
                pairs.push_back({v, t, f});
            }
        }
    }
    std::sort(pairs.begin(), pairs.end(), [](const pair_iou & a, const pair_iou & b) { return a.v > b.v; });
    std::vector<bool> tu(truth.size()), fu(found.size());
    int tp = 0;
    for (const pair_iou & p : pairs) {
        if (!tu[p.t] && !fu[p.f]) {
            tu[p.t] = fu[p.f] = true;
            ++tp;
        }
    }
    return tp;
}

double now_ms() {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<cv::Rect> run_ours(const fer_detector * d, const cv::Mat & g, const fer_detect_params & p) {
    std::vector<fer_box> b(1024);
    int32_t n = 0;
    if (fer_detector_detect(d, g.data, g.cols, g.rows, int32_t(g.step), &p, b.data(), int32_t(b.size()), &n) !=
        FER_DETECT_OK) {
        std::fprintf(stderr, "error: fer_detector_detect failed\n");
        std::exit(3);
    }
    std::vector<cv::Rect> out;
    for (int32_t i = 0; i < n && i < int32_t(b.size()); ++i) {
        out.emplace_back(b[size_t(i)].x, b[size_t(i)].y, b[size_t(i)].width, b[size_t(i)].height);
    }
    return out;
}

std::vector<cv::Rect> run_opencv(cv::CascadeClassifier & cc, const cv::Mat & g, const fer_detect_params & p) {
    std::vector<cv::Rect> r;
    cc.detectMultiScale(g, r, p.scale_factor, p.min_neighbors, 0, cv::Size(p.min_size, p.min_size),
                        cv::Size(p.max_size, p.max_size));
    return r;
}

bool same(std::vector<cv::Rect> a, std::vector<cv::Rect> b) {
    auto key = [](const cv::Rect & r) { return std::make_tuple(r.x, r.y, r.width, r.height); };
    auto less = [&](const cv::Rect & x, const cv::Rect & y) { return key(x) < key(y); };
    std::sort(a.begin(), a.end(), less);
    std::sort(b.begin(), b.end(), less);
    return a == b;
}

// The detector through its internals with a chosen window evaluator (the
// public API always picks the fastest the CPU has): --evaluator 128 times the
// 128-bit vector path, the one SSE2-only CPUs and WebAssembly SIMD get.
struct internal_detector {
    fer::detect::haar_detector det;
    fer::detect::scan_options::path path = fer::detect::scan_options::path::automatic;
    bool load(const std::string & file) {
        std::ifstream f(file, std::ios::binary);
        const std::string xml((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::string err;
        if (!fer::detect::read_xml(xml.data(), xml.size(), det.model, err)) {
            return false;
        }
        fer::detect::prepare(det);
        return true;
    }
    std::vector<cv::Rect> run(const cv::Mat & g, const fer_detect_params & p) const {
        fer::detect::scan_options o;
        o.scale_factor = p.scale_factor;
        o.min_w = o.min_h = p.min_size;
        o.max_w = o.max_h = p.max_size;
        o.evaluator = path;
        fer::detect::scan_scratch scratch;
        std::vector<fer::detect::rect> hits;
        fer::detect::detect_raw(det, g.data, g.cols, g.rows, g.step, o, hits, scratch);
        std::vector<int> weights;
        fer::detect::group_rectangles(hits, weights, p.min_neighbors, 0.2);
        std::vector<cv::Rect> out;
        for (const fer::detect::rect & r : hits) {
            const cv::Rect c = cv::Rect(r.x, r.y, r.w, r.h) & cv::Rect(0, 0, g.cols, g.rows);
            if (c.area() > 0) {
                out.push_back(c);
            }
        }
        return out;
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct image {
    std::string name;
    cv::Mat grey;
    std::vector<cv::Rect> faces;
    bool labelled = false;
};

}  // namespace

int main(int argc, char ** argv) {
    std::string faces_dir = "../shared/data/faces", haar_dir = "/usr/share/opencv4/haarcascades", csv;
    int reps = 5;
    bool quick = false;
    std::vector<std::string> speed_cascades = {"frontalface_default", "frontalface_alt2"};
    std::string only, evaluator = "auto";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
                std::exit(1);
            }
            return argv[++i];
        };
        if (a == "--faces") {
            faces_dir = next();
        } else if (a == "--haar") {
            haar_dir = next();
        } else if (a == "--reps") {
            reps = std::max(1, std::atoi(next().c_str()));
        } else if (a == "--quick") {
            quick = true;
        } else if (a == "--csv") {
            csv = next();
        } else if (a == "--evaluator") {
            evaluator = next();
            if (evaluator != "auto" && evaluator != "128" && evaluator != "reference") {
                std::fprintf(stderr, "error: --evaluator auto|128|reference\n");
                return 1;
            }
        } else if (a == "--only") {
            only = next();
        } else if (a == "--speed-cascades") {
            speed_cascades.clear();
            std::stringstream list(next());
            for (std::string item; std::getline(list, item, ',');) {
                speed_cascades.push_back(item);
            }
        } else {
            std::fprintf(stderr,
                         "usage: bench-detect [--faces DIR] [--haar DIR] [--reps N] [--quick] [--csv FILE]\n"
                         "                    [--speed-cascades frontalface_default,frontalface_alt2] [--only SUBSTRING]\n"
                         "  --only: time only the images whose name contains SUBSTRING (e.g. frame)\n"
                         "  --evaluator auto|128|reference: time the internal scan with this window\n"
                         "    evaluator (auto: AVX2 when the CPU has it; 128: 128-bit vectors, as SSE2-only\n"
                         "    CPUs and WebAssembly SIMD; reference: one window at a time)\n"
                         "  --quick: only the default cascade and setting, 1 timing rep\n");
            return a == "--help" || a == "-h" ? 0 : 1;
        }
    }
    if (quick) {
        reps = 1;
        speed_cascades.resize(1);
    }
    cv::setNumThreads(1);

    std::vector<image> images;
    for (const char * xml : {"training.xml", "testing.xml"}) {
        for (const labelled_image & li : read_labels(faces_dir + "/" + xml)) {
            image im;
            im.name = li.file;
            im.faces = li.faces;
            im.labelled = true;
            im.grey = cv::imread(faces_dir + "/" + li.file, cv::IMREAD_GRAYSCALE);
            if (im.grey.empty()) {
                std::fprintf(stderr, "error: cannot read %s/%s\n", faces_dir.c_str(), li.file.c_str());
                return 2;
            }
            images.push_back(im);
        }
    }
    size_t n_faces = 0;
    for (const image & im : images) {
        n_faces += im.faces.size();
    }
    if (images.empty()) {
        std::fprintf(stderr, "error: no labelled images in %s (training.xml, testing.xml)\n", faces_dir.c_str());
        return 2;
    }
    for (const char * extra : {"dogs.jpg", "Tom_Cruise_avp_2014_4.jpg", "solvay_conference.jpg", "bald_guys.jpg"}) {
        image im;
        im.name = extra;
        im.grey = cv::imread(faces_dir + "/" + extra, cv::IMREAD_GRAYSCALE);
        if (!im.grey.empty()) {
            images.push_back(im);
        }
    }
    // A live-camera frame: 640x480 with one face of about 200 px.
    {
        const cv::Mat tom = cv::imread(faces_dir + "/Tom_Cruise_avp_2014_4.jpg", cv::IMREAD_GRAYSCALE);
        if (!tom.empty()) {
            image im;
            im.name = "frame640x480 (1 face)";
            im.grey = cv::Mat(480, 640, CV_8U, cv::Scalar(110));
            cv::Mat small;
            cv::resize(tom, small, cv::Size(339, 480), 0, 0, cv::INTER_AREA);
            small.copyTo(im.grey(cv::Rect(150, 0, 339, 480)));
            images.push_back(im);
        }
    }

    std::printf("bench-detect: %zu labelled images (%zu faces), OpenCV %s, 1 thread, %d timing reps\n",
                images.size() - size_t(std::count_if(images.begin(), images.end(),
                                                     [](const image & im) { return !im.labelled; })),
                n_faces, CV_VERSION, reps);

    struct setting {
        const char * cascade;
        double scale_factor;
        int min_neighbors, min_size;
    };
    std::vector<setting> settings = {
        {"frontalface_default", 1.1, 3, 0}, {"frontalface_default", 1.1, 5, 0}, {"frontalface_default", 1.05, 3, 0},
        {"frontalface_default", 1.2, 3, 0}, {"frontalface_default", 1.1, 3, 30}, {"frontalface_alt", 1.1, 3, 0},
        {"frontalface_alt2", 1.1, 3, 0},    {"frontalface_alt2", 1.05, 3, 0},    {"frontalface_alt2", 1.1, 5, 0},
        {"frontalface_alt_tree", 1.1, 3, 0}, {"profileface", 1.1, 3, 0},
    };
    if (quick) {
        settings.resize(1);
    }
    std::FILE * csv_f = csv.empty() ? nullptr : std::fopen(csv.c_str(), "w");
    if (csv_f) {
        std::fprintf(csv_f, "cascade,scale_factor,min_neighbors,min_size,faces,tp,detections,recall,precision,"
                            "dogs_false_positives,identical_to_opencv\n");
    }

    std::printf("\n## Accuracy on the labelled photos (IoU >= 0.4, one-to-one matching)\n\n");
    std::printf("| cascade | scale | minN | minSize | recall | precision | TP / det | FP on dogs.jpg | boxes == OpenCV |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---|\n");
    for (const setting & s : settings) {
        const std::string path = haar_dir + "/haarcascade_" + s.cascade + ".xml";
        char err[512];
        fer_detector * d = fer_detector_load_from_file(path.c_str(), nullptr, err, sizeof err);
        cv::CascadeClassifier cc;
        if (!d || !cc.load(path)) {
            std::printf("| %s | skipped: %s |\n", s.cascade, d ? "OpenCV cannot load it" : err);
            fer_detector_free(d);
            continue;
        }
        fer_detect_params p = fer_detect_default_params();
        p.scale_factor = s.scale_factor;
        p.min_neighbors = s.min_neighbors;
        p.min_size = s.min_size;
        int tp = 0, det = 0, dogs_fp = -1, n_same = 0, n_cmp = 0;
        for (const image & im : images) {
            if (!im.labelled && im.name != "dogs.jpg") {
                continue;
            }
            const std::vector<cv::Rect> a = run_ours(d, im.grey, p);
            const std::vector<cv::Rect> b = run_opencv(cc, im.grey, p);
            n_same += same(a, b);
            ++n_cmp;
            if (im.labelled) {
                tp += match(im.faces, a, 0.4);
                det += int(a.size());
            } else {
                dogs_fp = int(a.size());
            }
        }
        const double recall = double(tp) / double(n_faces), precision = det ? double(tp) / det : 0.0;
        std::printf("| %s | %.2f | %d | %d | %.1f%% | %.1f%% | %d / %d | %d | %d of %d images |\n", s.cascade,
                    s.scale_factor, s.min_neighbors, s.min_size, 100 * recall, 100 * precision, tp, det, dogs_fp,
                    n_same, n_cmp);
        if (csv_f) {
            std::fprintf(csv_f, "%s,%.2f,%d,%d,%zu,%d,%d,%.4f,%.4f,%d,%d/%d\n", s.cascade, s.scale_factor,
                         s.min_neighbors, s.min_size, n_faces, tp, det, recall, precision, dogs_fp, n_same, n_cmp);
        }
        fer_detector_free(d);
        std::fflush(stdout);
    }
    if (csv_f) {
        std::fclose(csv_f);
    }

    // ---- speed ----
    for (const std::string & name : speed_cascades) {
        const std::string path = haar_dir + "/haarcascade_" + name + ".xml";
        fer_detector * d = fer_detector_load_from_file(path.c_str(), nullptr, nullptr, 0);
        cv::CascadeClassifier cc;
        if (!d || !cc.load(path)) {
            std::fprintf(stderr, "error: cannot load %s\n", path.c_str());
            return 2;
        }
        internal_detector internal;
        const bool use_internal = evaluator != "auto";
        if (use_internal) {
            internal.path = evaluator == "128" ? fer::detect::scan_options::path::vector128
                                               : fer::detect::scan_options::path::reference;
            if (!internal.load(path)) {
                std::fprintf(stderr, "error: cannot load %s\n", path.c_str());
                return 2;
            }
        }
        auto ours = [&](const cv::Mat & g, const fer_detect_params & p) {
            return use_internal ? internal.run(g, p) : run_ours(d, g, p);
        };
        std::printf("\n## Time per image, haarcascade_%s, evaluator %s, median of %d (ms, one thread)\n\n",
                    name.c_str(), evaluator.c_str(), reps);
        std::printf("| image | size | setting | ours | OpenCV | ours / OpenCV | faces | same boxes |\n");
        std::printf("|---|---|---|---:|---:|---:|---:|---|\n");
        std::vector<double> ratios;
        double sum_a = 0, sum_b = 0;
        for (const image & im : images) {
            if ((quick && im.name.rfind("frame", 0) != 0 && im.name != "2008_002079.jpg") ||
                (!only.empty() && im.name.find(only) == std::string::npos)) {
                continue;
            }
            std::vector<fer_detect_params> ps(1, fer_detect_default_params());
            if (im.name.rfind("frame", 0) == 0) {
                fer_detect_params live = fer_detect_default_params();
                live.min_size = 80;
                ps.push_back(live);
            }
            for (const fer_detect_params & p : ps) {
                std::vector<double> ta, tb;
                std::vector<cv::Rect> a, b;
                ours(im.grey, p);  // warm-up
                run_opencv(cc, im.grey, p);
                for (int r = 0; r < reps; ++r) {
                    double t0 = now_ms();
                    a = ours(im.grey, p);
                    ta.push_back(now_ms() - t0);
                    t0 = now_ms();
                    b = run_opencv(cc, im.grey, p);
                    tb.push_back(now_ms() - t0);
                }
                const double ma = median(ta), mb = median(tb);
                ratios.push_back(ma / mb);
                sum_a += ma;
                sum_b += mb;
                std::printf("| %s | %dx%d | sf %.2f, minN %d, minSize %d | %.1f | %.1f | %.2f | %zu | %s |\n",
                            im.name.c_str(), im.grey.cols, im.grey.rows, p.scale_factor, p.min_neighbors,
                            p.min_size, ma, mb, ma / mb, a.size(), same(a, b) ? "yes" : "NO");
                std::fflush(stdout);
            }
        }
        std::printf("\n%s: median ratio ours / OpenCV over %zu rows: %.2f (sum of medians %.0f ms vs %.0f ms)\n",
                    name.c_str(), ratios.size(), median(ratios), sum_a, sum_b);
        fer_detector_free(d);
    }
    return 0;
}
