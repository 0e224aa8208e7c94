// Reference kernels (float32, NHWC, TFLite semantics). Readable loops, the
// twins every optimised variant is tested against. Shapes were validated at
// model load; the kernels do not re-check them.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace fer_rt {

enum activation : int { act_none = 0, act_relu = 1, act_relu_n1_to_1 = 2, act_relu6 = 3 };

struct conv_params {
    int n = 1, in_h = 0, in_w = 0, in_c = 0;
    int out_h = 0, out_w = 0, out_c = 0;
    int k_h = 0, k_w = 0;
    int stride_h = 1, stride_w = 1;
    int dil_h = 1, dil_w = 1;
    int pad_top = 0, pad_left = 0;
    int depth_multiplier = 1;  // depthwise only
    int act = act_none;
};

struct pool_params {
    int n = 1, in_h = 0, in_w = 0, c = 0;
    int out_h = 0, out_w = 0;
    int f_h = 0, f_w = 0;
    int stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;
    int act = act_none;
};

// A fused activation (act_*) applied to one float.
inline float activate_f32(float v, int act) {
    switch (act) {
    case act_relu: return v < 0.0f ? 0.0f : v;
    case act_relu6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case act_relu_n1_to_1: return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
    default: return v;
    }
}

// The kernel taps of output pixel (b, oy, ox) of a convolution that fall
// inside the input (padding contributes nothing), in the order ky, kx:
// tap(x, t) with x the input pixel's first channel and t = ky * k_w + kx.
// The one window walk of the reference and the optimised depthwise kernels.
template <class T, class Tap>
inline void for_each_window_tap(const conv_params & p, const T * in, int b, int oy, int ox, Tap && tap) {
    for (int ky = 0; ky < p.k_h; ++ky) {
        const int iy = oy * p.stride_h - p.pad_top + ky * p.dil_h;
        if (iy < 0 || iy >= p.in_h) {
            continue;
        }
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int ix = ox * p.stride_w - p.pad_left + kx * p.dil_w;
            if (ix < 0 || ix >= p.in_w) {
                continue;
            }
            tap(in + ((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.in_c, ky * p.k_w + kx);
        }
    }
}

// Output size and leading padding of a window op (TFLite's SAME/VALID rules).
void fer_window_geometry(int in, int k, int stride, int dilation, bool same, int * out, int * pad_before);

// weights OHWI [out_c, k_h, k_w, in_c]; bias [out_c] or null
void fer_conv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out);
// weights 1HWC [1, k_h, k_w, in_c * depth_multiplier]
void fer_dwconv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out);
void fer_maxpool2d_f32__ref(const pool_params & p, const float * in, float * out);
// divides by the number of window cells inside the input (TFLite)
void fer_avgpool2d_f32__ref(const pool_params & p, const float * in, float * out);
// Mean over the axes set in `axes_mask` (bit i = axis i) of a tensor of rank <= 4.
void fer_mean_f32__ref(const int * dims, int rank, unsigned axes_mask, const float * in, float * out);
void fer_add_f32__ref(size_t n, const float * a, const float * b, int act, float * out);
// weights [n_out, n_in]; in [batch, n_in]
void fer_fc_f32__ref(int batch, int n_in, int n_out, const float * in, const float * w, const float * bias, int act,
                     float * out);
// along the last axis of [rows, n]
void fer_softmax_f32__ref(int rows, int n, float beta, const float * in, float * out);
// 1 / (1 + exp(-x)), element-wise (TFLite LOGISTIC).
void fer_logistic_f32__ref(size_t n, const float * in, float * out);
// Nearest-neighbour resize of NHWC [n, in_h, in_w, c] to [n, out_h, out_w, c],
// TFLite's rule without align_corners or half-pixel centres: source row
// floor(y * in_h / out_h) (the ONNX "asymmetric" + "floor" rule). Any element
// size (float32 and int8 share it: int8 in and out share their quantisation).
void fer_resize_nearest__ref(int n, int in_h, int in_w, int c, int out_h, int out_w, size_t elem, const void * in,
                             void * out);
