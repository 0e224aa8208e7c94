// Bilinear downscaling of an 8-bit grey image, bit-exact with OpenCV 4's
// cv::resize(..., INTER_LINEAR_EXACT) for CV_8UC1, which is what
// CascadeClassifier uses to build its image pyramid. Fixed point with 8
// fractional bits: per output column/row, c1 = round((s*(i+0.5)-0.5 - floor)*256)
// (double arithmetic, ties to even), c0 = 256 - c1; the horizontal pass keeps
// c0*p0 + c1*p1 (16 bits), the vertical pass rounds (c0*h0 + c1*h1 + 2^15) >> 16.
// Samples left/above the image take the first pixel/row, right/below the last.
// An exact 2x reduction is therefore (a+b+c+d+2)>>2, OpenCV's INTER_AREA shortcut.
#ifndef FER_DETECT_RESIZE_H
#define FER_DETECT_RESIZE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fer::detect {

struct resize_scratch {
    std::vector<int32_t> xofs;
    std::vector<uint16_t> xcoef;  // c0, c1 per output column
    std::vector<uint16_t> rows;   // two horizontally resized rows
};

void resize_linear_u8(const uint8_t * src, int sw, int sh, size_t src_stride, uint8_t * dst, int dw, int dh,
                      size_t dst_stride, resize_scratch & scratch);

}  // namespace fer::detect

#endif  // FER_DETECT_RESIZE_H
