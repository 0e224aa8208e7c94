// ARM NEON variant of the int8 convolution, for AArch64 (NEON is part of the
// base ISA there, so there is no run-time check and no extra flag; elsewhere
// this file is empty). The design of the x86 and SIMD128 int8 kernels at 128
// bits: the same packed weights (input-channel int16 pairs,
// fer_conv2d_pack_s8), the input rewritten once into the context's scratch as
// zero-padded (x - zero_point) int16 pairs, tiles of neighbouring output
// pixels sharing each weight load, and the reference's float32 requantisation
// with round-half-even, so the output is bit-identical to fer_conv2d_s8__ref
// (tests/arm/, run under QEMU).
//
// Not written against the shared tile loops of the other kernels: their
// policy's dot(acc, x, w) must finish each lane's pair sum per word, and NEON
// has no int16 multiply-add-pairs (x86 madd, SIMD128 dot), so that would cost
// smull + smull2 + addp + add per 4 channels where the split accumulators
// below need smlal + smlal2, and one addp per tile.
#ifdef __aarch64__

#include "kernels.h"

#include <arm_neon.h>

// The accumulators must stay in registers: GCC -O2 does not always unroll
// the tile's small constant loops completely, and then keeps them in memory.
#if defined(__clang__)
#define FER_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define FER_UNROLL _Pragma("GCC unroll 16")
#else
#define FER_UNROLL
#endif

namespace fer_rt {

namespace {

// Row r, column c of the window the outputs read hold input pixel
// (r - pad_top, c - pad_left) as (x - zp) int16 pairs, one int32 word per
// pair; outside the image the word is 0, i.e. the zero point, as TFLite pads.
void fill_pairs(const conv_params & p, int in_zp, const int8_t * in, int rows, int cols, int words, int32_t * s) {
    for (int r = 0; r < rows; ++r) {
        const int iy = r - p.pad_top;
        for (int c = 0; c < cols; ++c) {
            const int ix = c - p.pad_left;
            int32_t * d = s + (static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c)) *
                                  static_cast<size_t>(words);
            if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) {
                for (int k = 0; k < words; ++k) {
                    d[k] = 0;
                }
                continue;
            }
            const int8_t * x = in + (static_cast<size_t>(iy) * p.in_w + ix) * p.in_c;
            for (int k = 0; k < words; ++k) {
                const int32_t a = x[2 * k] - in_zp, b = 2 * k + 1 < p.in_c ? x[2 * k + 1] - in_zp : 0;
                d[k] = static_cast<int32_t>((static_cast<uint32_t>(b) << 16) | (static_cast<uint32_t>(a) & 0xffffu));
            }
        }
    }
}

// Stores 8 requantised channels (two int32x4) at o, only the first n <= 8.
inline void store8(int32x4_t a, int32x4_t b, int n, int8_t * o) {
    const int8x8_t v = vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b)));  // values already in range
    if (n >= 8) {
        vst1_s8(o, v);
        return;
    }
    int8_t lanes[8];
    vst1_s8(lanes, v);
    for (int i = 0; i < n; ++i) {
        o[i] = lanes[i];
    }
}

