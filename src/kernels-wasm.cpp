// WebAssembly SIMD128 variants of the int8 convolution and depthwise
// convolution, for the web app's SIMD
// build (web/build.sh compiles every src/*.cpp but the x86 kernels; without
// -msimd128 this file is empty). The twin of fer_conv2d_s8__avx2 at half the
// width: the same loops (conv-s8-tiles.h: the input rewritten once into the
// context's scratch as zero-padded int16 pairs, tiles of output pixels sharing
// each weight load), the same packed weights, i32x4.dot_i16x8_s in place of
// _mm256_madd_epi16, and the same float32 requantisation with round-half-even,
// so the output is bit-identical to fer_conv2d_s8__ref
// (tests/wasm/kernels-wasm-twin.cpp checks it).
#ifdef __wasm_simd128__

#include "conv-f32-narrow.h"
#include "conv-s8-tiles.h"
#include "conv-s8-winograd.h"
#include "kernels.h"

#include <wasm_simd128.h>

#include <cstring>

namespace fer_rt {

namespace {

// The nearest integer, ties to even, of floats within +-2^22 (every caller's
// are clamped to int8 differences, within +-255): adding 1.5 x 2^23 rounds in
// the float unit (to nearest even, as lrintf and cvtps2dq) and leaves the
// integer in the low mantissa bits, so the bits minus the constant's bits are
// the integer. Two instructions where f32x4.nearest + i32x4.trunc_sat_f32x4
// take about eight in V8 on x86-64 (trunc_sat handles NaN and overflow, which
// cannot occur here). Bit-identical (the twin tests).
inline v128_t round_small(v128_t f) {
    const v128_t magic = wasm_f32x4_splat(12582912.0f);
    return wasm_i32x4_sub(wasm_f32x4_add(f, magic), magic);
}

// The reference's requantisation of four int32 sums: times the per-channel
// scale, clamped to [lo, hi] (the activation bounds less the output zero
// point), rounded half to even and plus the zero point, the zero point folded
// into round_small's subtraction: the bits of f + 1.5 x 2^23 minus (the
// constant's bits - zp) are round(f) + zp. One helper for the convolution's
// 4-lane stores and the depthwise kernel's 8-channel ones.
struct requant_bounds {
    v128_t lo, hi, magic, magic_zp;
    requant_bounds(float lo_, float hi_, int32_t zp)
        : lo(wasm_f32x4_splat(lo_)), hi(wasm_f32x4_splat(hi_)), magic(wasm_f32x4_splat(12582912.0f)),
          magic_zp(wasm_i32x4_sub(magic, wasm_i32x4_splat(zp))) {}
};

inline v128_t requantize4(v128_t acc, const float * scale, const requant_bounds & b) {
    v128_t f = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), wasm_v128_load(scale));
    // pmin/pmax (one minps/maxps each in V8; min/max spend several more on NaN and -0 rules that
    // cannot arise here: f is a product of an integer and a positive scale)
    f = wasm_f32x4_pmin(wasm_f32x4_pmax(f, b.lo), b.hi);
    return wasm_i32x4_sub(wasm_f32x4_add(f, b.magic), b.magic_zp);
}

struct isa_wasm128 {
    using vec = v128_t;
    static constexpr int lanes = 4;
    static constexpr int k_per_word = 2;
    // 16 channels x 2 pixels: 8 accumulators, 4 weights and 2 broadcasts fit
    // the 15 xmm registers V8 allocates on x86-64 (a 16th is its scratch).
    // Wider tiles spill accumulators to the stack on every step: in Chromium
    // 156, fernet's classification took 3.75 ms with 32 x 3 (24
    // accumulators), 3.5-3.6 ms with 24 x 2 or 16 x 3, 2.9 ms with 8 x 4 and
    // 2.65 ms with 16 x 2 (bench/README.md). Under Node 20's older V8 the
    // order differs (it spills even 8 accumulators), so tune in the browser.
    static constexpr int block_vecs = 4;
    static constexpr int tile_px(int nv) { return nv >= 4 ? 2 : 4; }
    static int32_t fill_word(const int8_t * x, int n, int zp) { return conv_s8_pair_word(x, n, zp); }
    static int32_t pad_word(int) { return 0; }
    static vec splat(int32_t word) { return wasm_i32x4_splat(word); }
    static vec load(const void * p) { return wasm_v128_load(p); }
    // for the Winograd kernel (conv-s8-winograd.h)
    static void store(void * p, vec a) { wasm_v128_store(p, a); }
    static vec add32(vec a, vec b) { return wasm_i32x4_add(a, b); }
    static vec sub32(vec a, vec b) { return wasm_i32x4_sub(a, b); }
    static vec quarter(vec a) { return wasm_i32x4_shr(a, 2); }
    static vec dot(vec acc, vec x, vec w) { return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(x, w)); }
    static void requantize_store(vec acc, const float * scale, float lo, float hi, int32_t zp, int8_t * out, int n) {
        const v128_t r = requantize4(acc, scale, requant_bounds(lo, hi, zp));
        // in int8 range after the clamp: the saturating narrows change nothing
        const v128_t r16 = wasm_i16x8_narrow_i32x4(r, r);
        const v128_t r8 = wasm_i8x16_narrow_i16x8(r16, r16);
        if (n == lanes) {
            wasm_v128_store32_lane(out, r8, 0);
            return;
        }
        alignas(16) int8_t b[16];
        wasm_v128_store(b, r8);
        for (int i = 0; i < n; ++i) {
            out[i] = b[i];
        }
    }
};

