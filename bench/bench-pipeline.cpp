// bench-pipeline: time per frame of the whole face pipeline (colour to grey,
// detect, crop and classify every face; one thread) of fer's runtime
// (fer_analyze, int8 and float32 models) against its natural peer built from
// the libraries the training side uses: OpenCV's cv::CascadeClassifier with the
// same cascade and parameters, then libtorch on the same crops. Everything is
// measured in this process, interleaved round by round, so that load on the
// machine hits every contender alike and the ratios stay fair. Detection alone
// is timed too, to show where a frame's time goes.
//
//   bench-pipeline [--int8 PATH] [--float PATH] [--pt PATH] [--cascade XML]
//                  [--faces DIR] [--rounds 11] [--per-round 3]
//
// Frames: a 640x480 frame with one face (--faces DIR/Tom_Cruise_avp_2014_4.jpg
// cut to 4:3 around its face; without it, a samples/ face upscaled onto a
// textured background) and samples/group-photo.jpg (640x360, five faces).
// Settings: the CLI's default (min face 0) and the live camera's (min 80 px).
#include "checkpoint.h"
#include "models.h"

#include "fer-pipeline.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <time.h>

namespace {

struct contender {
    std::string name;
    std::function<int(const cv::Mat & bgr)> run;  // returns the faces it found
    std::vector<double> ms, cpu_ms;                // per frame, one entry per round
    int faces = 0;
};

// CPU time of this thread: on a busy machine it leaves out the time the
// thread waited for a core, which wall time does not.
double thread_cpu_ms() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string first_line_with(const char * file, const std::string & prefix) {
    std::ifstream f(file);
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(prefix, 0) == 0) {
            return line.substr(line.find(':') + 2);
        }
    }
    return "?";
}

// The one-face frame: the photo cut to 4:3 around its largest face, then
// scaled to 640x480, so the frame holds a real scene (which is what makes a
// detector work), not a face on a flat background.
cv::Mat one_face_frame(const std::string & photo, const fer_detector * det) {
    cv::Mat img = cv::imread(photo, cv::IMREAD_COLOR);
    if (img.empty()) {
        return img;
    }
    cv::Mat grey(img.rows, img.cols, CV_8U);
    fer_bgr_to_grey(img.data, img.cols, img.rows, static_cast<int32_t>(img.step), grey.data, grey.cols);
    fer_detect_params p = fer_detect_default_params();
    fer_box box[1];
    int32_t n = 0;
    if (fer_detector_detect(det, grey.data, grey.cols, grey.rows, grey.cols, &p, box, 1, &n) != FER_DETECT_OK || n == 0) {
        return cv::Mat();
    }
    const int w = std::min(img.cols, img.rows * 4 / 3), h = w * 3 / 4;
    const int cx = box[0].x + box[0].width / 2, cy = box[0].y + box[0].height / 2;
    const cv::Rect cut(std::clamp(cx - w / 2, 0, img.cols - w), std::clamp(cy - h / 2, 0, img.rows - h), w, h);
    cv::Mat frame;
    cv::resize(img(cut), frame, cv::Size(640, 480), 0, 0, cv::INTER_LINEAR);
    return frame;
}

// Fallback without the shared photos: a 48x48 FER2013 face upscaled to 200 px
// on a blurred copy of the group photo (texture, but no detectable face).
cv::Mat sample_face_frame(const std::string & face_file, const std::string & group_file) {
    cv::Mat face = cv::imread(face_file, cv::IMREAD_COLOR), group = cv::imread(group_file, cv::IMREAD_COLOR);
    if (face.empty() || group.empty()) {
        return cv::Mat();
    }
    cv::Mat frame, big;
    cv::resize(group, frame, cv::Size(640, 480));
    cv::GaussianBlur(frame, frame, cv::Size(0, 0), 12);
    cv::resize(face, big, cv::Size(200, 200), 0, 0, cv::INTER_CUBIC);
    big.copyTo(frame(cv::Rect(220, 140, 200, 200)));
    return frame;
}

