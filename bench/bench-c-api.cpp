// The C API's speed on one picture and one face crop, the peer of the Python
// package in bench/run-python.sh: fer_analyze_image on a decoded BGR picture
// (detect + crop + classify every face) from T threads with a context each,
// and fer_classify of one 48x48 crop per call. Prints one JSON line per case.
//   bench-c-api PICTURE CROP ITERATIONS THREADS
#include "fer-pipeline.h"

#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: bench-c-api PICTURE CROP ITERATIONS THREADS\n");
        return 1;
    }
    const cv::Mat img = cv::imread(argv[1], cv::IMREAD_COLOR);
    const cv::Mat crop = cv::imread(argv[2], cv::IMREAD_GRAYSCALE);
    const int iters = std::atoi(argv[3]), threads = std::atoi(argv[4]);
    if (img.empty() || crop.empty() || crop.rows != 48 || crop.cols != 48 || iters < 1 || threads < 1) {
        std::fprintf(stderr, "bench-c-api: unreadable picture, crop not 48x48, or bad counts\n");
        return 2;
    }
    const char * model_path = std::getenv("FER_BENCH_MODEL");
    const char * det_path = std::getenv("FER_BENCH_DETECTOR");
    fer_model * model = fer_model_load_from_file(model_path, fer_model_default_params());
    fer_detector * det = fer_detector_load_from_file(det_path, nullptr, nullptr, 0);
    if (!model || !det) {
        std::fprintf(stderr, "bench-c-api: set FER_BENCH_MODEL and FER_BENCH_DETECTOR to loadable files\n");
        return 2;
    }
    const fer_pipeline_params p = fer_pipeline_default_params();

    // analyze: iters pictures shared by the threads
    std::atomic<int> next{0};
    std::atomic<long> faces{0};
    auto worker = [&] {
        fer_context * ctx = fer_context_new(model);
        std::vector<fer_face> out(64);
        for (; next++ < iters;) {
            int32_t n = 0;
            fer_analyze_image(ctx, det, img.data, img.cols, img.rows, static_cast<int32_t>(img.step), FER_PIXEL_BGR, &p,
                              out.data(), 64, &n, nullptr);
            faces += n;
        }
        fer_context_free(ctx);
    };
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back(worker);
    }
    for (auto & t : pool) {
        t.join();
    }
    double s = seconds_since(t0);
    std::printf("{\"case\": \"analyze\", \"threads\": %d, \"calls\": %d, \"faces\": %ld, \"seconds\": %.6f}\n", threads,
                iters, faces.load(), s);

    // classify: one crop per call, one thread
    fer_context * ctx = fer_context_new(model);
    fer_result r;
    const int n_crops = iters * 20;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n_crops; ++i) {
        fer_classify(ctx, crop.data, static_cast<int>(crop.step), &r);
    }
    s = seconds_since(t0);
    std::printf("{\"case\": \"classify\", \"threads\": 1, \"calls\": %d, \"faces\": %d, \"seconds\": %.6f}\n", n_crops,
                n_crops, s);
    fer_context_free(ctx);
    fer_detector_free(det);
    fer_model_free(model);
    return 0;
}