// 8 channels' int32 sums (channels 0-3 in lo, 4-7 in hi) requantised and
// stored as 8 bytes: both halves narrowed together (one pair of narrows and
// one 8-byte store instead of two of each).
struct requant8 {
    requant_bounds bounds;
    explicit requant8(const quant_params & q)
        : bounds(static_cast<float>(q.act_min - q.out_zp), static_cast<float>(q.act_max - q.out_zp), q.out_zp) {}
    void store(v128_t acc_lo, v128_t acc_hi, const float * scale, int8_t * out) const {
        // in int8 range after the clamp: the saturating narrows change nothing
        const v128_t r16 =
            wasm_i16x8_narrow_i32x4(requantize4(acc_lo, scale, bounds), requantize4(acc_hi, scale + 4, bounds));
        wasm_v128_store64_lane(out, wasm_i8x16_narrow_i16x8(r16, r16), 0);
    }
};

// Working memory of the depthwise fast path, on the stack (a kernel allocates
// nothing): interleaved weights and folded biases (as in kernels-avx2.cpp).
constexpr int k_dw_weight_words = 8192;
constexpr int k_dw_max_channels = 1024;

// One output pixel's channels [c_begin, C), the reference's arithmetic: the
// taps inside the input, the zero point subtracted per tap (the channels
// beyond the last block of 8, and shapes the fast path cannot take).
void dw_s8_pixel(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                 const int32_t * bias, int b, int oy, int ox, int c_begin, int8_t * o) {
    const int C = p.out_c;
    for (int c = c_begin; c < C; ++c) {
        int32_t acc = 0;
        for_each_window_tap(p, in, b, oy, ox, [&](const int8_t * x, int t) {
            acc += (static_cast<int32_t>(x[c]) - q.in_zp) * static_cast<int32_t>(w[static_cast<size_t>(t) * C + c]);
        });
        if (bias) {
            acc += bias[c];
        }
        o[c] = fer_requantize_s8(acc, q.scale[c], q);
    }
}

}  // namespace

// Every pixel (the border's padding taps read a row of zero points:
// dw_s8_tap_rows), 8 channels at a time: the raw int8 inputs of two taps
// interleaved as int16 pairs against the two taps' interleaved weights
// (i32x4.dot_i16x8_s), the zero point's share folded into the bias once per
// call (exact integer arithmetic), then the reference's requantisation.
namespace {

// A 3x3 window's 8 channels from x (its top-left tap; taps dx apart in a row,
// rows dy apart), added to acc_lo / acc_hi: the nine taps in four pairs and
// one lone tap, against weights interleaved as the general loop's (pair j at
// wp + j * step int16). The general loop unrolled with the tap offsets fixed
// (YuNet's depthwise layers are all 3x3).
inline void dw_s8_3x3_sums(const int8_t * x, size_t dx, size_t dy, const int16_t * wp, size_t step, v128_t & acc_lo,
                           v128_t & acc_hi) {
    auto pair = [&](const v128_t xa, const v128_t xb, const int16_t * w) {
        acc_lo = wasm_i32x4_add(acc_lo, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xa, xb, 0, 8, 1, 9, 2, 10, 3, 11),
                                                             wasm_v128_load(w)));
        acc_hi = wasm_i32x4_add(acc_hi, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xa, xb, 4, 12, 5, 13, 6, 14, 7, 15),
                                                             wasm_v128_load(w + 8)));
    };
    pair(wasm_i16x8_load8x8(x), wasm_i16x8_load8x8(x + dx), wp);
    pair(wasm_i16x8_load8x8(x + 2 * dx), wasm_i16x8_load8x8(x + dy), wp + step);
    pair(wasm_i16x8_load8x8(x + dy + dx), wasm_i16x8_load8x8(x + dy + 2 * dx), wp + 2 * step);
    pair(wasm_i16x8_load8x8(x + 2 * dy), wasm_i16x8_load8x8(x + 2 * dy + dx), wp + 3 * step);
    pair(wasm_i16x8_load8x8(x + 2 * dy + 2 * dx), wasm_i16x8_splat(0), wp + 4 * step);
}

