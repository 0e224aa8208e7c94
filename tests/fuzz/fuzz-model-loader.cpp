// libFuzzer target for the model loader (src/model.cpp): any bytes must be
// rejected with a message or load into a model that then runs. Built by
// scripts/fuzz.sh (clang, -fsanitize=fuzzer,address,undefined); seeds in
// tests/fuzz/corpus/ (small valid float32 and int8 models).
#include "fer.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    fer_model_params p = fer_model_default_params();
    p.log_callback = [](int, const char * msg, void *) {
        // every rejection must say something
        if (!msg || !*msg) {
            __builtin_trap();
        }
    };
    fer_model * m = fer_model_load_from_buffer(data, size, p);
    if (!m) {
        return 0;
    }
    // Run what loaded, unless it is too big to run quickly.
    if (fer_model_arena_size(m) <= (8u << 20)) {
        fer_context * c = fer_context_new(m);
        if (c && std::strcmp(fer_model_task(m), "classifier") != 0) {
            // a detector (or any other graph): run it on a grey input of its own size
            int d[4] = {1, 1, 1, 1};
            const int rank = fer_model_input_dims(m, d);
            size_t n = 1;
            for (int k = 0; k < rank; ++k) {
                n *= static_cast<size_t>(d[k]);
            }
            static float input[1 << 20];
            if (n <= sizeof input / sizeof input[0]) {
                for (size_t i = 0; i < n; ++i) {
                    input[i] = static_cast<float>(i % 251);
                }
                if (fer_context_run(c, input, n) != FER_OK) {
                    __builtin_trap();
                }
                for (int i = 0; i < fer_model_n_outputs(m); ++i) {
                    if (!fer_context_output(c, i, nullptr)) {
                        __builtin_trap();
                    }
                }
            }
            fer_context_free(c);
        } else if (c) {
            unsigned char face[FER_INPUT_SIZE * FER_INPUT_SIZE];
            for (size_t i = 0; i < sizeof face; ++i) {
                face[i] = static_cast<unsigned char>(i * 7);
            }
            fer_result r;
            if (fer_classify(c, face, FER_INPUT_SIZE, &r) != FER_OK) {
                __builtin_trap();
            }
            int h = 0, w = 0;
            if (fer_model_has_cam(m, &h, &w)) {
                static float cam[1 << 16];
                if (static_cast<size_t>(h) * static_cast<size_t>(w) <= sizeof cam / sizeof cam[0]) {
                    fer_context_cam(c, r.top_class, cam, sizeof cam / sizeof cam[0]);
                }
            }
            fer_context_free(c);
        }
    }
    for (int k = 0; k < FER_N_CLASSES; ++k) {
        if (!fer_model_class_label(m, k)) {
            __builtin_trap();
        }
    }
    fer_model_free(m);
    return 0;
}
