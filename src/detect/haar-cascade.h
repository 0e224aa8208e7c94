// Haar cascade evaluation, following OpenCV 4's CascadeClassifier
// (detectMultiScaleNoGrouping) step by step so that the raw hits are the same:
//  - scales: factor = scale_factor^k while the rounded window fits the image;
//    kept when the window is within [min, max];
//  - each scale resizes the image to round(size/factor) (bilinear, resize.h)
//    and scans the cascade window at its original size over it, with a step
//    of 2 pixels when factor < 2 and 1 pixel otherwise; a window rejected by
//    the first stage also skips the next position in its row;
//  - each window is normalised by the standard deviation of its inner
//    (w-2)x(h-2) rectangle (windows with almost no contrast are rejected);
//  - stages sum stump/tree leaf values in double, features in float.
// Hits are mapped back as (round(x*factor), round(y*factor), round(win*factor)).
#ifndef FER_DETECT_HAAR_CASCADE_H
#define FER_DETECT_HAAR_CASCADE_H

#include "cascade.h"
#include "group.h"
#include "integral.h"
#include "resize.h"

#include <cstdint>
#include <vector>

namespace fer::detect {

// A cascade ready to run: the validated model plus flattened stumps.
struct haar_detector {
    cascade model;
    std::vector<float> stage_thresholds;  // file value - 1e-5f (OpenCV's THRESHOLD_EPS)
    struct stump {
        int32_t feature;
        float threshold, left, right;
    };
    std::vector<stump> stumps;  // filled when every tree is a single node
    std::vector<int32_t> stage_first_stump;
    // Trees: first tree of each stage, first node and first leaf of each tree.
    std::vector<int32_t> stage_first_tree, tree_first_node, tree_first_leaf;
};

void prepare(haar_detector & d);  // after the model is loaded and validated

struct scan_options {
    double scale_factor = 1.1;
    int min_w = 0, min_h = 0;  // smallest window
    int max_w = 0, max_h = 0;  // largest window (0: the image)
    // Which window evaluator (all give the same hits; the tests compare them):
    // batched 8 windows at a time, AVX2 when the CPU has it, else 128-bit
    // vectors; or the readable one-window-at-a-time reference loop.
    enum class path { automatic, reference, vector128 } evaluator = path::automatic;
};

// Per-call working memory (reused across calls when the caller keeps it).
struct scan_scratch {
    std::vector<uint8_t> resized;
    std::vector<uint32_t> sum, sqsum;  // sum holds the tilted integral after the plain one when needed
    std::vector<int32_t> offsets;      // per feature: 3 rects x 4 corners
    std::vector<float> weights;        // per feature: 3 weights
    std::vector<uint32_t> tilted_scratch;
    std::vector<uint32_t> row_tmp;     // split-layout permutation
    std::vector<float> vnf;            // per window of a row: 1/stddev
    std::vector<uint8_t> state;        // per window of a row: see haar-cascade.cpp
    resize_scratch rs;
};

// Raw hits (OpenCV's detectMultiScaleNoGrouping). The image must be valid
// and scale_factor > 1; checked by the caller.
void detect_raw(const haar_detector & d, const uint8_t * img, int w, int h, size_t stride, const scan_options & o,
                std::vector<rect> & hits, scan_scratch & s);

}  // namespace fer::detect

#endif  // FER_DETECT_HAAR_CASCADE_H