// Two neighbouring output pixels at stride 1 (windows x and x + dx): the
// 3 x 4 input taps loaded once, each pair's two weight vectors loaded once
// for both pixels (dw_s8_3x3_sums's pairs and order, so the same sums).
inline void dw_s8_3x3_sums2(const int8_t * x, size_t dx, size_t dy, const int16_t * wp, size_t step, v128_t & a_lo,
                            v128_t & a_hi, v128_t & b_lo, v128_t & b_hi) {
    auto pair = [&](const v128_t xa, const v128_t xb, const v128_t ya, const v128_t yb, const int16_t * w) {
        const v128_t w_lo = wasm_v128_load(w), w_hi = wasm_v128_load(w + 8);
        a_lo = wasm_i32x4_add(a_lo, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xa, xb, 0, 8, 1, 9, 2, 10, 3, 11), w_lo));
        a_hi = wasm_i32x4_add(a_hi, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(xa, xb, 4, 12, 5, 13, 6, 14, 7, 15), w_hi));
        b_lo = wasm_i32x4_add(b_lo, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(ya, yb, 0, 8, 1, 9, 2, 10, 3, 11), w_lo));
        b_hi = wasm_i32x4_add(b_hi, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(ya, yb, 4, 12, 5, 13, 6, 14, 7, 15), w_hi));
    };
    const int8_t * r1 = x + dy, * r2 = x + 2 * dy;
    const v128_t x00 = wasm_i16x8_load8x8(x), x01 = wasm_i16x8_load8x8(x + dx), x02 = wasm_i16x8_load8x8(x + 2 * dx);
    pair(x00, x01, x01, x02, wp);
    const v128_t x03 = wasm_i16x8_load8x8(x + 3 * dx), x10 = wasm_i16x8_load8x8(r1), x11 = wasm_i16x8_load8x8(r1 + dx);
    pair(x02, x10, x03, x11, wp + step);
    const v128_t x12 = wasm_i16x8_load8x8(r1 + 2 * dx), x13 = wasm_i16x8_load8x8(r1 + 3 * dx);
    pair(x11, x12, x12, x13, wp + 2 * step);
    const v128_t x20 = wasm_i16x8_load8x8(r2), x21 = wasm_i16x8_load8x8(r2 + dx), x22 = wasm_i16x8_load8x8(r2 + 2 * dx);
    pair(x20, x21, x21, x22, wp + 3 * step);
    const v128_t zero = wasm_i16x8_splat(0);
    pair(x22, zero, wasm_i16x8_load8x8(r2 + 3 * dx), zero, wp + 4 * step);
}

}  // namespace