// Constant padding of a rank-4 NHWC tensor: before[k] / after[k] elements on
// axis k, filled with the bytes of `fill` (elem bytes: 0.0f, or the int8 zero point).
void fer_pad__ref(const int * dims, const int * before, const int * after, size_t elem, const void * fill,
                  const void * in, void * out);

// ---- AVX2 + FMA variants (src/kernels-avx2.cpp; x86-64 builds with FER_HAVE_AVX2) ----

struct quant_params;

// Output channels rounded up to a multiple of 8 (the packed weight layout).
inline int conv_padded_channels(int out_c) { return (out_c + 7) / 8 * 8; }
// Repacks OHWI weights to HWIO with output channels padded to
// conv_padded_channels (zeros), and the bias (or zeros) to the same length.
void fer_conv2d_pack_f32(const conv_params & p, const float * w_ohwi, const float * bias, float * w_packed,
                         float * bias_padded);
// The same result as fer_conv2d_f32__ref (up to float rounding: FMA, another
// summation order) from packed weights.
void fer_conv2d_f32__avx2(const conv_params & p, const float * in, const float * w_packed, const float * bias_padded,
                          float * out);
// For layers with few output channels (fewer than 8): vectors over input
// channels, OHWI weights as in the file; the reference's result up to float
// rounding (FMA, summation order).
void fer_conv2d_f32_narrow__avx2(const conv_params & p, const float * in, const float * w, const float * bias,
                                 float * out);
