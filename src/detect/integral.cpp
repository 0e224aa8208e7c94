#include "integral.h"

#include <cstdlib>

namespace fer::detect {

void integral_sum_sqsum(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * sum, uint32_t * sqsum,
                        size_t stride) {
    for (int x = 0; x <= w; ++x) {
        sum[x] = 0;
        sqsum[x] = 0;
    }
    for (int y = 0; y < h; ++y) {
        const uint8_t * s = src + size_t(y) * src_stride;
        const uint32_t * prev = sum + size_t(y) * stride;
        const uint32_t * prevq = sqsum + size_t(y) * stride;
        uint32_t * cur = sum + size_t(y + 1) * stride;
        uint32_t * curq = sqsum + size_t(y + 1) * stride;
        uint32_t row = 0, rowq = 0;
        cur[0] = 0;
        curq[0] = 0;
        for (int x = 0; x < w; ++x) {
            const uint32_t v = s[x];
            row += v;
            rowq += v * v;
            cur[x + 1] = prev[x + 1] + row;
            curq[x + 1] = prevq[x + 1] + rowq;
        }
    }
}

// tilted(X,Y) = A(X-1, Y-1): the triangle with apex pixel (x,y) = (X-1,Y-1),
// opening upwards. With R(y,a) the prefix sum of row y up to column a
// (a clamped to 0..w), A(x,y) = D1(x,y) - D2(x,y) where
//   D1(x,y) = R(y, x+1) + D1(x+1, y-1)   (right edges of the triangle's rows)
//   D2(x,y) = R(y, x)   + D2(x-1, y-1)   (left edges)
// D1(x,y) for x >= w-1 is the sum of whole rows 0..y; D2(x,y) = 0 for x < 0.
void integral_tilted(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * tilted, size_t stride,
                     std::vector<uint32_t> & scratch) {
    // Index i = x + 1 for x in -1..w: w+2 entries per buffer.
    const size_t n = size_t(w) + 2;
    scratch.assign(5 * n, 0);
    uint32_t * d1_prev = scratch.data();
    uint32_t * d1_cur = d1_prev + n;
    uint32_t * d2_prev = d1_cur + n;
    uint32_t * d2_cur = d2_prev + n;
    uint32_t * r = d2_cur + n;  // r[a] = R(y, a), a in 0..w
    for (int x = 0; x <= w; ++x) {
        tilted[x] = 0;
    }
    for (int y = 0; y < h; ++y) {
        const uint8_t * s = src + size_t(y) * src_stride;
        r[0] = 0;
        for (int x = 0; x < w; ++x) {
            r[x + 1] = r[x] + s[x];
        }
        for (int x = -1; x <= w - 1; ++x) {
            const int a1 = x + 1 > w ? w : x + 1;
            const int a2 = x < 0 ? 0 : x;
            const int xr = x + 1 > w ? w : x + 1;  // D1(x+1, y-1); D1 is flat for x >= w-1
            d1_cur[size_t(x + 1)] = uint32_t(r[a1]) + d1_prev[size_t(xr + 1)];
            d2_cur[size_t(x + 1)] = x < 0 ? 0 : uint32_t(r[a2]) + d2_prev[size_t(x)];
        }
        d1_cur[size_t(w) + 1] = d1_cur[size_t(w)];
        uint32_t * out = tilted + size_t(y + 1) * stride;
        for (int X = 0; X <= w; ++X) {
            out[X] = d1_cur[size_t(X)] - d2_cur[size_t(X)];  // A(X-1, y)
        }
        uint32_t * t = d1_prev;
        d1_prev = d1_cur;
        d1_cur = t;
        t = d2_prev;
        d2_prev = d2_cur;
        d2_cur = t;
    }
}

void integral_tilted_reference(const uint8_t * src, int w, int h, size_t src_stride, uint32_t * tilted,
                               size_t stride) {
    for (int Y = 0; Y <= h; ++Y) {
        for (int X = 0; X <= w; ++X) {
            uint32_t acc = 0;
            for (int y = 0; y < Y; ++y) {
                for (int x = 0; x < w; ++x) {
                    if (std::abs(x - X + 1) <= Y - y - 1) {
                        acc += src[size_t(y) * src_stride + size_t(x)];
                    }
                }
            }
            tilted[size_t(Y) * stride + size_t(X)] = acc;
        }
    }
}

}  // namespace fer::detect