void fer_dwconv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                              const int32_t * bias, int8_t * out) {
    const int C = p.out_c, c8 = C / 8 * 8, taps = p.k_h * p.k_w, pairs = (taps + 1) / 2;
    alignas(16) int16_t wi[k_dw_weight_words];
    alignas(16) int32_t folded[k_dw_max_channels];
    int offset[k_dw_max_taps];
    const bool fast = c8 > 0 && pairs * 2 * c8 <= k_dw_weight_words && C <= k_dw_max_channels;
    if (fast) {
        // pair j, block c: two vectors, channels c..c+3 and c+4..c+7, each
        // lane (tap 2j, tap 2j + 1) of one channel (a missing tap is 0)
        for (int j = 0; j < pairs; ++j) {
            for (int c = 0; c < c8; c += 8) {
                const v128_t wa = wasm_i16x8_load8x8(w + static_cast<size_t>(2 * j) * C + c);
                const v128_t wb = 2 * j + 1 < taps ? wasm_i16x8_load8x8(w + static_cast<size_t>(2 * j + 1) * C + c)
                                                   : wasm_i16x8_splat(0);
                int16_t * d = wi + (static_cast<size_t>(j) * c8 + c) * 2;
                wasm_v128_store(d, wasm_i16x8_shuffle(wa, wb, 0, 8, 1, 9, 2, 10, 3, 11));
                wasm_v128_store(d + 8, wasm_i16x8_shuffle(wa, wb, 4, 12, 5, 13, 6, 14, 7, 15));
            }
        }
        dw_s8_fold_and_offsets(p, q.in_zp, w, bias, folded, offset);
    }
    int y_lo = 0, y_hi = 0, x_lo = 0, x_hi = 0;
    dw_full_range(p.out_h, p.in_h, p.k_h, p.stride_h, p.dil_h, p.pad_top, &y_lo, &y_hi);
    dw_full_range(p.out_w, p.in_w, p.k_w, p.stride_w, p.dil_w, p.pad_left, &x_lo, &x_hi);
    alignas(16) int8_t zp_row[k_dw_max_channels];
    if (fast) {
        std::memset(zp_row, static_cast<int8_t>(q.in_zp), static_cast<size_t>(C));
    }
    const int8_t * tap[k_dw_max_taps];
    const requant8 rq(q);
    const v128_t zero = wasm_i16x8_splat(0);
    const bool k3x3 = fast && p.k_h == 3 && p.k_w == 3 && p.dil_h == 1 && p.dil_w == 1;
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            const bool row_full = oy >= y_lo && oy < y_hi;
            for (int ox = 0; ox < p.out_w; ++ox) {
                int8_t * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * C;
                if (k3x3 && row_full && ox >= x_lo && ox < x_hi) {
                    // the row's interior run, 3x3: every window inside the input
                    const size_t dx = static_cast<size_t>(C), dy = static_cast<size_t>(p.in_w) * C;
                    const size_t step_in = static_cast<size_t>(p.stride_w) * C;
                    const int8_t * x0 = in + ((static_cast<size_t>(b) * p.in_h + (oy * p.stride_h - p.pad_top)) *
                                                  p.in_w + (ox * p.stride_w - p.pad_left)) * C;
                    if (p.stride_w == 1) {  // two pixels a step
                        for (; ox + 1 < x_hi; ox += 2, x0 += 2 * step_in, o += 2 * C) {
                            for (int c = 0; c < c8; c += 8) {
                                v128_t a_lo = wasm_v128_load(folded + c), a_hi = wasm_v128_load(folded + c + 4);
                                v128_t b_lo = a_lo, b_hi = a_hi;
                                dw_s8_3x3_sums2(x0 + c, dx, dy, wi + static_cast<size_t>(c) * 2,
                                                static_cast<size_t>(2 * c8), a_lo, a_hi, b_lo, b_hi);
                                rq.store(a_lo, a_hi, q.scale + c, o + c);
                                rq.store(b_lo, b_hi, q.scale + c, o + C + c);
                            }
                            if (c8 < C) {
                                dw_s8_pixel(p, q, in, w, bias, b, oy, ox, c8, o);
                                dw_s8_pixel(p, q, in, w, bias, b, oy, ox + 1, c8, o + C);
                            }
                        }
                    }
                    for (; ox < x_hi; ++ox, x0 += step_in, o += C) {
                        for (int c = 0; c < c8; c += 8) {
                            v128_t acc_lo = wasm_v128_load(folded + c), acc_hi = wasm_v128_load(folded + c + 4);
                            dw_s8_3x3_sums(x0 + c, dx, dy, wi + static_cast<size_t>(c) * 2, static_cast<size_t>(2 * c8),
                                           acc_lo, acc_hi);
                            rq.store(acc_lo, acc_hi, q.scale + c, o + c);
                        }
                        if (c8 < C) {
                            dw_s8_pixel(p, q, in, w, bias, b, oy, ox, c8, o);
                        }
                    }
                    --ox;  // the loop's ++ox moves on past the run
                    continue;
                }
                if (!fast) {
                    dw_s8_pixel(p, q, in, w, bias, b, oy, ox, 0, o);
                    continue;
                }
                // tap t's channels from c: x0 + offset[t] + c inside, tap[t] + c on the border
                auto channels8 = [&](auto && row) {
                    for (int c = 0; c < c8; c += 8) {
                        v128_t acc_lo = wasm_v128_load(folded + c), acc_hi = wasm_v128_load(folded + c + 4);
                        const int16_t * wp = wi + static_cast<size_t>(c) * 2;
                        for (int j = 0; j < pairs; ++j, wp += 2 * c8) {
                            const v128_t xa = wasm_i16x8_load8x8(row(2 * j) + c);
                            const v128_t xb = 2 * j + 1 < taps ? wasm_i16x8_load8x8(row(2 * j + 1) + c) : zero;
                            acc_lo = wasm_i32x4_add(acc_lo, wasm_i32x4_dot_i16x8(
                                                                wasm_i16x8_shuffle(xa, xb, 0, 8, 1, 9, 2, 10, 3, 11),
                                                                wasm_v128_load(wp)));
                            acc_hi = wasm_i32x4_add(acc_hi, wasm_i32x4_dot_i16x8(
                                                                wasm_i16x8_shuffle(xa, xb, 4, 12, 5, 13, 6, 14, 7, 15),
                                                                wasm_v128_load(wp + 8)));
                        }
                        rq.store(acc_lo, acc_hi, q.scale + c, o + c);
                    }
                };
                if (row_full && ox >= x_lo && ox < x_hi) {
                    const int8_t * x0 = in + ((static_cast<size_t>(b) * p.in_h + (oy * p.stride_h - p.pad_top)) *
                                                  p.in_w + (ox * p.stride_w - p.pad_left)) * C;
                    channels8([&](int t) { return x0 + offset[t]; });
                } else {
                    dw_s8_tap_rows(p, in, b, oy, ox, zp_row, tap);
                    channels8([&](int t) { return tap[t]; });
                }
                if (c8 < C) {
                    dw_s8_pixel(p, q, in, w, bias, b, oy, ox, c8, o);
                }
            }
        }
    }
}