// Depthwise convolution with depth multiplier 1 and at most k_dw_max_taps
// taps: channels innermost, 8 per vector. Float: the reference's sums with
// FMA; int8 (kernels-avx2.cpp too): bit-identical to fer_dwconv2d_s8__ref.
constexpr int k_dw_max_taps = 64;
// The outputs [lo, hi) along one axis whose window lies wholly inside [0, in):
// where the SIMD depthwise kernels take their fast path.
inline void dw_full_range(int out, int in, int k, int stride, int dil, int pad, int * lo, int * hi) {
    *lo = out;
    *hi = out;
    for (int o = 0; o < out; ++o) {
        const int first = o * stride - pad, last = first + (k - 1) * dil;
        if (first >= 0 && last < in) {
            *lo = o < *lo ? o : *lo;
            *hi = o + 1;
        }
    }
    if (*lo > *hi) {
        *lo = *hi;
    }
}
// The walk of the few-channel float depthwise kernels (AVX2, SIMD128; stride
// 1 along x, multiplier 1): a row's interior run of outputs is one flat run
// of out_w' x C floats, and tap (ky, kx) reads the input row's flat run
// shifted by (kx - pad_left) x C. Border pixels go to pixel(b, oy, ox), each
// interior run to run(rows, o, n) with rows[t] tap t's input run, o the
// run's first output and n its floats.
// Their weights: lane l of a run's vector k holds channel (lanes k + l) mod C,
// so the lanes' channels repeat every C / gcd(C, lanes) vectors (the phases).
// Writes, per phase, the bias then each tap's weights, `lanes` floats each, to
// wv ([phase][1 + taps][lanes]); returns the phase count, or 0 when that
// exceeds `capacity` floats (nothing written).
inline int dw_f32_phase_weights(const conv_params & p, const float * w, const float * bias, int lanes, float * wv,
                                int capacity) {
    const int C = p.out_c, taps = p.k_h * p.k_w;
    int g = lanes;
    while (C % g) g /= 2;
    const int phases = C / g;
    if ((taps + 1) * phases * lanes > capacity) {
        return 0;
    }
    for (int m = 0; m < phases; ++m) {
        for (int l = 0; l < lanes; ++l) {
            const int c = (lanes * m + l) % C;
            wv[(m * (taps + 1)) * lanes + l] = bias ? bias[c] : 0.0f;
            for (int t = 0; t < taps; ++t) {
                wv[(m * (taps + 1) + 1 + t) * lanes + l] = w[static_cast<size_t>(t) * C + c];
            }
        }
    }
    return phases;
}
template <class Pixel, class Run>
void dw_f32_flat_walk(const conv_params & p, const float * in, float * out, Pixel && pixel, Run && run) {
    const int C = p.out_c;
    int y_lo = 0, y_hi = 0, x_lo = 0, x_hi = 0;
    dw_full_range(p.out_h, p.in_h, p.k_h, p.stride_h, p.dil_h, p.pad_top, &y_lo, &y_hi);
    dw_full_range(p.out_w, p.in_w, p.k_w, 1, 1, p.pad_left, &x_lo, &x_hi);
    const size_t row_in = static_cast<size_t>(p.in_w) * C, row_out = static_cast<size_t>(p.out_w) * C;
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            if (oy < y_lo || oy >= y_hi || x_lo >= x_hi) {
                for (int ox = 0; ox < p.out_w; ++ox) pixel(b, oy, ox);
                continue;
            }
            for (int ox = 0; ox < x_lo; ++ox) pixel(b, oy, ox);
            const float * rows[k_dw_max_taps];
            for (int ky = 0; ky < p.k_h; ++ky) {
                const float * r =
                    in + (static_cast<size_t>(b) * p.in_h + (oy * p.stride_h - p.pad_top + ky * p.dil_h)) * row_in;
                for (int kx = 0; kx < p.k_w; ++kx) {
                    rows[ky * p.k_w + kx] = r + static_cast<size_t>(x_lo - p.pad_left + kx) * C;
                }
            }
            run(rows, out + (static_cast<size_t>(b) * p.out_h + oy) * row_out + static_cast<size_t>(x_lo) * C,
                (x_hi - x_lo) * C);
            for (int ox = x_hi; ox < p.out_w; ++ox) pixel(b, oy, ox);
        }
    }
}
void fer_dwconv2d_f32__avx2(const conv_params & p, const float * in, const float * w, const float * bias, float * out);
// The SIMD int8 depthwise kernels' set-up: each channel's bias with the input
// zero point's share folded in (bias - in_zp * sum of its weights; the
// kernels then multiply raw inputs, exact integer arithmetic) and each tap's
// offset from its window's first pixel, in elements (depth multiplier 1).
inline void dw_s8_fold_and_offsets(const conv_params & p, int32_t in_zp, const int8_t * w, const int32_t * bias,
                                   int32_t * folded, int * offset) {
    const int C = p.out_c, taps = p.k_h * p.k_w;
    for (int c = 0; c < C; ++c) {
        int32_t sum_w = 0;
        for (int t = 0; t < taps; ++t) {
            sum_w += w[static_cast<size_t>(t) * C + c];
        }
        folded[c] = (bias ? bias[c] : 0) - in_zp * sum_w;
    }
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            offset[ky * p.k_w + kx] = (ky * p.dil_h * p.in_w + kx * p.dil_w) * C;
        }
    }
}
// Every tap's input pixel for output pixel (b, oy, ox) of a depthwise
// convolution, channels innermost: tap[t] for t = ky * k_w + kx. A tap outside
// the input points at zp_row (C copies of the input zero point): with the zero
// point folded into the bias (above), such a tap adds zp * w - zp * w = 0,
// exactly the reference's skipped tap, so the SIMD kernels run border pixels
// through the same vector loop as interior ones (which use the offsets).
inline void dw_s8_tap_rows(const conv_params & p, const int8_t * in, int b, int oy, int ox, const int8_t * zp_row,
                           const int8_t ** tap) {
    const int iy0 = oy * p.stride_h - p.pad_top, ix0 = ox * p.stride_w - p.pad_left;
    for (int ky = 0; ky < p.k_h; ++ky) {
        const int iy = iy0 + ky * p.dil_h;
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int ix = ix0 + kx * p.dil_w;
            const bool inside = iy >= 0 && iy < p.in_h && ix >= 0 && ix < p.in_w;
            tap[ky * p.k_w + kx] =
                inside ? in + ((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.in_c : zp_row;
        }
    }
}
struct quant_params;
void fer_dwconv2d_s8__avx2(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                           const int32_t * bias, int8_t * out);
void fer_fc_f32__avx2(int batch, int n_in, int n_out, const float * in, const float * w, const float * bias, int act,
                      float * out);
// int8 convolution: weights repacked to [k_h][k_w][ceil(in_c/2)][oc_pad][2]
// int16 (input-channel pairs for _mm256_madd_epi16, zeros in the padding),
// bias and requantisation scales padded to oc_pad. Bit-identical to
// fer_conv2d_s8__ref (integer sums are exact; requantisation is the same
// float32 arithmetic). Needs in_c <= fer_conv2d_s8_avx2_max_in_c.
constexpr int fer_conv2d_s8_avx2_max_in_c = 4096;
void fer_conv2d_pack_s8(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias, const float * scale,
                        int16_t * w_packed, int32_t * bias_padded, float * scale_padded);
// `scratch` holds fer_conv2d_s8_scratch(p, 2) int32 words (the context's:
// the input rewritten as zero-padded int16 pairs over the window the outputs
// read, so the inner loop has no bounds checks; src/conv-s8-tiles.h). Plain
// C++ (kernels-ref.cpp): the WebAssembly kernel uses the same scratch.
// An RGB stem (3 input channels, stride 2, no horizontal padding): its
// input pixels fill the int16-pair words poorly (3 values in 2 words), so
// the pair tiles run it as the same convolution over each input row read as
// one run of values: 2 "channels" (one word) a column, a kernel k_w x in_c
// values wide (rounded up to whole words; the extra value's weight is 0), a
// stride of stride_w x in_c / 2 words. Exact: the same products, summed in
// another order (integer sums). True, with the run geometry in *runs and
// the weights rewritten (OHWI of the run geometry, fer_conv2d_s8_row_run_weights)
// when p qualifies: odd in_c, dil_w 1, and stride_w, pad_left and in_w each
// giving whole words (x in_c even).
bool fer_conv2d_s8_row_runs(const conv_params & p, conv_params * runs);
void fer_conv2d_s8_row_run_weights(const conv_params & p, const conv_params & runs, const int8_t * w_ohwi,
                                   int8_t * w_runs);
// Everything the int16-pair kernels (AVX2, NEON, WASM SIMD128) take for the
// convolution p: the geometry they run (*tiles: p, or its row runs where p
// qualifies), the weights packed for it (fer_conv2d_pack_s8), the padded
// bias and scales. One function for the runtime (op-conv-2d.cpp) and the twin
// tests, so what the tests run cannot drift from what the runtime packs.
// True when it took the row-run rewrite.
bool fer_conv2d_pack_s8_pairs(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias, const float * scale,
                              conv_params * tiles, std::vector<int16_t> * w_packed, std::vector<int32_t> * bias_padded,
                              std::vector<float> * scale_padded);
void fer_conv2d_s8_window(const conv_params & p, int * rows, int * cols);
size_t fer_conv2d_s8_scratch(const conv_params & p, int channels_per_word);
void fer_conv2d_s8__avx2(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                         const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch);
// int8 3x3 stride-1 convolutions as Winograd F(2x2, 3x3) in exact integer
// arithmetic (src/conv-s8-winograd.h says why it is exact): 16 instead of 36
// multiply-accumulates per 2x2 outputs and input channel, bit-identical to
// fer_conv2d_s8__ref. For the int16-pair kernels (AVX2, WASM SIMD128); with
// AVX-VNNI's four products a lane the direct kernel stays (its 2.25x fewer
// products would be spent at half the products per instruction).
// Fits: 3x3, stride 1, dilation 1, 8 <= in_c <= max_in_c (under 8 input
// channels the pairs are mostly padding: the direct kernel's row runs win).
constexpr int fer_conv2d_s8_winograd_max_in_c = 1024;  // 4 x the sum fits int32 (conv-s8-winograd.h)
constexpr int fer_conv2d_s8_winograd_max_block = 32;    // output channels per block, any policy
constexpr int fer_conv2d_s8_winograd_block_tiles = 12;  // tiles whose products are transformed together
constexpr int fer_conv2d_s8_winograd_max_tile_px = 4;   // tiles per kernel call (a policy's tile_px), dividing 12
bool fer_conv2d_s8_winograd_fits(const conv_params & p);
// Where the kernel's scratch goes (int32 words), per image: the input window
// (rows x cols pixels of `words` int16 pairs, even sizes so every tile's 4x4
// patch is inside), one band of whole tile rows transformed at a time (its
// 16 x band_tiles x words stay in L2), the products of one block of tiles.
struct fer_winograd_geometry {
    int words, tiles_h, tiles_w, rows, cols, band_tiles;
    size_t window_words, band_words, products_words;
};
fer_winograd_geometry fer_conv2d_s8_winograd_geometry(const conv_params & p);
size_t fer_conv2d_s8_winograd_scratch(const conv_params & p);
// The weights transformed (U = G' g G'^T, G' = 2 G: integers) and packed
// [16][ceil(in_c/2)][oc_pad][2] int16, zeros in the padding; bias and scales
// padded to oc_pad.
void fer_conv2d_pack_s8_winograd(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias,
                                 const float * scale, std::vector<int16_t> * u_packed,
                                 std::vector<int32_t> * bias_padded, std::vector<float> * scale_padded);
void fer_conv2d_s8_winograd__avx2(const conv_params & p, const quant_params & q, const int8_t * in,
                                  const int16_t * u_packed, const int32_t * bias_padded, const float * scale_padded,
                                  int8_t * out, int32_t * scratch);
// AVX-VNNI int8 convolution (_mm256_dpbusd_avx_epi32: four unsigned x signed
// byte products per lane): weights packed [k_h][k_w][ceil(in_c/4)][oc_pad][4]
// int8, the input as unsigned bytes x + 128, so the bias absorbs
// -(128 + input zero point) x (sum of the channel's weights) (exact integer
// arithmetic: bit-identical to fer_conv2d_s8__ref). Scratch:
// fer_conv2d_s8_scratch(p, 4) words.
void fer_conv2d_pack_s8_vnni(const conv_params & p, int in_zp, const int8_t * w_ohwi, const int32_t * bias,
                             const float * scale, int8_t * w_packed, int32_t * bias_padded, float * scale_padded);
void fer_conv2d_s8__avxvnni(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch);
// True when the CPU runs the AVX-VNNI kernel (checked once; src/model/cpu.cpp).
bool fer_cpu_has_avxvnni();
// True when the CPU runs the AVX2 + FMA kernels (checked once; src/model/cpu.cpp).
bool fer_cpu_has_avx2_fma();

// ---- WebAssembly SIMD128 variant (src/kernels-wasm.cpp; builds with -msimd128) ----

// A SIMD128 module only instantiates where SIMD128 is supported, so there is
// no run-time check.
// float32 convolution vectorised over input channels, OHWI weights as in the
// file; the reference's result up to summation order.
void fer_conv2d_f32__wasm128(const conv_params & p, const float * in, const float * w, const float * bias,
                             float * out);
// float32 depthwise (multiplier 1, at most k_dw_max_taps taps), 4 channels a
// step: bit-identical to fer_dwconv2d_f32__ref (same operations, same order).
void fer_dwconv2d_f32__wasm128(const conv_params & p, const float * in, const float * w, const float * bias,
                               float * out);
// fer_conv2d_s8__avx2 at 128 bits: same packed weights and scratch
// (fer_conv2d_s8_scratch(p, 2) words), bit-identical to fer_conv2d_s8__ref.
void fer_conv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch);
// fer_conv2d_s8_winograd__avx2 at 128 bits: same packed weights and scratch.
void fer_conv2d_s8_winograd__wasm128(const conv_params & p, const quant_params & q, const int8_t * in,
                                     const int16_t * u_packed, const int32_t * bias_padded,
                                     const float * scale_padded, int8_t * out, int32_t * scratch);