// The peer's crop: the same square as fer_crop_face's rule (1.1 x box side,
// centred, replicated border), with OpenCV's resize.
cv::Mat peer_crop(const cv::Mat & grey, const cv::Rect & box, float scale) {
    const int side = std::max(box.width, box.height);
    const int s = std::max(1, static_cast<int>(side * scale + 0.5f));
    const cv::Rect sq(box.x + box.width / 2 - s / 2, box.y + box.height / 2 - s / 2, s, s);
    const cv::Rect in = sq & cv::Rect(0, 0, grey.cols, grey.rows);
    cv::Mat square = grey(in);
    if (in != sq) {
        cv::copyMakeBorder(grey(in), square, in.y - sq.y, sq.br().y - in.br().y, in.x - sq.x, sq.br().x - in.br().x,
                           cv::BORDER_REPLICATE);
    }
    cv::Mat out;
    cv::resize(square, out, cv::Size(FER_INPUT_SIZE, FER_INPUT_SIZE), 0, 0, cv::INTER_LINEAR);
    return out;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string i8 = FER_SOURCE_DIR "/models/fernet-int8.tflite", f32 = FER_SOURCE_DIR "/models/fernet.tflite",
                pt = FER_SOURCE_DIR "/models/fernet.pt",
                cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml",
                faces_dir = FER_SOURCE_DIR "/../shared/data/faces";
    int rounds = 11, per_round = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--int8") i8 = v;
        else if (k == "--float") f32 = v;
        else if (k == "--pt") pt = v;
        else if (k == "--cascade") cascade = v;
        else if (k == "--faces") faces_dir = v;
        else if (k == "--rounds") rounds = std::max(1, std::atoi(v.c_str()));
        else if (k == "--per-round") per_round = std::max(1, std::atoi(v.c_str()));
        else {
            std::fprintf(stderr, "bench-pipeline: unknown option %s\n", k.c_str());
            return 1;
        }
    }
    // One thread everywhere: the question is the cost of a frame on one core.
    cv::setNumThreads(1);
    torch::set_num_threads(1);

    char err[256];
    fer_detector * det = fer_detector_load_from_file(cascade.c_str(), nullptr, err, sizeof err);
    cv::CascadeClassifier cv_det;
    if (!det || !cv_det.load(cascade)) {
        std::fprintf(stderr, "bench-pipeline: cannot load %s: %s\n", cascade.c_str(), det ? "OpenCV refused it" : err);
        return 2;
    }
    fer_model * models[2] = {};
    fer_context * ctxs[2] = {};
    const std::string paths[2] = {i8, f32};
    for (int i = 0; i < 2; ++i) {
        models[i] = fer_model_load_from_file(paths[i].c_str(), fer_model_default_params());
        if (!models[i]) {
            std::fprintf(stderr, "bench-pipeline: cannot load %s\n", paths[i].c_str());
            return 2;
        }
        ctxs[i] = fer_context_new(models[i]);
    }
    fer::Net net = fer::load_model(pt);
    net->eval();

    struct frame_case {
        std::string name;  // short, for the table
        cv::Mat bgr;
    };
    std::vector<frame_case> frames;
    cv::Mat one = one_face_frame(faces_dir + "/Tom_Cruise_avp_2014_4.jpg", det);
    std::string one_source = faces_dir + "/Tom_Cruise_avp_2014_4.jpg, cut to 4:3 around the face";
    if (one.empty()) {
        one = sample_face_frame(FER_SOURCE_DIR "/samples/happy-PublicTest_10245799.jpg",
                                FER_SOURCE_DIR "/samples/group-photo.jpg");
        one_source = "samples/happy-PublicTest_10245799.jpg at 200 px on a blurred background";
    }
    if (!one.empty()) {
        frames.push_back({"one face", one});
        std::printf("one face: %s\n", one_source.c_str());
    }
    cv::Mat group = cv::imread(FER_SOURCE_DIR "/samples/group-photo.jpg", cv::IMREAD_COLOR);
    if (!group.empty()) {
        frames.push_back({"group photo", group});
        std::printf("group photo: samples/group-photo.jpg\n");
    }
    if (frames.empty()) {
        std::fprintf(stderr, "bench-pipeline: no frame to measure (samples/ missing?)\n");
        return 2;
    }

    std::printf("CPU: %s; load average: %s\n", first_line_with("/proc/cpuinfo", "model name").c_str(),
                [] {
                    std::ifstream f("/proc/loadavg");
                    std::string a, b, c;
                    f >> a >> b >> c;
                    return a + " " + b + " " + c;
                }().c_str());
    std::printf("fer kernels: int8 %s, float32 %s; OpenCV %s; libtorch threads %d; cascade %s\n",
                fer_model_kernels(models[0]), fer_model_kernels(models[1]), CV_VERSION, torch::get_num_threads(),
                cascade.c_str());
    std::printf("rounds %d x %d frames per contender, interleaved; figures: median ms per frame, wall and CPU time "
                "of the thread; peer/this: ratio of the medians (whole pipeline: to OpenCV + libtorch; detection: to OpenCV's)\n\n",
                rounds, per_round);
    std::printf("%-12s %-8s %-9s %-34s %6s %9s %9s %10s %10s\n", "frame", "size", "min face", "contender", "faces",
                "wall ms", "CPU ms", "peer/this", "(CPU)");

    const int min_sizes[2] = {0, 80};
    std::vector<fer_face> faces(64);
    for (const frame_case & fc : frames) {
        for (int min_size : min_sizes) {
            fer_pipeline_params pp = fer_pipeline_default_params();
            pp.detect.min_size = min_size;
            const fer_detect_params & dp = pp.detect;
            const cv::Size cv_min(min_size, min_size);
            cv::Mat grey_buf(fc.bgr.rows, fc.bgr.cols, CV_8U);

            auto ours = [&](fer_context * ctx) {
                return [&, ctx](const cv::Mat & bgr) {
                    fer_bgr_to_grey(bgr.data, bgr.cols, bgr.rows, static_cast<int32_t>(bgr.step), grey_buf.data,
                                    grey_buf.cols);
                    int32_t n = 0;
                    fer_analyze(ctx, det, grey_buf.data, grey_buf.cols, grey_buf.rows, grey_buf.cols, &pp,
                                faces.data(), static_cast<int32_t>(faces.size()), &n, nullptr);
                    return static_cast<int>(n);
                };
            };
            std::vector<contender> cs;
            auto add = [&cs](const char * name, std::function<int(const cv::Mat &)> run) {
                cs.emplace_back();
                cs.back().name = name;
                cs.back().run = std::move(run);
            };
            add("fer int8 (fer_analyze)", ours(ctxs[0]));
            add("fer float32 (fer_analyze)", ours(ctxs[1]));
            add("OpenCV cascade + libtorch (peer)", [&](const cv::Mat & bgr) {
                               cv::Mat grey;
                               cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
                               std::vector<cv::Rect> boxes;
                               cv_det.detectMultiScale(grey, boxes, dp.scale_factor, dp.min_neighbors, 0, cv_min);
                               if (boxes.empty()) {
                                   return 0;
                               }
                               // All faces of the frame in one batch: the peer's best case.
                               torch::Tensor x = torch::empty({static_cast<int64_t>(boxes.size()), 1, 48, 48});
                               for (size_t i = 0; i < boxes.size(); ++i) {
                                   cv::Mat c = peer_crop(grey, boxes[i], pp.crop_scale);
                                   x[static_cast<int64_t>(i)][0].copy_(
                                       torch::from_blob(c.data, {48, 48}, torch::kUInt8).to(torch::kFloat32));
                               }
                               torch::NoGradGuard ng;
                               torch::Tensor p = torch::softmax(net->forward(x.sub_(FER_PIXEL_MEAN).div_(FER_PIXEL_STD)), 1);
                               (void)p.data_ptr<float>();
                               return static_cast<int>(boxes.size());
                           });
            add("  detection only: fer", [&](const cv::Mat & bgr) {
                               fer_bgr_to_grey(bgr.data, bgr.cols, bgr.rows, static_cast<int32_t>(bgr.step),
                                               grey_buf.data, grey_buf.cols);
                               fer_box boxes[64];
                               int32_t n = 0;
                               fer_detector_detect(det, grey_buf.data, grey_buf.cols, grey_buf.rows, grey_buf.cols,
                                                   &dp, boxes, 64, &n);
                               return static_cast<int>(n);
                           });
            add("  detection only: OpenCV", [&](const cv::Mat & bgr) {
                               cv::Mat grey;
                               cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
                               std::vector<cv::Rect> boxes;
                               cv_det.detectMultiScale(grey, boxes, dp.scale_factor, dp.min_neighbors, 0, cv_min);
                               return static_cast<int>(boxes.size());
                           });
            for (auto & c : cs) {  // warm-up: first-call allocations, libtorch's lazy set-up
                c.faces = c.run(fc.bgr);
            }
            for (int r = 0; r < rounds; ++r) {
                for (auto & c : cs) {
                    const auto t0 = std::chrono::steady_clock::now();
                    const double cpu0 = thread_cpu_ms();
                    for (int i = 0; i < per_round; ++i) {
                        c.run(fc.bgr);
                    }
                    c.cpu_ms.push_back((thread_cpu_ms() - cpu0) / per_round);
                    c.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                                   per_round);
                }
            }
            // Ratios: whole pipeline against the peer, detection against OpenCV's.
            const double peer_ms = median(cs[2].ms), cv_det_ms = median(cs[4].ms);
            const double peer_cpu = median(cs[2].cpu_ms), cv_det_cpu = median(cs[4].cpu_ms);
            const std::string size = std::to_string(fc.bgr.cols) + "x" + std::to_string(fc.bgr.rows);
            for (size_t i = 0; i < cs.size(); ++i) {
                const double ms = median(cs[i].ms), cpu = median(cs[i].cpu_ms);
                const double ref = i < 3 ? peer_ms : cv_det_ms, ref_cpu = i < 3 ? peer_cpu : cv_det_cpu;
                std::printf("%-12s %-8s %-9d %-34s %6d %9.2f %9.2f %9.2fx %9.2fx\n", fc.name.c_str(), size.c_str(),
                            min_size, cs[i].name.c_str(), cs[i].faces, ms, cpu, ref / ms, ref_cpu / cpu);
            }
            std::printf("\n");
        }
    }
    for (auto * c : ctxs) {
        fer_context_free(c);
    }
    for (auto * m : models) {
        fer_model_free(m);
    }
    fer_detector_free(det);
    return 0;
}