void fer_scale_add_u8__wasm128(size_t n, const uint8_t * x, float w, bool first, float * acc) {
    const v128_t wv = wasm_f32x4_splat(w);
    // A byte's float as (2^23 + x) - 2^23: its bits or-ed into 2^23's mantissa, then one exact subtraction.
    // Not f32x4.convert_i32x4_s: clang 14 folds the widening into it and emits a uint16 -> float
    // conversion, which V8 runs lane by lane (pextrw + cvtsi2ss + insertps: 6x slower).
    const v128_t two23_bits = wasm_i32x4_splat(0x4B000000);
    const v128_t two23 = wasm_f32x4_splat(8388608.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const v128_t b = wasm_v128_load(x + i);
        const v128_t lo = wasm_u16x8_extend_low_u8x16(b), hi = wasm_u16x8_extend_high_u8x16(b);
        const v128_t q[4] = {wasm_u32x4_extend_low_u16x8(lo), wasm_u32x4_extend_high_u16x8(lo),
                             wasm_u32x4_extend_low_u16x8(hi), wasm_u32x4_extend_high_u16x8(hi)};
        for (int k = 0; k < 4; ++k) {
            const v128_t f = wasm_f32x4_sub(wasm_v128_or(q[k], two23_bits), two23);
            const v128_t prod = wasm_f32x4_mul(wv, f);
            float * a = acc + i + 4 * k;
            wasm_v128_store(a, first ? prod : wasm_f32x4_add(wasm_v128_load(a), prod));
        }
    }
    fer_scale_add_u8__ref(n - i, x + i, w, first, acc + i);
}

// 16 values a step: divide, round half away from zero (truncate, then one step
// away from zero when the exact fraction is at least a half), NaN to 0, clamp
// to the int8 range, add the zero point.
void fer_quantize_s8__wasm128(size_t n, float scale, int32_t zp, const float * in, int8_t * out) {
    const v128_t vscale = wasm_f32x4_splat(scale);
    const v128_t lo = wasm_f32x4_splat(static_cast<float>(-128 - zp)), hi = wasm_f32x4_splat(static_cast<float>(127 - zp));
    const v128_t half = wasm_f32x4_splat(0.5f), one = wasm_f32x4_splat(1.0f), sign_bit = wasm_f32x4_splat(-0.0f);
    const v128_t vzp = wasm_i32x4_splat(zp);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v128_t q[4];
        for (int k = 0; k < 4; ++k) {
            const v128_t v = wasm_f32x4_div(wasm_v128_load(in + i + 4 * k), vscale);
            const v128_t t = wasm_f32x4_trunc(v);
            const v128_t frac = wasm_f32x4_abs(wasm_f32x4_sub(v, t));
            const v128_t step = wasm_v128_and(wasm_f32x4_ge(frac, half), wasm_v128_or(one, wasm_v128_and(sign_bit, v)));
            v128_t r = wasm_v128_and(wasm_f32x4_add(t, step), wasm_f32x4_eq(v, v));  // NaN -> 0
            r = wasm_f32x4_pmin(wasm_f32x4_pmax(r, lo), hi);  // no NaN left (masked above)
            q[k] = wasm_i32x4_add(round_small(r), vzp);  // r is whole and clamped: exact
        }
        // in int8 range after the clamp: the saturating narrows change nothing
        wasm_v128_store(out + i, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]),
                                                         wasm_i16x8_narrow_i32x4(q[2], q[3])));
    }
    fer_quantize_s8__ref(n - i, scale, zp, in + i, out + i);
}

// 16 channels per instruction (maxpool_s8_walk: the reference's loops).
void fer_maxpool2d_s8__wasm128(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in,
                               int8_t * out) {
    const v128_t lo = wasm_i8x16_splat(static_cast<int8_t>(act_min)), hi = wasm_i8x16_splat(static_cast<int8_t>(act_max));
    maxpool_s8_walk(p, act_min, act_max, in, out,
                    [&](const int8_t * rows, size_t c_n, int iy0, int iy1, int ix0, int ix1, int8_t * o) {
                        size_t c = 0;
                        for (; c + 16 <= c_n; c += 16) {
                            v128_t m = wasm_i8x16_splat(-128);
                            for (int iy = iy0; iy < iy1; ++iy) {
                                for (int ix = ix0; ix < ix1; ++ix) {
                                    m = wasm_i8x16_max(m, wasm_v128_load(rows + (static_cast<size_t>(iy) * p.in_w + ix) * c_n + c));
                                }
                            }
                            wasm_v128_store(o + c, wasm_i8x16_min(wasm_i8x16_max(m, lo), hi));
                        }
                        return c;
                    });
}