// fer_dwconv2d_s8__avx2 at 128 bits (depth multiplier 1, at most
// k_dw_max_taps taps): bit-identical to fer_dwconv2d_s8__ref.
void fer_dwconv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                              const int32_t * bias, int8_t * out);
// Bit-identical to fer_quantize_s8__ref (round half away from zero, NaN -> 0).
void fer_quantize_s8__wasm128(size_t n, float scale, int32_t zp, const float * in, int8_t * out);
// Bit-identical to fer_scale_add_u8__ref, 16 bytes a step: clang 14 turns the
// plain loop's uint8 -> float conversion into 16 extracts and scalar converts.
void fer_scale_add_u8__wasm128(size_t n, const uint8_t * x, float w, bool first, float * acc);
// Bit-identical to fer_maxpool2d_s8__ref, 16 channels per instruction.
void fer_maxpool2d_s8__wasm128(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in,
                               int8_t * out);

// ---- ARM NEON variant (src/kernels-neon.cpp; AArch64 only) ----

// The int16-pair int8 convolution for AArch64, where NEON is always present
// (no run-time check): same packed weights as fer_conv2d_s8__avx2, scratch of
// fer_conv2d_s8_scratch(p, 2) words, bit-identical to fer_conv2d_s8__ref.
void fer_conv2d_s8__neon(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                         const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch);

