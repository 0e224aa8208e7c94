#include "resize.h"

#include <cmath>
#include <cstring>

namespace fer::detect {

namespace {

// One axis of OpenCV's interpolationLinear::getCoeffs. Positions before
// first_inner take sample 0; from last_inner on, sample n-1 (weight 1).
struct axis_coeffs {
    int ofs;
    uint16_t c0, c1;
};

void axis(double inv_scale, int n_src, int n_dst, std::vector<axis_coeffs> & out, int & first_inner,
          int & last_inner) {
    const double scale = 1. / inv_scale;
    out.resize(size_t(n_dst));
    first_inner = 0;
    last_inner = n_dst;
    for (int i = 0; i < n_dst; ++i) {
        const double f = scale * (double(i) + 0.5) - 0.5;
        const int fl = int(std::floor(f));
        axis_coeffs & a = out[size_t(i)];
        a.ofs = 0;
        a.c0 = 256;
        a.c1 = 0;
        if (fl >= 0 && n_src > 1) {
            if (fl < n_src - 1) {
                const double frac = f - double(fl);
                const long c1 = std::lrint(frac * 256.0);  // ties to even, as cvRound(softdouble)
                a.ofs = fl;
                a.c1 = uint16_t(c1);
                a.c0 = uint16_t(256 - c1);
            } else {
                a.ofs = n_src - 1;
                if (i < last_inner) {
                    last_inner = i;
                }
            }
        } else if (first_inner < i + 1) {
            first_inner = i + 1;
        }
    }
}

void hline(const uint8_t * s, int sw, int dw, const std::vector<axis_coeffs> & xa, int x_first, int x_last,
           uint16_t * out) {
    int x = 0;
    for (; x < x_first && x < dw; ++x) {
        out[x] = uint16_t(s[0] << 8);
    }
    for (; x < x_last; ++x) {
        const axis_coeffs & a = xa[size_t(x)];
        out[x] = uint16_t(a.c0 * s[a.ofs] + a.c1 * s[a.ofs + 1]);
    }
    for (; x < dw; ++x) {
        out[x] = uint16_t(s[sw - 1] << 8);
    }
}

}  // namespace

void resize_linear_u8(const uint8_t * src, int sw, int sh, size_t src_stride, uint8_t * dst, int dw, int dh,
                      size_t dst_stride, resize_scratch & scratch) {
    if (sw == dw && sh == dh) {
        for (int y = 0; y < sh; ++y) {
            std::memcpy(dst + size_t(y) * dst_stride, src + size_t(y) * src_stride, size_t(sw));
        }
        return;
    }
    std::vector<axis_coeffs> xa, ya;
    int x_first, x_last, y_first, y_last;
    axis(double(dw) / sw, sw, dw, xa, x_first, x_last);
    axis(double(dh) / sh, sh, dh, ya, y_first, y_last);
    if (x_last < x_first) {
        x_last = x_first;
    }

    scratch.rows.resize(size_t(dw) * 2);
    uint16_t * rows[2] = {scratch.rows.data(), scratch.rows.data() + dw};
    int row_y[2] = {-1, -1};
    for (int dy = 0; dy < dh; ++dy) {
        uint8_t * d = dst + size_t(dy) * dst_stride;
        if (dy < y_first || dy >= y_last) {  // above / below: the first / last row, resized horizontally
            const int sy = dy < y_first ? 0 : sh - 1;
            if (row_y[0] != sy) {
                hline(src + size_t(sy) * src_stride, sw, dw, xa, x_first, x_last, rows[0]);
                row_y[0] = sy;
            }
            for (int x = 0; x < dw; ++x) {
                d[x] = uint8_t((rows[0][x] + 128) >> 8);
            }
            continue;
        }
        const axis_coeffs & a = ya[size_t(dy)];
        const int want0 = a.ofs, want1 = a.ofs + 1;
        if (row_y[0] != want0 && row_y[1] == want0) {
            uint16_t * t = rows[0];
            rows[0] = rows[1];
            rows[1] = t;
            row_y[0] = want0;
            row_y[1] = -1;
        }
        if (row_y[0] != want0) {
            hline(src + size_t(want0) * src_stride, sw, dw, xa, x_first, x_last, rows[0]);
            row_y[0] = want0;
        }
        if (row_y[1] != want1) {
            hline(src + size_t(want1) * src_stride, sw, dw, xa, x_first, x_last, rows[1]);
            row_y[1] = want1;
        }
        const uint32_t c0 = a.c0, c1 = a.c1;
        const uint16_t * h0 = rows[0];
        const uint16_t * h1 = rows[1];
        for (int x = 0; x < dw; ++x) {
            d[x] = uint8_t((c0 * h0[x] + c1 * h1[x] + 32768u) >> 16);
        }
    }
}

}  // namespace fer::detect
