// libFuzzer target for the cascade readers (XML and FERHAAR1 binary): any
// input must be rejected with a message or load into a detector that runs.
// Build with Clang: cmake -DFER_BUILD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ...,
// then: fuzz-cascade -max_total_time=60 CORPUS_DIR /usr/share/opencv4/haarcascades
#include "fer-detect.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    char err[256];
    fer_detect_status st;
    fer_detector * d = fer_detector_load_from_memory(data, size, &st, err, sizeof err);
    if (!d) {
        if (st == FER_DETECT_OK || std::strlen(err) == 0) {
            __builtin_trap();  // a failure must say why
        }
        return 0;
    }
    // A small image with some texture: every stage path gets exercised.
    static uint8_t img[72 * 56];
    for (size_t i = 0; i < sizeof img; ++i) {
        img[i] = uint8_t((i * 37u) ^ (i >> 3));
    }
    fer_detect_params p = fer_detect_default_params();
    p.min_neighbors = 0;
    fer_box boxes[16];
    int32_t n = 0;
    if (fer_detector_detect(d, img, 72, 56, 72, &p, boxes, 16, &n) != FER_DETECT_OK) {
        __builtin_trap();
    }
    size_t bin_size = 0;
    fer_detector_save_binary(d, nullptr, &bin_size);
    fer_detector_free(d);
    return 0;
}