// ---- int8 (TFLite's quantisation spec: real = scale * (q - zero_point)) ----

// TFLite's fixed-point requantisation: m = q * 2^(shift - 31), q in [2^30, 2^31).
void fer_quantize_multiplier(double m, int32_t * q, int * shift);
// round(x * m) the way TFLite's reference kernels do it (two roundings).
int32_t fer_multiply_by_quantized_multiplier(int32_t x, int32_t q, int shift);

// Requantisation of int32 accumulators (conv, depthwise, fully connected):
// q = clamp(round_half_even(float(acc) * scale[c]) + zp), with
// scale[c] = float(s_in * s_w[c]) / s_out in float32, as XNNPACK (TFLite's
// default CPU delegate) does. TFLite's reference kernels use a fixed-point
// multiplier instead (fer_multiply_by_quantized_multiplier) and can differ by
// one LSB; docs/runtime.md explains the choice.
struct quant_params {
    int32_t in_zp = 0, out_zp = 0;
    int32_t act_min = -128, act_max = 127;  // fused activation, in the output's integers
    const float * scale = nullptr;          // one per output channel
};

// One int32 sum to int8: scaled in float (a product, never fused), clamped to
// the activation range, rounded half to even. Every int8 kernel's last step.
inline int8_t fer_requantize_s8(int32_t acc, float scale, const quant_params & q) {
    float f = static_cast<float>(acc) * scale;
    const float lo = static_cast<float>(q.act_min - q.out_zp), hi = static_cast<float>(q.act_max - q.out_zp);
    f = f < lo ? lo : (f > hi ? hi : f);
    return static_cast<int8_t>(static_cast<int32_t>(std::lrintf(f)) + q.out_zp);  // round half to even
}

