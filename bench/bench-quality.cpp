// bench-quality: cost per face of the default mode and the best mode side by
// side (one 48x48 crop, one thread): a single classification, flip TTA,
// ten-crop TTA, each with the ensemble's members when --ensemble is given.
// Interleaved round by round so machine noise hits every mode alike; prints
// ms/face (median of rounds) and the cost relative to the default.
// run-quality.sh adds each mode's PublicTest accuracy (fer eval).
//
//   bench-quality [--model models/fernet-int8.tflite] [--ensemble A.tflite,B.tflite]
//                 [--rounds 15] [--per-round 10]
#include "fer-pipeline.h"
#include "fer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<std::string> split_commas(const std::string & s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t comma = s.find(',', start);
        if (comma == std::string::npos) {
            comma = s.size();
        }
        if (comma > start) {
            out.push_back(s.substr(start, comma - start));
        }
        start = comma + 1;
    }
    return out;
}

struct mode {
    std::string name;
    int32_t n_members;
    int32_t tta;
    std::vector<double> ms;
};

}  // namespace

int main(int argc, char ** argv) {
    std::vector<std::string> files = {FER_SOURCE_DIR "/models/fernet-int8.tflite"};
    int rounds = 15, per_round = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--model") files[0] = v;
        else if (k == "--ensemble") for (const std::string & f : split_commas(v)) files.push_back(f);
        else if (k == "--rounds") rounds = std::max(1, std::atoi(v.c_str()));
        else if (k == "--per-round") per_round = std::max(1, std::atoi(v.c_str()));
        else {
            std::fprintf(stderr, "bench-quality: unknown option %s\n", k.c_str());
            return 1;
        }
    }
    if (files.size() > FER_ENSEMBLE_MAX) {
        std::fprintf(stderr, "bench-quality: at most %d models\n", FER_ENSEMBLE_MAX);
        return 1;
    }
    std::vector<fer_model *> models;
    std::vector<fer_context *> ctxs;
    for (const std::string & f : files) {
        fer_model * m = fer_model_load_from_file(f.c_str(), fer_model_default_params());
        fer_context * c = m ? fer_context_new(m) : nullptr;
        if (!c) {
            std::fprintf(stderr, "bench-quality: cannot load %s\n", f.c_str());
            return 2;
        }
        models.push_back(m);
        ctxs.push_back(c);
    }
    const int32_t n = static_cast<int32_t>(ctxs.size());
    std::vector<mode> modes = {{"default: single crop, 1 model", 1, FER_TTA_NONE, {}},
                               {"flip TTA, 1 model", 1, FER_TTA_FLIP, {}},
                               {"ten-crop TTA, 1 model (--quality best)", 1, FER_TTA_TEN_CROP, {}}};
    if (n > 1) {
        const std::string m = std::to_string(n) + " models";
        modes.push_back({"single crop, " + m, n, FER_TTA_NONE, {}});
        modes.push_back({"ten-crop TTA, " + m + " (--quality best)", n, FER_TTA_TEN_CROP, {}});
    }
    std::mt19937 rng(7);
    std::vector<uint8_t> faces(static_cast<size_t>(per_round) * FER_INPUT_SIZE * FER_INPUT_SIZE);
    for (auto & p : faces) {
        p = static_cast<uint8_t>(rng() & 0xff);
    }
    auto run = [&](const mode & md) {
        for (int i = 0; i < per_round; ++i) {
            fer_result r;
            fer_classify_ensemble(ctxs.data(), md.n_members, &faces[static_cast<size_t>(i) * FER_INPUT_SIZE * FER_INPUT_SIZE],
                                  FER_INPUT_SIZE, md.tta, &r);
        }
    };
    for (const mode & md : modes) {  // warm-up
        run(md);
    }
    for (int r = 0; r < rounds; ++r) {
        for (mode & md : modes) {
            const auto t0 = std::chrono::steady_clock::now();
            run(md);
            md.ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                            per_round);
        }
    }
    std::printf("models: %s", files[0].c_str());
    for (size_t i = 1; i < files.size(); ++i) {
        std::printf(", %s", files[i].c_str());
    }
    std::printf("\nkernels: %s\n", fer_model_kernels(models[0]));
    std::printf("%-52s %9s %10s\n", "mode (one thread, one face)", "ms/face", "x default");
    const double base = median(modes[0].ms);
    for (const mode & md : modes) {
        const double ms = median(md.ms);
        std::printf("%-52s %9.3f %9.2fx\n", md.name.c_str(), ms, ms / base);
    }
    for (fer_context * c : ctxs) {
        fer_context_free(c);
    }
    for (fer_model * m : models) {
        fer_model_free(m);
    }
    return 0;
}