namespace {

// TFLite's rescaling of one ADD input, fer_multiply_by_quantized_multiplier(
// d * 2^20, q, shift) for d = x - zp in [-255, 255] and shift <= 0 (every
// input multiplier is at most 1/2), on 4 lanes in int32 arithmetic:
//   the saturating rounding doubling high multiply (q < 2^31: it never
//   saturates) is (d 2^20 q + nudge) / 2^31 truncated toward zero, which is
//   floor((d 2^20 q + 2^30) / 2^31) for either sign of the product (for a
//   negative one, ceil((p + 1 - 2^30) / 2^31) = floor((p + 2^30) / 2^31)),
//   = floor((d q + 2^10) / 2^11); with q = qh 2^16 + ql that is
//   d (32 qh) + floor((d ql + 2^10) / 2^11), every term within int32;
//   then the rounding division by 2^e, half away from zero: for e > 0,
//   floor((h + 2^(e-1) - [h < 0]) / 2^e) (no overflow: |h| < 2^28), h for e = 0.
// Values that LLVM cannot hoist out of a loop (an empty asm in the loop, no
// instruction): clang 14 hoists the splat of a loop-invariant shift count,
// then no longer sees a splat and scalarises the vector shift (4 extracts,
// shifts and inserts), and it hoists the sign extension of a splatted
// multiplier, turning i64x2.extmul_*_i32x4_s (two unpacks and a pmuldq in
// V8) into i64x2.extend + i64x2.mul (three pmuludq and five more).
inline int opaque_count(int n) {
    __asm__ volatile("" : "+r"(n));
    return n;
}
inline v128_t opaque_vec(v128_t v) {
    __asm__ volatile("" : "+r"(v));
    return v;
}

struct add_rescale {
    v128_t q_hi32, q_lo, half, neg_mask;
    int e;
    add_rescale(int32_t q, int shift)
        : q_hi32(wasm_i32x4_splat((q >> 16) * 32)), q_lo(wasm_i32x4_splat(q & 0xffff)),
          half(wasm_i32x4_splat(shift < 0 ? 1 << (-shift - 1) : 0)), neg_mask(wasm_i32x4_splat(shift < 0 ? -1 : 0)),
          e(-shift) {}
    v128_t operator()(v128_t d) const {
        const v128_t h = wasm_i32x4_add(wasm_i32x4_mul(d, q_hi32),
                                        wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_mul(d, q_lo), wasm_i32x4_splat(1 << 10)), 11));
        return rounding_shift(h, half, neg_mask, e);
    }
    static v128_t rounding_shift(v128_t h, v128_t half, v128_t neg_mask, int e) {
        const v128_t down = wasm_v128_and(wasm_i32x4_shr(h, 31), neg_mask);  // -1: a negative h, e > 0
        return wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(h, half), down), opaque_count(e));
    }
};

}  // namespace