// weights int8 OHWI (per-channel scales folded into mult/shift), bias int32
void fer_conv2d_s8__ref(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                        const int32_t * bias, int8_t * out);
void fer_dwconv2d_s8__ref(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                          const int32_t * bias, int8_t * out);
void fer_fc_s8__ref(int batch, int n_in, int n_out, const quant_params & q, const int8_t * in, const int8_t * w,
                    const int32_t * bias, int8_t * out);
// input and output share scale and zero point
void fer_maxpool2d_s8__ref(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out);
// The int8 max pooling's loops for the SIMD kernels (channels innermost):
// for every output pixel o, blocks(rows, c_n, iy0, iy1, ix0, ix1, o) takes the
// channels it can in whole vectors (rows: the batch item's first input pixel)
// and returns how many; the rest go through the reference's scalar loop.
template <class Blocks>
void maxpool_s8_walk(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out,
                     Blocks && blocks) {
    const size_t c_n = static_cast<size_t>(p.c);
    for (int b = 0; b < p.n; ++b) {
        const int8_t * rows = in + static_cast<size_t>(b) * p.in_h * p.in_w * c_n;
        for (int oy = 0; oy < p.out_h; ++oy) {
            const int y0 = oy * p.stride_h - p.pad_top;
            const int iy0 = y0 < 0 ? 0 : y0, iy1 = y0 + p.f_h < p.in_h ? y0 + p.f_h : p.in_h;
            for (int ox = 0; ox < p.out_w; ++ox) {
                int8_t * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * c_n;
                const int x0 = ox * p.stride_w - p.pad_left;
                const int ix0 = x0 < 0 ? 0 : x0, ix1 = x0 + p.f_w < p.in_w ? x0 + p.f_w : p.in_w;
                for (size_t c = blocks(rows, c_n, iy0, iy1, ix0, ix1, o); c < c_n; ++c) {
                    int32_t m = -128;
                    for (int iy = iy0; iy < iy1; ++iy) {
                        for (int ix = ix0; ix < ix1; ++ix) {
                            const int32_t v = rows[(static_cast<size_t>(iy) * p.in_w + ix) * c_n + c];
                            m = v > m ? v : m;
                        }
                    }
                    m = m < act_min ? act_min : (m > act_max ? act_max : m);
                    o[c] = static_cast<int8_t>(m);
                }
            }
        }
    }
}
// rounds half away from zero (TFLite)
void fer_avgpool2d_s8__ref(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out);
// out = round_half_even(float(sum(q - in_zp)) * scale) + out_zp with
// scale = s_in / (s_out * count) in float32 (XNNPACK's global average pooling)
void fer_mean_s8__ref(const int * dims, int rank, unsigned axes_mask, int32_t in_zp, float in_scale, int32_t out_zp,
                      float out_scale, const int8_t * in, int8_t * out);