// PX neighbouring output pixels of row oy from column ox, NV x 4 output
// channels from oc0. One int16x8 weight load holds 4 channels' pairs; smlal
// and smlal2 multiply its low and high halves by the broadcast input pair into two
// accumulators that keep each channel's two products apart (lanes [c0 first,
// c0 second, c1 first, c1 second]), so the pairwise add is done once per
// tile, not once per word. NV 4 x PX 3 is 24 accumulators of the 32 registers.
template <int NV, int PX>
void tile(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0, const int32_t * s,
          const int16_t * w, const int32_t * bias, const float * scale, int oy, int ox, int8_t * out_row) {
    int32x4_t lo[PX][NV], hi[PX][NV];
    for (int px = 0; px < PX; ++px) {
        for (int v = 0; v < NV; ++v) {
            lo[px][v] = vdupq_n_s32(0);
            hi[px][v] = vdupq_n_s32(0);
        }
    }
    const size_t px_step = static_cast<size_t>(p.stride_w) * static_cast<size_t>(words);
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int32_t * sp = s + (static_cast<size_t>(oy * p.stride_h + ky * p.dil_h) * static_cast<size_t>(cols) +
                                      static_cast<size_t>(ox * p.stride_w + kx * p.dil_w)) * static_cast<size_t>(words);
            const int16_t * wk = w + ((static_cast<size_t>(ky) * p.k_w + kx) * words * oc_pad + oc0) * 2;
            for (int k = 0; k < words; ++k) {
                int16x8_t xv[PX];
                FER_UNROLL
                for (int px = 0; px < PX; ++px) {
                    xv[px] = vreinterpretq_s16_s32(vld1q_dup_s32(sp + px * px_step + static_cast<size_t>(k)));
                }
                const int16_t * wr = wk + static_cast<size_t>(k) * oc_pad * 2;
                FER_UNROLL
                for (int v = 0; v < NV; ++v) {
                    const int16x8_t wv = vld1q_s16(wr + 8 * v);
                    FER_UNROLL
                    for (int px = 0; px < PX; ++px) {
                        lo[px][v] = vmlal_s16(lo[px][v], vget_low_s16(wv), vget_low_s16(xv[px]));
                        hi[px][v] = vmlal_high_s16(hi[px][v], wv, xv[px]);  // smlal2: no half extracted
                    }
                }
            }
        }
    }
    const float32x4_t f_lo = vdupq_n_f32(static_cast<float>(q.act_min - q.out_zp));
    const float32x4_t f_hi = vdupq_n_f32(static_cast<float>(q.act_max - q.out_zp));
    const int32x4_t zp = vdupq_n_s32(q.out_zp);
    for (int px = 0; px < PX; ++px) {
        int8_t * o = out_row + static_cast<size_t>(ox + px) * p.out_c + oc0;
        int32x4_t r[NV];
        for (int v = 0; v < NV; ++v) {
            const int32x4_t acc = vaddq_s32(vpaddq_s32(lo[px][v], hi[px][v]), vld1q_s32(bias + oc0 + 4 * v));
            float32x4_t f = vmulq_f32(vcvtq_f32_s32(acc), vld1q_f32(scale + oc0 + 4 * v));
            f = vminq_f32(vmaxq_f32(f, f_lo), f_hi);
            r[v] = vaddq_s32(vcvtnq_s32_f32(f), zp);  // round half to even, as lrintf
        }
        for (int v = 0; v < NV; v += 2) {  // NV is even: oc_pad is a multiple of 8
            const int n = p.out_c - (oc0 + 4 * v);
            if (n <= 0) {
                break;
            }
            store8(r[v], r[v + 1], n, o + 4 * v);
        }
    }
}

template <int NV>
void row(const conv_params & p, const quant_params & q, int words, int cols, int oc_pad, int oc0, const int32_t * s,
         const int16_t * w, const int32_t * bias, const float * scale, int oy, int8_t * out_row) {
    constexpr int k_px = NV >= 4 ? 3 : 4;  // 24 or 16 accumulators, the rest for inputs and weights
    int ox = 0;
    for (; ox + k_px <= p.out_w; ox += k_px) {
        tile<NV, k_px>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
    for (; ox < p.out_w; ++ox) {
        tile<NV, 1>(p, q, words, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
}

}  // namespace

void fer_conv2d_s8__neon(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                         const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    const int oc_pad = conv_padded_channels(p.out_c);
    const int words = (p.in_c + 1) / 2;
    int rows = 0, cols = 0;
    fer_conv2d_s8_window(p, &rows, &cols);
    for (int b = 0; b < p.n; ++b) {
        fill_pairs(p, q.in_zp, in + static_cast<size_t>(b) * p.in_h * p.in_w * p.in_c, rows, cols, words, scratch);
        for (int oy = 0; oy < p.out_h; ++oy) {
            int8_t * out_row = out + (static_cast<size_t>(b) * p.out_h + oy) * p.out_w * p.out_c;
            // Blocks of 16 channels; oc_pad is a multiple of 8, so the last may hold 8.
            for (int oc0 = 0; oc0 < oc_pad; oc0 += 16) {
                if (oc_pad - oc0 >= 16) {
                    row<4>(p, q, words, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row);
                } else {
                    row<2>(p, q, words, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row);
                }
            }
        }
    }
}

}  // namespace fer_rt

#endif  // __aarch64__
