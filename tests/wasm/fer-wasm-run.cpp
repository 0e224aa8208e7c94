// The runtime compiled with Emscripten (tests/CMakeLists.txt builds it when
// em++ is installed) and run under Node: classifies faces with a model and
// writes the probabilities, so tests/test-runtime.cpp (Wasm.*) can compare
// them with the native build's. -sNODERAWFS=1 gives it the real file system.
//
// Usage: node fer-wasm-run.js MODEL.tflite FACES.u8 OUT.f32
//   FACES.u8  n 48x48 grey faces, row-major bytes;  OUT.f32  n x 7 float32
#include "fer.h"

#include <cstdio>
#include <vector>

int main(int argc, char ** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: fer-wasm-run MODEL.tflite FACES.u8 OUT.f32\n");
        return 1;
    }
    fer_model * m = fer_model_load_from_file(argv[1], fer_model_default_params());
    if (!m) {
        return 2;
    }
    FILE * f = std::fopen(argv[2], "rb");
    if (!f) {
        std::fprintf(stderr, "cannot open %s\n", argv[2]);
        return 2;
    }
    std::vector<unsigned char> faces;
    unsigned char buf[4096];
    size_t got;
    while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
        faces.insert(faces.end(), buf, buf + got);
    }
    std::fclose(f);
    const size_t n = faces.size() / (FER_INPUT_SIZE * FER_INPUT_SIZE);
    fer_context * c = fer_context_new(m);
    std::vector<float> probs;
    for (size_t i = 0; i < n; ++i) {
        fer_result r;
        if (fer_classify(c, faces.data() + i * FER_INPUT_SIZE * FER_INPUT_SIZE, FER_INPUT_SIZE, &r) != FER_OK) {
            return 3;
        }
        probs.insert(probs.end(), r.probabilities, r.probabilities + FER_N_CLASSES);
    }
    FILE * o = std::fopen(argv[3], "wb");
    if (!o || std::fwrite(probs.data(), sizeof(float), probs.size(), o) != probs.size()) {
        return 3;
    }
    std::fclose(o);
    std::printf("wasm: %zu faces, kernels: %s\n", n, fer_model_kernels(m));
    fer_context_free(c);
    fer_model_free(m);
    return 0;
}