void fer_quantize_s8__ref(size_t n, float scale, int32_t zp, const float * in, int8_t * out);
// One source row's share of a vertical resampling (YuNet's input,
// src/detect/yunet.cpp): acc[i] = w * x[i] when `first`, else acc[i] += w * x[i].
void fer_scale_add_u8__ref(size_t n, const uint8_t * x, float w, bool first, float * acc);
void fer_dequantize_s8__ref(size_t n, float scale, int32_t zp, const int8_t * in, float * out);
// output scale 1/256, zero point -128 (TFLite's requirement for int8 softmax)
void fer_softmax_s8__ref(int rows, int n, float beta, float in_scale, const int8_t * in, int8_t * out);

struct add_params {
    int32_t in1_zp = 0, in2_zp = 0, out_zp = 0;
    int left_shift = 20;
    int32_t in1_mult = 0, in2_mult = 0, out_mult = 0;
    int in1_shift = 0, in2_shift = 0, out_shift = 0;
    int32_t act_min = -128, act_max = 127;
};
void fer_add_params_init(double s1, double s2, double s_out, add_params * p);
void fer_add_s8__ref(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out);
// The reference's arithmetic with each input's rescaling looked up in a
// 256-entry table built per call: bit-identical, a third of the multiplies.
// Portable: NEON's ADD kernel (AVX2 and SIMD128 have their own).
void fer_add_s8__lut(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out);
// The whole int8 ADD as one table of its 65,536 results, row (a + 128), column
// (b + 128), built once at load by the reference's own arithmetic
// (fer_add_s8_table_init, k_add_s8_table entries): one load per element.
constexpr size_t k_add_s8_table = 65536;
void fer_add_s8_table_init(const add_params & p, int8_t * table);
void fer_add_s8__table(size_t n, const int8_t * table, const int8_t * a, const int8_t * b, int8_t * out);
// AVX2 twins of ADD and QUANTIZE (kernels-avx2.cpp), bit-identical to the
// references: the same fixed-point arithmetic and the same rounding on 8 lanes.
void fer_add_s8__avx2(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out);
// The WebAssembly SIMD128 twin (kernels-wasm.cpp), 16 elements a step: the
// fixed-point rescaling in int32 and 64-bit lanes, no tables.
void fer_add_s8__wasm128(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out);
void fer_maxpool2d_s8__avx2(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out);
void fer_quantize_s8__avx2(size_t n, float scale, int32_t zp, const float * in, int8_t * out);
// Bit-identical to fer_scale_add_u8__ref (a product, then a sum: no FMA), 8
// bytes a step (YuNet's input resampling: the plain loop gets SSE2's 4).
void fer_scale_add_u8__avx2(size_t n, const uint8_t * x, float w, bool first, float * acc);

}  // namespace fer_rt
