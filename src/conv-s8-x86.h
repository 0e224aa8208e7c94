// The int8 CONV_2D of the x86 kernels, shared by kernels-avx2.cpp (int16
// pairs, _mm256_madd_epi16) and kernels-avxvnni.cpp (unsigned byte quads,
// _mm256_dpbusd_avx_epi32). Each includes it under its own ISA flags;
// everything here has internal linkage, so the two copies never mix.
//
// An `Isa` policy gives: k_per_word (input channels per 32-bit word: 2 or 4),
// fill_word(x, n, in_zp) (one word of n <= k_per_word input values) and
// pad_word(in_zp) (the word of a padding pixel, i.e. the zero point), and
// dot(acc, x, w) (acc + the products of x's and w's lanes, per int32 lane).
// Weights are packed [k_h][k_w][words][oc_pad][k_per_word] (4 bytes per word
// and output channel in both layouts), so one 256-bit load holds 8 channels.
#ifndef FER_CONV_S8_X86_H
#define FER_CONV_S8_X86_H

#include "kernels.h"

#include <immintrin.h>

namespace fer_rt {
namespace {

// The input of one batch item rewritten once as words over the whole window
// the outputs read: row r, column c hold input pixel (r - pad_top, c - pad_left),
// pixels outside the image hold the zero point, as TFLite pads. The inner loop
// then needs no bounds checks and no conversion.
template <class Isa>
void conv_s8_fill(const conv_params & p, int in_zp, const int8_t * in, int rows, int cols, int words, int32_t * s) {
    const int32_t pad = Isa::pad_word(in_zp);
    for (int r = 0; r < rows; ++r) {
        const int iy = r - p.pad_top;
        int32_t * row = s + static_cast<size_t>(r) * static_cast<size_t>(cols) * static_cast<size_t>(words);
        for (int c = 0; c < cols; ++c) {
            const int ix = c - p.pad_left;
            int32_t * d = row + static_cast<size_t>(c) * static_cast<size_t>(words);
            if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) {
                for (int k = 0; k < words; ++k) {
                    d[k] = pad;
                }
                continue;
            }
            const int8_t * x = in + (static_cast<size_t>(iy) * p.in_w + ix) * p.in_c;
            for (int k = 0; k < words; ++k) {
                const int first = k * Isa::k_per_word;
                const int n = p.in_c - first < Isa::k_per_word ? p.in_c - first : Isa::k_per_word;
                d[k] = Isa::fill_word(x + first, n, in_zp);
            }
        }
    }
}

// PX neighbouring output pixels of row oy from column ox, NV x 8 output
// channels from oc0: each weight vector loaded once serves PX pixels.
template <class Isa, int NV, int PX>
void conv_s8_tile(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0,
                  const int32_t * s, const int32_t * w, const int32_t * bias, const float * scale, int oy, int ox,
                  int8_t * out_row) {
    __m256i acc[PX][NV];
    for (int px = 0; px < PX; ++px) {
        for (int v = 0; v < NV; ++v) {
            acc[px][v] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + oc0 + 8 * v));
        }
    }
    const size_t px_step = static_cast<size_t>(p.stride_w) * static_cast<size_t>(words);
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int32_t * sp = s + (static_cast<size_t>(oy * p.stride_h + ky * p.dil_h) * static_cast<size_t>(cols) +
                                      static_cast<size_t>(ox * p.stride_w + kx * p.dil_w)) * static_cast<size_t>(words);
            const int32_t * wk = w + (static_cast<size_t>(ky) * p.k_w + kx) * words * oc_pad + oc0;
            for (int k = 0; k < words; ++k) {
                __m256i xv[PX];
                for (int px = 0; px < PX; ++px) {
                    xv[px] = _mm256_set1_epi32(sp[px * px_step + static_cast<size_t>(k)]);
                }
                const int32_t * wr = wk + static_cast<size_t>(k) * oc_pad;
                for (int v = 0; v < NV; ++v) {
                    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wr + 8 * v));
                    for (int px = 0; px < PX; ++px) {
                        acc[px][v] = Isa::dot(acc[px][v], xv[px], wv);
                    }
                }
            }
        }
    }
    const __m256 lo = _mm256_set1_ps(static_cast<float>(q.act_min - q.out_zp));
    const __m256 hi = _mm256_set1_ps(static_cast<float>(q.act_max - q.out_zp));
    const __m256i zp = _mm256_set1_epi32(q.out_zp);
    for (int px = 0; px < PX; ++px) {
        int8_t * o = out_row + static_cast<size_t>(ox + px) * p.out_c + oc0;
        for (int v = 0; v < NV; ++v) {
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[px][v]), _mm256_loadu_ps(scale + oc0 + 8 * v));
            f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
            const __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(f), zp);  // round half to even
            alignas(32) int32_t lanes[8];
            _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), r);
            const int n = p.out_c - (oc0 + 8 * v) < 8 ? p.out_c - (oc0 + 8 * v) : 8;
            for (int i = 0; i < n; ++i) {
                o[8 * v + i] = static_cast<int8_t>(lanes[i]);
            }
        }
    }
}

template <class Isa, int NV>
void conv_s8_row(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0,
                 const int32_t * s, const int32_t * w, const int32_t * bias, const float * scale, int oy,
                 int8_t * out_row) {
    constexpr int k_px = NV >= 4 ? 3 : 4;  // accumulators + one weight + PX broadcasts fill the 16 registers
    int ox = 0;
    for (; ox + k_px <= p.out_w; ox += k_px) {
        conv_s8_tile<Isa, NV, k_px>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
    for (; ox < p.out_w; ++ox) {
        conv_s8_tile<Isa, NV, 1>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
}

template <class Isa>
void conv_s8(const conv_params & p, const quant_params & q, const int8_t * in, const int32_t * w_packed,
             const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    const int oc_pad = conv_padded_channels(p.out_c);
    const int words = (p.in_c + Isa::k_per_word - 1) / Isa::k_per_word;
    int rows = 0, cols = 0;
    fer_conv2d_s8_x86_window(p, &rows, &cols);
    for (int b = 0; b < p.n; ++b) {
        conv_s8_fill<Isa>(p, q.in_zp, in + static_cast<size_t>(b) * p.in_h * p.in_w * p.in_c, rows, cols, words,
                          scratch);
        for (int oy = 0; oy < p.out_h; ++oy) {
            int8_t * out_row = out + (static_cast<size_t>(b) * p.out_h + oy) * p.out_w * p.out_c;
            for (int oc0 = 0; oc0 < oc_pad; oc0 += 32) {
                const int32_t * w = w_packed;
                switch ((oc_pad - oc0) >= 32 ? 4 : (oc_pad - oc0) / 8) {
                case 4: conv_s8_row<Isa, 4>(p, q, words, cols, oc_pad, oc0, scratch, w, bias_padded, scale_padded, oy, out_row); break;
                case 3: conv_s8_row<Isa, 3>(p, q, words, cols, oc_pad, oc0, scratch, w, bias_padded, scale_padded, oy, out_row); break;
                case 2: conv_s8_row<Isa, 2>(p, q, words, cols, oc_pad, oc0, scratch, w, bias_padded, scale_padded, oy, out_row); break;
                default: conv_s8_row<Isa, 1>(p, q, words, cols, oc_pad, oc0, scratch, w, bias_padded, scale_padded, oy, out_row); break;
                }
            }
        }
    }
}

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_S8_X86_H
