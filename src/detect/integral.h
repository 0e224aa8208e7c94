// Integral images as OpenCV's cv::integral computes them for the Haar
// evaluator (CV_32S sums): (w+1) x (h+1) tables with a zero first row and
// column, stored with a caller-chosen row stride (in elements, >= w+1).
// Arithmetic is modulo 2^32: a window's sum, taken as a difference of four
// corners, is exact as long as it fits in 32 bits, whatever the image size.
#ifndef FER_DETECT_INTEGRAL_H
#define FER_DETECT_INTEGRAL_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fer::detect {

// sum(X,Y) = sum of src(x,y) for x<X, y<Y; sqsum the same of src(x,y)^2.
void integral_sum_sqsum(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * sum, uint32_t * sqsum,
                        size_t stride);

// Rotated (45 degree) integral: tilted(X,Y) = sum of src(x,y) for y<Y,
// |x-X+1| <= Y-y-1 (OpenCV's definition). scratch is resized as needed.
void integral_tilted(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * tilted, size_t stride,
                     std::vector<uint32_t> & scratch);

// Readable reference of the tilted integral (O(w*h*h)), for the tests.
void integral_tilted_reference(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * tilted,
                               size_t stride);

}  // namespace fer::detect

#endif  // FER_DETECT_INTEGRAL_H
