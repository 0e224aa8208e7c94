// The int8 CONV_2D of the SIMD kernels, at any vector width: AVX2 and AVX-VNNI
// (conv-s8-x86.h, 8 int32 lanes) and WebAssembly SIMD128 (kernels-wasm.cpp,
// 4 lanes). Each kernel file includes it under its own ISA flags; everything
// here has internal linkage, so the copies never mix.
//
// The input is rewritten once per call into the context's scratch as 32-bit
// words (fer_conv2d_s8_scratch words), then tiles of PX neighbouring output
// pixels x NV vectors of output channels share each weight load.
//
// An `Isa` policy gives:
//   vec, lanes              the vector type and its int32 lanes;
//   k_per_word              input channels per 32-bit word (2 or 4);
//   fill_word(x, n, in_zp)  one word of n <= k_per_word input values;
//   pad_word(in_zp)         the word of a padding pixel (the zero point);
//   block_vecs              vectors of output channels per block (the block's
//                           weights stay in cache);
//   tile_px(nv)             pixels per tile for nv vectors (register budget);
//   splat(word), load(p)    a word in every lane, lanes from memory;
//   dot(acc, x, w)          acc + the products of x's and w's lanes, per lane;
//   requantize_store(acc, scale, lo, hi, zp, out, n)
//                           clamp(round_half_even(acc * scale), lo, hi) + zp
//                           as int8, the first n (<= lanes) lanes to out.
// Weights are packed [k_h][k_w][words][oc_pad][k_per_word] (4 bytes per word
// and output channel in every layout), so one vector load holds `lanes`
// channels; oc_pad is a multiple of 8.
#ifndef FER_CONV_S8_TILES_H
#define FER_CONV_S8_TILES_H

#include "kernels.h"

#include <cstring>