// int8 ADD, 16 elements a step: the inputs' rescaling in int32 (add_rescale),
// the sum's in 64-bit lanes (i64x2.extmul): floor((x q + 2^30) / 2^31), whose
// low 32 bits a logical shift leaves as an arithmetic one would (and
// i64x2.shr_u is one instruction in V8 where shr_s is several); then the
// rounding division, zero point and clamp. Bit-identical to fer_add_s8__ref;
// parameters other than fer_add_params_init's (left shift 20, input
// multipliers at most 1/2) take the reference.
void fer_add_s8__wasm128(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out) {
    size_t i = 0;
    if (p.left_shift == 20 && p.in1_shift <= 0 && p.in2_shift <= 0) {
        const add_rescale r1(p.in1_mult, p.in1_shift), r2(p.in2_mult, p.in2_shift);
        const v128_t zp1 = wasm_i16x8_splat(static_cast<int16_t>(p.in1_zp));
        const v128_t zp2 = wasm_i16x8_splat(static_cast<int16_t>(p.in2_zp));
        const int left = p.out_shift > 0 ? p.out_shift : 0, e = p.out_shift > 0 ? 0 : -p.out_shift;
        const v128_t q = wasm_i32x4_splat(p.out_mult), nudge = wasm_i64x2_splat(1ll << 30);
        const v128_t half = wasm_i32x4_splat(e > 0 ? 1 << (e - 1) : 0), neg_mask = wasm_i32x4_splat(e > 0 ? -1 : 0);
        const v128_t out_zp = wasm_i32x4_splat(p.out_zp);
        const v128_t lo = wasm_i8x16_splat(static_cast<int8_t>(p.act_min));
        const v128_t hi = wasm_i8x16_splat(static_cast<int8_t>(p.act_max));
        auto sum4 = [&](v128_t d1, v128_t d2) {  // 4 lanes of d1 = a - zp1, d2 = b - zp2 to the output's int32
            const v128_t x = wasm_i32x4_shl(wasm_i32x4_add(r1(d1), r2(d2)), opaque_count(left));
            const v128_t qo = opaque_vec(q);
            const v128_t p_lo = wasm_u64x2_shr(wasm_i64x2_add(wasm_i64x2_extmul_low_i32x4(x, qo), nudge), 31);
            const v128_t p_hi = wasm_u64x2_shr(wasm_i64x2_add(wasm_i64x2_extmul_high_i32x4(x, qo), nudge), 31);
            const v128_t h = wasm_i32x4_shuffle(p_lo, p_hi, 0, 2, 4, 6);
            return wasm_i32x4_add(add_rescale::rounding_shift(h, half, neg_mask, e), out_zp);
        };
        auto sum8 = [&](v128_t a16, v128_t b16) {  // 8 lanes, int16 (a - zp1 and b - zp2 fit)
            const v128_t d1 = wasm_i16x8_sub(a16, zp1), d2 = wasm_i16x8_sub(b16, zp2);
            return wasm_i16x8_narrow_i32x4(sum4(wasm_i32x4_extend_low_i16x8(d1), wasm_i32x4_extend_low_i16x8(d2)),
                                           sum4(wasm_i32x4_extend_high_i16x8(d1), wasm_i32x4_extend_high_i16x8(d2)));
        };
        for (; i + 16 <= n; i += 16) {
            const v128_t va = wasm_v128_load(a + i), vb = wasm_v128_load(b + i);
            const v128_t v = wasm_i8x16_narrow_i16x8(
                sum8(wasm_i16x8_extend_low_i8x16(va), wasm_i16x8_extend_low_i8x16(vb)),
                sum8(wasm_i16x8_extend_high_i8x16(va), wasm_i16x8_extend_high_i8x16(vb)));
            // the saturating narrows clamp to [-128, 127], inside which act_min/act_max clamp the same
            wasm_v128_store(out + i, wasm_i8x16_min(wasm_i8x16_max(v, lo), hi));
        }
    }
    fer_add_s8__ref(n - i, p, a + i, b + i, out + i);
}

// float32 depthwise convolution (multiplier 1), 4 channels a step, the
// channels past the last 4 one by one. The reference's operations in its
// order (bias, then each tap inside the input, multiply then add: WebAssembly
// has no fused multiply-add to contract into), and pmin/pmax are its clamps'
// comparisons, so the result is bit-identical to fer_dwconv2d_f32__ref.
void fer_dwconv2d_f32__wasm128(const conv_params & p, const float * in, const float * w, const float * bias,
                               float * out) {
    const int C = p.out_c, c4 = C / 4 * 4;
    const float * xs[k_dw_max_taps];
    int ts[k_dw_max_taps];
    const v128_t zero = wasm_f32x4_splat(0.0f), six = wasm_f32x4_splat(6.0f);
    const v128_t minus_one = wasm_f32x4_splat(-1.0f), one = wasm_f32x4_splat(1.0f);
    auto activate4 = [&](v128_t acc) {
        switch (p.act) {  // activate_f32's comparisons: v < lo ? lo : v, then v > hi ? hi : v
        case act_relu: return wasm_f32x4_pmax(acc, zero);
        case act_relu6: return wasm_f32x4_pmin(wasm_f32x4_pmax(acc, zero), six);
        case act_relu_n1_to_1: return wasm_f32x4_pmin(wasm_f32x4_pmax(acc, minus_one), one);
        default: return acc;
        }
    };
    auto pixel = [&](int b, int oy, int ox) {  // channels innermost, 4 per vector, the window's valid taps
        int n = 0;
        for_each_window_tap(p, in, b, oy, ox, [&](const float * x, int t) {
            xs[n] = x;
            ts[n++] = t;
        });
        float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * C;
        for (int c = 0; c < c4; c += 4) {
            v128_t acc = bias ? wasm_v128_load(bias + c) : zero;
            for (int t = 0; t < n; ++t) {
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(xs[t] + c),
                                                         wasm_v128_load(w + static_cast<size_t>(ts[t]) * C + c)));
            }
            wasm_v128_store(o + c, activate4(acc));
        }
        for (int c = c4; c < C; ++c) {
            float acc = bias ? bias[c] : 0.0f;
            for (int t = 0; t < n; ++t) {
                acc += xs[t][c] * w[static_cast<size_t>(ts[t]) * C + c];
            }
            o[c] = activate_f32(acc, p.act);
        }
    };
    // Few channels (C not a multiple of 4: YuNet's head has 1 and 10) at
    // stride 1 along x: a row's interior run is one flat run of floats whose
    // tap (ky, kx) reads the input row's run shifted by (kx - pad_left) x C,
    // so 4 outputs take one vector whatever their channels; lane l of the
    // run's vector k holds channel (4k + l) mod C, whose weights (and bias)
    // are laid out once per call for each of the C / gcd(C, 4) phases. The
    // same products and sums in the same order: bit-identical.
    const int taps = p.k_h * p.k_w;
    constexpr int k_flat_floats = 2048;
    alignas(16) float wv[k_flat_floats];  // [phase][1 + taps][4]: the bias first (dw_f32_phase_weights)
    const int phases = C % 4 == 0 || p.in_c != C || p.stride_w != 1 || p.dil_w != 1
                           ? 0
                           : dw_f32_phase_weights(p, w, bias, 4, wv, k_flat_floats);
    if (phases == 0) {
        for (int b = 0; b < p.n; ++b) {
            for (int oy = 0; oy < p.out_h; ++oy) {
                for (int ox = 0; ox < p.out_w; ++ox) pixel(b, oy, ox);
            }
        }
        return;
    }
    dw_f32_flat_walk(p, in, out, pixel, [&](const float * const * rows, float * o, int n_flat) {
        int j = 0, m = 0;
        for (; j + 4 <= n_flat; j += 4, m = m + 1 == phases ? 0 : m + 1) {
            const float * wm = wv + static_cast<size_t>(m) * (taps + 1) * 4;
            v128_t acc = wasm_v128_load(wm);
            for (int t = 0; t < taps; ++t) {
                acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(rows[t] + j), wasm_v128_load(wm + 4 + t * 4)));
            }
            wasm_v128_store(o + j, activate4(acc));
        }
        for (; j < n_flat; ++j) {  // the run's last values, one by one
            const int c = j % C;
            float acc = bias ? bias[c] : 0.0f;
            for (int t = 0; t < taps; ++t) {
                acc += rows[t][j] * w[static_cast<size_t>(t) * C + c];
            }
            o[j] = activate_f32(acc, p.act);
        }
    });
}

