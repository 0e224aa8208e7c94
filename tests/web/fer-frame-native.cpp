// The native twin of the web app's analysis (web/wasm/fer-web.cpp): the same
// runtime calls on the same RGBA frame, natively. tests/web compares the
// page's boxes and probabilities with its output; bench/run-web.sh times it.
//
//   fer-frame-native MODEL CASCADE FRAME.rgba WIDTH HEIGHT MIN_FACE MAX_FACES [REPS [reference] [tta]]
//
// "reference" loads the model with the readable reference kernels only (what
// the WebAssembly builds run) instead of the AVX2 ones this CPU may have;
// "tta" classifies each face and its mirror image (the page's photo mode).
//
// Prints one JSON object: {"faces": [{box, probabilities, top, confidence}],
// "ms": [per-repetition milliseconds]}. Exit codes: 0 ok, 1 usage, 2 bad input.
#include "fer-detect.h"
#include "fer-pipeline.h"
#include "fer.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

bool read_file(const char * path, std::vector<unsigned char> & out) {
    FILE * f = std::fopen(path, "rb");
    if (!f) {
        return false;
    }
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
        out.insert(out.end(), buf, buf + got);
    }
    std::fclose(f);
    return true;
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 8 || argc > 11) {
        std::fprintf(stderr, "usage: fer-frame-native MODEL CASCADE FRAME.rgba WIDTH HEIGHT MIN_FACE MAX_FACES "
                             "[REPS [reference] [tta]]\n");
        return 1;
    }
    const int32_t width = std::atoi(argv[4]), height = std::atoi(argv[5]);
    const int32_t min_face = std::atoi(argv[6]), max_faces = std::atoi(argv[7]);
    const int reps = argc >= 9 ? std::atoi(argv[8]) : 1;
    fer_model_params mp = fer_model_default_params();
    bool tta = false;
    for (int i = 9; i < argc; ++i) {
        if (std::strcmp(argv[i], "reference") == 0) {
            mp.reference_kernels = 1;
        } else if (std::strcmp(argv[i], "tta") == 0) {
            tta = true;
        } else {
            std::fprintf(stderr, "error: unknown flag %s (reference, tta)\n", argv[i]);
            return 1;
        }
    }
    std::vector<unsigned char> rgba;
    if (width <= 0 || height <= 0 || reps < 1 || !read_file(argv[3], rgba) ||
        rgba.size() != size_t(width) * size_t(height) * 4) {
        std::fprintf(stderr, "error: %s is not a %dx%d RGBA frame\n", argv[3], width, height);
        return 2;
    }
    fer_model * model = fer_model_load_from_file(argv[1], mp);
    char err[512];
    fer_detector * det = fer_detector_load_from_file(argv[2], nullptr, err, sizeof err);
    if (!model || !det) {
        std::fprintf(stderr, "error: %s\n", model ? err : "model did not load");
        return 2;
    }
    fer_context * ctx = fer_context_new(model);
    fer_pipeline_params p = fer_pipeline_default_params();
    p.detect.min_size = min_face;
    p.max_faces = max_faces;
    p.tta = tta ? FER_TTA_FLIP : FER_TTA_NONE;
    fer_face faces[32];
    int32_t n = 0;
    std::vector<double> ms;
    // Timed like the page's worker: fer_analyze_image on the RGBA frame.
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        if (fer_analyze_image(ctx, det, rgba.data(), width, height, width * 4, FER_PIXEL_RGBA, &p, faces, 32, &n,
                              nullptr) != FER_OK) {
            std::fprintf(stderr, "error: fer_analyze_image failed\n");
            return 2;
        }
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("{\"kernels\": \"%s\", \"faces\": [", fer_model_kernels(model));
    for (int32_t i = 0; i < n && i < 32; ++i) {
        const fer_face & f = faces[i];
        std::printf("%s{\"box\": {\"x\": %d, \"y\": %d, \"width\": %d, \"height\": %d}, \"top\": %d, "
                    "\"confidence\": %.9g, \"probabilities\": [",
                    i ? ", " : "", f.box.x, f.box.y, f.box.width, f.box.height, f.result.top_class,
                    double(f.result.confidence));
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            std::printf("%s%.9g", c ? ", " : "", double(f.result.probabilities[c]));
        }
        std::printf("]}");
    }
    std::printf("], \"ms\": [");
    for (size_t i = 0; i < ms.size(); ++i) {
        std::printf("%s%.4f", i ? ", " : "", ms[i]);
    }
    std::printf("]}\n");
    fer_context_free(ctx);
    fer_detector_free(det);
    fer_model_free(model);
    return 0;
}