namespace fer_rt {
namespace {

// (x - zero point) of two input channels as two int16 in one word, for the
// int16-pair kernels (_mm256_madd_epi16, i32x4.dot_i16x8_s); a missing second
// channel is 0, as are its packed weights.
inline int32_t conv_s8_pair_word(const int8_t * x, int n, int zp) {
    const int32_t a = x[0] - zp, b = n > 1 ? x[1] - zp : 0;
    return static_cast<int32_t>((static_cast<uint32_t>(b) << 16) | (static_cast<uint32_t>(a) & 0xffffu));
}

// Row r, column c of the scratch hold input pixel (r - pad_top, c - pad_left);
// pixels outside the image hold the zero point, as TFLite pads. The inner loop
// then needs no bounds checks and no conversion.
// The int16-pair layout: with an even channel count a row's pixels inside the
// image are one run of int16 (x - zero point), in order (a word holds
// channel 2k in its low half, 2k + 1 in its high half: little-endian, as
// every target is), written by a loop the compiler vectorises. Padding words
// are 0 (the zero point minus itself).
typedef int16_t __attribute__((may_alias)) conv_s8_i16_alias;

inline void conv_s8_fill_pairs(const conv_params & p, int in_zp, const int8_t * in, int rows, int cols, int words,
                               int32_t * s) {
    const int c0 = p.pad_left > 0 ? p.pad_left : 0;
    const int c1 = p.pad_left + p.in_w < cols ? p.pad_left + p.in_w : cols;
    for (int r = 0; r < rows; ++r) {
        const int iy = r - p.pad_top;
        int32_t * row = s + static_cast<size_t>(r) * static_cast<size_t>(cols) * static_cast<size_t>(words);
        if (iy < 0 || iy >= p.in_h || c0 >= c1) {
            std::memset(row, 0, static_cast<size_t>(cols) * static_cast<size_t>(words) * sizeof(int32_t));
            continue;
        }
        std::memset(row, 0, static_cast<size_t>(c0) * static_cast<size_t>(words) * sizeof(int32_t));
        std::memset(row + static_cast<size_t>(c1) * static_cast<size_t>(words), 0,
                    static_cast<size_t>(cols - c1) * static_cast<size_t>(words) * sizeof(int32_t));
        const int8_t * x = in + (static_cast<size_t>(iy) * p.in_w + static_cast<size_t>(c0 - p.pad_left)) * p.in_c;
        conv_s8_i16_alias * d = reinterpret_cast<conv_s8_i16_alias *>(row + static_cast<size_t>(c0) * words);
        if (p.in_c % 2 == 0) {
            const size_t n = static_cast<size_t>(c1 - c0) * static_cast<size_t>(p.in_c);
            for (size_t j = 0; j < n; ++j) {
                d[j] = static_cast<int16_t>(x[j] - in_zp);
            }
            continue;
        }
        // An odd channel count (an RGB stem: 3): each pixel's values, then the
        // 0 that completes its last word.
        for (int c = c0; c < c1; ++c, x += p.in_c, d += 2 * words) {
            for (int k = 0; k < p.in_c; ++k) {
                d[k] = static_cast<int16_t>(x[k] - in_zp);
            }
            d[p.in_c] = 0;
        }
    }
}

template <class Isa>
void conv_s8_fill(const conv_params & p, int in_zp, const int8_t * in, int rows, int cols, int words, int32_t * s) {
    if constexpr (Isa::k_per_word == 2) {  // the int16-pair policies (conv_s8_pair_word, pad word 0)
        conv_s8_fill_pairs(p, in_zp, in, rows, cols, words, s);
        return;
    }
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

// PX neighbouring output pixels of row oy from column ox, NV x lanes output
// channels from oc0: each weight vector loaded once serves PX pixels.
template <class Isa, int NV, int PX>
void conv_s8_tile(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0,
                  const int32_t * s, const int32_t * w, const int32_t * bias, const float * scale, int oy, int ox,
                  int8_t * out_row) {
    using vec = typename Isa::vec;
    constexpr int L = Isa::lanes;
    vec acc[PX][NV];
    for (int px = 0; px < PX; ++px) {
        for (int v = 0; v < NV; ++v) {
            acc[px][v] = Isa::load(bias + oc0 + L * v);
        }
    }
    const size_t px_step = static_cast<size_t>(p.stride_w) * static_cast<size_t>(words);
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int32_t * sp = s + (static_cast<size_t>(oy * p.stride_h + ky * p.dil_h) * static_cast<size_t>(cols) +
                                      static_cast<size_t>(ox * p.stride_w + kx * p.dil_w)) * static_cast<size_t>(words);
            const int32_t * wk = w + (static_cast<size_t>(ky) * p.k_w + kx) * words * oc_pad + oc0;
            const int32_t * wr = wk;
            for (const int32_t * sk = sp; sk != sp + words; ++sk, wr += oc_pad) {
                vec xv[PX];
                for (int px = 0; px < PX; ++px) {
                    xv[px] = Isa::splat(sk[px * px_step]);
                }
                for (int v = 0; v < NV; ++v) {
                    const vec wv = Isa::load(wr + L * v);
                    for (int px = 0; px < PX; ++px) {
                        acc[px][v] = Isa::dot(acc[px][v], xv[px], wv);
                    }
                }
            }
        }
    }
    const float lo = static_cast<float>(q.act_min - q.out_zp), hi = static_cast<float>(q.act_max - q.out_zp);
    for (int px = 0; px < PX; ++px) {
        int8_t * o = out_row + static_cast<size_t>(ox + px) * p.out_c + oc0;
        for (int v = 0; v < NV; ++v) {
            const int n = p.out_c - (oc0 + L * v) < L ? p.out_c - (oc0 + L * v) : L;
            Isa::requantize_store(acc[px][v], scale + oc0 + L * v, lo, hi, q.out_zp, o + L * v, n);
        }
    }
}

template <class Isa, int NV>
void conv_s8_row(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0,
                 const int32_t * s, const int32_t * w, const int32_t * bias, const float * scale, int oy,
                 int8_t * out_row) {
    constexpr int k_px = Isa::tile_px(NV);
    int ox = 0;
    for (; ox + k_px <= p.out_w; ox += k_px) {
        conv_s8_tile<Isa, NV, k_px>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
    for (; ox < p.out_w; ++ox) {
        conv_s8_tile<Isa, NV, 1>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
}

// A block's last, narrower part: nv is a multiple of 8 / lanes (oc_pad is a
// multiple of 8), so only those widths are instantiated.
template <class Isa, int NV>
void conv_s8_row_n(int nv, const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0,
                   const int32_t * s, const int32_t * w, const int32_t * bias, const float * scale, int oy,
                   int8_t * out_row) {
    constexpr int step = 8 / Isa::lanes;
    if constexpr (NV > step) {
        if (nv < NV) {
            conv_s8_row_n<Isa, NV - step>(nv, p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, out_row);
            return;
        }
    }
    conv_s8_row<Isa, NV>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, out_row);
}

template <class Isa>
void conv_s8(const conv_params & p, const quant_params & q, const int8_t * in, const int32_t * w_packed,
             const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    static_assert(8 % Isa::lanes == 0 && Isa::block_vecs % (8 / Isa::lanes) == 0, "blocks of whole 8-channel groups");
    constexpr int block = Isa::block_vecs * Isa::lanes;
    const int oc_pad = conv_padded_channels(p.out_c);
    const int words = (p.in_c + Isa::k_per_word - 1) / Isa::k_per_word;
    int rows = 0, cols = 0;
    fer_conv2d_s8_window(p, &rows, &cols);
    for (int b = 0; b < p.n; ++b) {
        conv_s8_fill<Isa>(p, q.in_zp, in + static_cast<size_t>(b) * p.in_h * p.in_w * p.in_c, rows, cols, words,
                          scratch);
        for (int oy = 0; oy < p.out_h; ++oy) {
            int8_t * out_row = out + (static_cast<size_t>(b) * p.out_h + oy) * p.out_w * p.out_c;
            for (int oc0 = 0; oc0 < oc_pad; oc0 += block) {
                const int nv = (oc_pad - oc0 >= block ? block : oc_pad - oc0) / Isa::lanes;
                conv_s8_row_n<Isa, Isa::block_vecs>(nv, p, q, words, cols, oc_pad, oc0, scratch, w_packed,
                                                    bias_padded, scale_padded, oy, out_row);
            }
        }
    }
}

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_S8_TILES_H
