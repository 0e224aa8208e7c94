// The int8 3x3 stride-1 CONV_2D as Winograd F(2x2, 3x3) (Lavin and Gray,
// "Fast Algorithms for Convolutional Neural Networks", CVPR 2016), for the
// int16-pair policies of conv-s8-tiles.h (AVX2, WebAssembly SIMD128): 16
// multiply-accumulates per 2x2 output tile and input channel instead of 36.
//
// Exact, so bit-identical to fer_conv2d_s8__ref: every value is an integer.
// With G scaled by 2 (G' = [2 0 0; 1 1 1; 1 -1 1; 0 0 2]) the transformed
// weights U = G' g G'^T are integers of at most 9 x 128 in magnitude, the
// transformed inputs V = B^T d B (d = x - zero point, at most 255) at most
// 4 x 255: both int16, so _mm256_madd_epi16 / i32x4.dot_i16x8_s multiply
// them exactly. The output transform A^T M A then gives 4 x the direct sum in
// int32; sums wrap modulo 2^32 but the true value 4 x sum fits in int32 for
// in_c <= fer_conv2d_s8_winograd_max_in_c, so the wrapped arithmetic lands on
// it exactly, and an arithmetic shift by 2 gives the sum the reference
// requantises.
//
// Layout per call (fer_conv2d_s8_winograd_scratch words of scratch):
//   window  the input as (x - zp) int16 pairs over an even-sized window
//           (conv_s8_fill_pairs: padding 0), so each tile's 4x4 patch is in it;
//   v       the transformed inputs of one band of tile rows, [16][tiles][words];
//   m       the products of one block of tiles, [tile][16][block channels].
// Weights are packed once at load (fer_conv2d_pack_s8_winograd):
// [16][words][oc_pad][2] int16, 4 bytes per word and output channel as the
// direct kernel's, so the Isa policy's splat / load / dot serve unchanged.
// Besides conv-s8-tiles.h's policy this needs add32, sub32 and quarter (the
// arithmetic shift right by 2 of exact multiples of 4).
#ifndef FER_CONV_S8_WINOGRAD_H
#define FER_CONV_S8_WINOGRAD_H

#include "conv-s8-tiles.h"
#include "kernels.h"

// Loops kept rolled: unrolled copies buy nothing measurable here and cost the
// web app's download (the 16 transform elements unrolled tripled the
// SIMD128 kernel's code).
#if defined(__clang__)
#define FER_WINO_ROLLED _Pragma("clang loop unroll(disable)")
#elif defined(__GNUC__)
#define FER_WINO_ROLLED _Pragma("GCC unroll 1")
#else
#define FER_WINO_ROLLED
#endif