namespace {

// WebAssembly has no fused multiply-add: multiply, then add.
struct narrow_f32_wasm128 {
    using vec = v128_t;
    static constexpr int lanes = 4;
    static vec zero() { return wasm_f32x4_splat(0.0f); }
    static vec load(const float * p) { return wasm_v128_load(p); }
    static vec madd(vec acc, vec x, vec k) { return wasm_f32x4_add(acc, wasm_f32x4_mul(x, k)); }
    static float madd1(float acc, float x, float k) { return acc + x * k; }
    static vec add(vec a, vec b) { return wasm_f32x4_add(a, b); }
    static void sums4(const vec * a, float * s) {
        // a 4x4 transpose folded into the adds: pairs of lanes, then pairs of pairs
        const v128_t p01 = wasm_f32x4_add(wasm_i32x4_shuffle(a[0], a[1], 0, 4, 2, 6), wasm_i32x4_shuffle(a[0], a[1], 1, 5, 3, 7));
        const v128_t p23 = wasm_f32x4_add(wasm_i32x4_shuffle(a[2], a[3], 0, 4, 2, 6), wasm_i32x4_shuffle(a[2], a[3], 1, 5, 3, 7));
        wasm_v128_store(s, wasm_f32x4_add(wasm_i32x4_shuffle(p01, p23, 0, 1, 4, 5), wasm_i32x4_shuffle(p01, p23, 2, 3, 6, 7)));
    }
};

}  // namespace

// conv-f32-narrow.h's loop at 128 bits: every float convolution of the SIMD
// build (the networks' float layers are YuNet's narrow head).
void fer_conv2d_f32__wasm128(const conv_params & p, const float * in, const float * w, const float * bias,
                             float * out) {
    conv_f32_narrow<narrow_f32_wasm128>(p, in, w, bias, out);
}

void fer_conv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    conv_s8<isa_wasm128>(p, q, in, reinterpret_cast<const int32_t *>(w_packed), bias_padded, scale_padded, out,
                         scratch);
}

void fer_conv2d_s8_winograd__wasm128(const conv_params & p, const quant_params & q, const int8_t * in,
                                     const int16_t * u_packed, const int32_t * bias_padded,
                                     const float * scale_padded, int8_t * out, int32_t * scratch) {
    conv_s8_winograd<isa_wasm128>(p, q, in, reinterpret_cast<const int32_t *>(u_packed), bias_padded, scale_padded,
                                  out, scratch);
}

}  // namespace fer_rt

#endif  // __wasm_simd128__
