// bench-runtime: latency per face (one 48x48 crop, batch 1, one thread) of
// fer's runtime on the exported .tflite files (float32 and int8, optimised and
// reference kernels) against libtorch's forward pass of the same checkpoint,
// all measured in this process, interleaved round by round so that machine
// noise hits every contender alike. Prints ms/face (median of rounds), the
// multiply-accumulates per second achieved and their share of the core's
// float FMA peak, and ratios against libtorch. run-runtime.sh adds the TFLite
// interpreter (tflite-latency.js) on the same files.
//
//   bench-runtime [--pt models/fernet.pt] [--float models/fernet.tflite]
//                 [--int8 models/fernet-int8.tflite] [--rounds 30] [--per-round 20]
//                 [--peak-gmacs G]   (default: 16 float MACs/cycle x the CPU's MHz)
//                 [--kernel-sets all] (also each explicit kernel set the CPU runs:
//                                      avx2, avxvnni, neon, wasm-simd128; fer_kernel_set_supported)
#include "checkpoint.h"
#include "models.h"

#include "fer.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

namespace {

struct contender {
    std::string name;
    std::function<void(const uint8_t * face)> run;
    std::vector<double> ms;  // per face, one entry per round
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double cpu_mhz() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("cpu MHz", 0) == 0) {
            return std::atof(line.substr(line.find(':') + 1).c_str());
        }
    }
    return 0.0;
}

long file_size(const std::string & path) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    return f ? static_cast<long>(f.tellg()) : -1;
}

}  // namespace

int main(int argc, char ** argv) {
    std::string pt = FER_SOURCE_DIR "/models/fernet.pt", f32 = FER_SOURCE_DIR "/models/fernet.tflite",
                i8 = FER_SOURCE_DIR "/models/fernet-int8.tflite";
    int rounds = 30, per_round = 20;
    double peak = 0.0;
    bool all_sets = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--pt") pt = v;
        else if (k == "--float") f32 = v;
        else if (k == "--int8") i8 = v;
        else if (k == "--rounds") rounds = std::max(1, std::atoi(v.c_str()));
        else if (k == "--per-round") per_round = std::max(1, std::atoi(v.c_str()));
        else if (k == "--peak-gmacs") peak = std::atof(v.c_str());
        else if (k == "--kernel-sets") all_sets = v == "all";
        else {
            std::fprintf(stderr, "bench-runtime: unknown option %s\n", k.c_str());
            return 1;
        }
    }
    if (peak <= 0.0) {
        peak = 16.0 * cpu_mhz() / 1000.0;  // two 256-bit FMA pipes x 8 floats
    }
    torch::set_num_threads(1);
    fer::Net net = fer::load_model(pt);
    net->eval();
    const double macs = static_cast<double>(fer::net_macs(net));

    std::mt19937 rng(7);
    std::vector<uint8_t> faces(static_cast<size_t>(per_round) * 2304);
    for (auto & p : faces) {
        p = static_cast<uint8_t>(rng() & 0xff);
    }

    std::vector<contender> cs;
    cs.push_back({"libtorch float32 (forward, batch 1)", [&](const uint8_t * face) {
                      torch::NoGradGuard ng;
                      torch::Tensor x = torch::from_blob(const_cast<uint8_t *>(face), {1, 1, 48, 48}, torch::kUInt8)
                                            .to(torch::kFloat32)
                                            .sub_(FER_PIXEL_MEAN)
                                            .div_(FER_PIXEL_STD);
                      torch::Tensor p = torch::softmax(net->forward(x), 1);
                      (void)p.data_ptr<float>();
                  }, {}});
    std::vector<fer_model *> models;
    std::vector<fer_context *> ctxs;
    // (label, file, kernel set): the selected (best) and the reference kernels,
    // and with --kernel-sets all every other set this CPU runs.
    std::vector<std::tuple<std::string, std::string, int>> runs = {
        {"fer float32", f32, FER_KERNELS_BEST}, {"fer float32 reference", f32, FER_KERNELS_REFERENCE},
        {"fer int8", i8, FER_KERNELS_BEST}, {"fer int8 reference", i8, FER_KERNELS_REFERENCE}};
    for (int set = FER_KERNELS_AVX2; all_sets && set < FER_KERNELS_COUNT; ++set) {
        if (fer_kernel_set_supported(set)) {
            runs.emplace_back(std::string("fer float32 ") + fer_kernel_set_name(set), f32, set);
            runs.emplace_back(std::string("fer int8 ") + fer_kernel_set_name(set), i8, set);
        }
    }
    for (const auto & [label, path, set] : runs) {
        fer_model_params mp = fer_model_default_params();
        mp.kernel_set = set;
        fer_model * m = fer_model_load_from_file(path.c_str(), mp);
        if (!m) {
            std::fprintf(stderr, "bench-runtime: cannot load %s\n", path.c_str());
            return 2;
        }
        fer_context * c = fer_context_new(m);
        models.push_back(m);
        ctxs.push_back(c);
        if (set == FER_KERNELS_BEST) {
            std::printf("%s kernels: %s\n", label.c_str(), fer_model_kernels(m));
        }
        cs.push_back({set == FER_KERNELS_BEST ? label + " (selected kernels)" : label, [c](const uint8_t * face) {
                          fer_result r;
                          fer_classify(c, face, 48, &r);
                      }, {}});
    }
    for (auto & c : cs) {  // warm-up
        for (int i = 0; i < per_round; ++i) {
            c.run(&faces[static_cast<size_t>(i) * 2304]);
        }
    }
    for (int r = 0; r < rounds; ++r) {
        for (auto & c : cs) {
            const auto t0 = std::chrono::steady_clock::now();
            for (int i = 0; i < per_round; ++i) {
                c.run(&faces[static_cast<size_t>(i) * 2304]);
            }
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            c.ms.push_back(ms / per_round);
        }
    }
    const double torch_ms = median(cs[0].ms);
    std::printf("model %s: %.1f M MACs per face; \"of peak\": of one core's float FMA peak, %.1f GMAC/s (int8 peaks\n"
                "at 2x that with int16 multiply-adds, 4x with AVX-VNNI byte dot products)\n", pt.c_str(), macs / 1e6, peak);
    std::printf("files: %s %ld B, %s %ld B, %s %ld B\n", pt.c_str(), file_size(pt), f32.c_str(), file_size(f32),
                i8.c_str(), file_size(i8));
    std::printf("%-62s %9s %9s %8s %12s\n", "contender (one thread, batch 1)", "ms/face", "GMAC/s", "of peak",
                "vs libtorch");
    for (const auto & c : cs) {
        const double ms = median(c.ms);
        std::printf("%-62s %9.3f %9.1f %7.0f%% %11.2fx\n", c.name.c_str(), ms, macs / ms / 1e6,
                    100.0 * macs / ms / 1e6 / peak, torch_ms / ms);
    }
    for (auto * c : ctxs) {
        fer_context_free(c);
    }
    for (auto * m : models) {
        fer_model_free(m);
    }
    return 0;
}