namespace fer_rt {
namespace {

// B^T d B of the tiles [t0, t1) of one image: the 4x4 patches of window rows
// and columns 2ty.., 2tx.. (int16, `words` pairs a pixel), each element e of
// the transform to v[e][t - t0][:]. Two passes over chunks of channels, each
// a plain loop over channels with unit stride (the patch's rows combined into
// a local buffer, then its columns), which the compiler vectorises under each
// kernel file's ISA flags (one loop with the 16 values per channel in a small
// array stays scalar: measured, 2x slower for the whole layer).
inline void wino_input(const int16_t * __restrict window, int cols, int words, int tiles_w, int t0, int t1,
                       int16_t * __restrict v) {
    constexpr size_t chunk = 64;
    const size_t ch = static_cast<size_t>(2 * words);  // int16 values a pixel
    const size_t plane = static_cast<size_t>(t1 - t0) * ch;
    const size_t row = static_cast<size_t>(cols) * ch;
    alignas(32) int16_t s[16][chunk];  // B^T d: s[4 r + c], the patch's rows combined, column c
    for (int t = t0; t < t1; ++t) {
        const int ty = t / tiles_w, tx = t % tiles_w;
        const int16_t * __restrict d = window + static_cast<size_t>(2 * ty) * row + static_cast<size_t>(2 * tx) * ch;
        int16_t * __restrict o = v + static_cast<size_t>(t - t0) * ch;
        for (size_t k0 = 0; k0 < ch; k0 += chunk) {
            const size_t n = ch - k0 < chunk ? ch - k0 : chunk;
            FER_WINO_ROLLED
            for (int c = 0; c < 4; ++c) {
                const int16_t * __restrict d0 = d + c * ch + k0;
                const int16_t *d1 = d0 + row, *d2 = d0 + 2 * row, *d3 = d0 + 3 * row;
                for (size_t k = 0; k < n; ++k) {
                    s[c][k] = static_cast<int16_t>(d0[k] - d2[k]);
                    s[4 + c][k] = static_cast<int16_t>(d1[k] + d2[k]);
                    s[8 + c][k] = static_cast<int16_t>(d2[k] - d1[k]);
                    s[12 + c][k] = static_cast<int16_t>(d1[k] - d3[k]);
                }
            }
            FER_WINO_ROLLED
            for (int r = 0; r < 4; ++r) {  // (B^T d) B: the columns combined
                const int16_t *a = s[4 * r], *b = s[4 * r + 1], *c = s[4 * r + 2], *e = s[4 * r + 3];
                int16_t * __restrict o0 = o + static_cast<size_t>(4 * r) * plane + k0;
                int16_t * __restrict o1 = o0 + plane;
                int16_t * __restrict o2 = o1 + plane;
                int16_t * __restrict o3 = o2 + plane;
                for (size_t k = 0; k < n; ++k) {
                    o0[k] = static_cast<int16_t>(a[k] - c[k]);
                    o1[k] = static_cast<int16_t>(b[k] + c[k]);
                    o2[k] = static_cast<int16_t>(c[k] - b[k]);
                    o3[k] = static_cast<int16_t>(b[k] - e[k]);
                }
            }
        }
    }
}

// PX tiles from tile t (of the band) x NV vectors of output channels from
// oc0, element e of the transform: the products summed over the input words
// into m[tile][e][lane] (block channels a row).
template <class Isa, int NV, int PX>
void wino_tiles(int words, int n_band, int oc_pad, int oc0, const int32_t * v, const int32_t * u, int e, int t,
                int block, int32_t * m) {
    using vec = typename Isa::vec;
    constexpr int L = Isa::lanes;
    vec acc[PX][NV];
    for (int px = 0; px < PX; ++px) {
        for (int j = 0; j < NV; ++j) {
            acc[px][j] = Isa::splat(0);
        }
    }
    const int32_t * x = v + (static_cast<size_t>(e) * n_band + static_cast<size_t>(t)) * static_cast<size_t>(words);
    const int32_t * w = u + static_cast<size_t>(e) * static_cast<size_t>(words) * oc_pad + oc0;
    for (int k = 0; k < words; ++k, w += oc_pad) {
        vec xv[PX];
        for (int px = 0; px < PX; ++px) {
            xv[px] = Isa::splat(x[px * words + k]);
        }
        for (int j = 0; j < NV; ++j) {
            const vec wv = Isa::load(w + L * j);
            for (int px = 0; px < PX; ++px) {
                acc[px][j] = Isa::dot(acc[px][j], xv[px], wv);
            }
        }
    }
    for (int px = 0; px < PX; ++px) {
        int32_t * r = m + (static_cast<size_t>(px) * 16 + e) * block;
        for (int j = 0; j < NV; ++j) {
            Isa::store(r + L * j, acc[px][j]);
        }
    }
}

// A^T M A of n tiles' products (m, as wino_tiles left them), divided by 4,
// plus the bias, requantised into the 2x2 output pixels inside the image.
template <class Isa>
void wino_output(const conv_params & p, const quant_params & q, int nv, int oc0, const int32_t * bias,
                 const float * scale, const int32_t * m, int block, int tiles_w, int t_first, int n, int8_t * out) {
    using vec = typename Isa::vec;
    constexpr int L = Isa::lanes;
    const float lo = static_cast<float>(q.act_min - q.out_zp), hi = static_cast<float>(q.act_max - q.out_zp);
    for (int i = 0; i < n; ++i) {
        const int t = t_first + i, oy = 2 * (t / tiles_w), ox = 2 * (t % tiles_w);
        const int32_t * mt = m + static_cast<size_t>(i) * 16 * block;
        for (int j = 0; j < nv; ++j) {
            const int c = oc0 + L * j;
            const int n_lanes = p.out_c - c < L ? p.out_c - c : L;
            if (n_lanes <= 0) {
                break;
            }
            vec a[16];
            for (int e = 0; e < 16; ++e) {
                a[e] = Isa::load(mt + e * block + L * j);
            }
            vec s[2][4];  // A^T M: rows 0 + 1 + 2 and 1 - 2 - 3
            for (int col = 0; col < 4; ++col) {
                const vec r12 = Isa::add32(a[4 + col], a[8 + col]), d12 = Isa::sub32(a[4 + col], a[8 + col]);
                s[0][col] = Isa::add32(a[col], r12);
                s[1][col] = Isa::sub32(d12, a[12 + col]);
            }
            const vec b = Isa::load(bias + c);
            for (int r = 0; r < 2; ++r) {
                if (oy + r >= p.out_h) {
                    break;
                }
                const vec c12 = Isa::add32(s[r][1], s[r][2]), e12 = Isa::sub32(s[r][1], s[r][2]);
                const vec y[2] = {Isa::add32(s[r][0], c12), Isa::sub32(e12, s[r][3])};
                int8_t * o = out + (static_cast<size_t>(oy + r) * p.out_w + ox) * p.out_c + c;
                for (int col = 0; col < 2 && ox + col < p.out_w; ++col) {
                    Isa::requantize_store(Isa::add32(Isa::quarter(y[col]), b), scale + c, lo, hi, q.out_zp,
                                          o + static_cast<size_t>(col) * p.out_c, n_lanes);
                }
            }
        }
    }
}

// One block of output channels for the band's tiles, in blocks of
// fer_conv2d_s8_winograd_block_tiles (their products stay in L1 until
// transformed).
template <class Isa, int NV>
void wino_block(const conv_params & p, const quant_params & q, int words, int n_band, int t_band, int tiles_w,
                int oc_pad, int oc0, const int32_t * v, const int32_t * u, const int32_t * bias, const float * scale,
                int32_t * m, int8_t * out) {
    constexpr int px = Isa::tile_px(NV);
    static_assert(px <= fer_conv2d_s8_winograd_max_tile_px && fer_conv2d_s8_winograd_block_tiles % px == 0,
                  "a last group of tiles stays inside m and the band's spare words");
    constexpr int block = fer_conv2d_s8_winograd_max_block;
    for (int t0 = 0; t0 < n_band; t0 += fer_conv2d_s8_winograd_block_tiles) {
        const int n = n_band - t0 < fer_conv2d_s8_winograd_block_tiles ? n_band - t0 : fer_conv2d_s8_winograd_block_tiles;
        FER_WINO_ROLLED
        for (int e = 0; e < 16; ++e) {  // element by element: its weights stay in L1 across the tiles
            // whole groups of px tiles, the last one past n when px does not divide it: its extra
            // tiles read the words after the band's (the next element's tiles, or the scratch's
            // spare words after the last) and their products land in m's spare rows (px divides
            // block_tiles), never stored: one kernel per width, no one-tile tails
            for (int t = 0; t < n; t += px) {
                wino_tiles<Isa, NV, px>(words, n_band, oc_pad, oc0, v, u, e, t0 + t, block,
                                        m + static_cast<size_t>(t) * 16 * block);
            }
        }
        wino_output<Isa>(p, q, NV, oc0, bias, scale, m, block, tiles_w, t_band + t0, n, out);
    }
}

// A block's last, narrower part (as conv_s8_row_n): nv is a multiple of
// 8 / lanes.
template <class Isa, int NV>
void wino_block_n(int nv, const conv_params & p, const quant_params & q, int words, int n_band, int t_band,
                  int tiles_w, int oc_pad, int oc0, const int32_t * v, const int32_t * u, const int32_t * bias,
                  const float * scale, int32_t * m, int8_t * out) {
    constexpr int step = 8 / Isa::lanes;
    if constexpr (NV > step) {
        if (nv < NV) {
            wino_block_n<Isa, NV - step>(nv, p, q, words, n_band, t_band, tiles_w, oc_pad, oc0, v, u, bias, scale, m,
                                         out);
            return;
        }
    }
    wino_block<Isa, NV>(p, q, words, n_band, t_band, tiles_w, oc_pad, oc0, v, u, bias, scale, m, out);
}

template <class Isa>
void conv_s8_winograd(const conv_params & p, const quant_params & q, const int8_t * in, const int32_t * u,
                      const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    static_assert(Isa::k_per_word == 2, "Winograd runs on the int16-pair policies");
    constexpr int block = Isa::block_vecs * Isa::lanes;
    static_assert(block <= fer_conv2d_s8_winograd_max_block, "the products' rows are max_block channels");
    const fer_winograd_geometry g = fer_conv2d_s8_winograd_geometry(p);
    const int oc_pad = conv_padded_channels(p.out_c);
    int32_t * window = scratch;
    int32_t * v = window + g.window_words;
    int32_t * m = v + g.band_words;
    for (int b = 0; b < p.n; ++b) {
        conv_s8_fill_pairs(p, q.in_zp, in + static_cast<size_t>(b) * p.in_h * p.in_w * p.in_c, g.rows, g.cols, g.words,
                           window);
        int8_t * out_b = out + static_cast<size_t>(b) * p.out_h * p.out_w * p.out_c;
        const int tiles = g.tiles_h * g.tiles_w;
        for (int t_band = 0; t_band < tiles; t_band += g.band_tiles) {
            const int n_band = tiles - t_band < g.band_tiles ? tiles - t_band : g.band_tiles;
            wino_input(reinterpret_cast<const int16_t *>(window), g.cols, g.words, g.tiles_w, t_band, t_band + n_band,
                       reinterpret_cast<int16_t *>(v));
            for (int oc0 = 0; oc0 < oc_pad; oc0 += block) {
                const int nv = (oc_pad - oc0 >= block ? block : oc_pad - oc0) / Isa::lanes;
                wino_block_n<Isa, Isa::block_vecs>(nv, p, q, g.words, n_band, t_band, g.tiles_w, oc_pad, oc0, v, u,
                                                   bias_padded, scale_padded, m, out_b);
            }
        }
    }
}

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_S8_WINOGRAD_H
