// WebAssembly SIMD128 variant of the int8 convolution, for the web app's SIMD
// build (web/build.sh compiles every src/*.cpp but kernels-avx2.cpp; without
// -msimd128 this file is empty). The twin of fer_conv2d_s8__avx2 at half the
// width: same packed weights (input-channel int16 pairs, fer_conv2d_pack_s8),
// i32x4.dot_i16x8_s in place of _mm256_madd_epi16, and the same float32
// requantisation with round-half-even, so the output is bit-identical to
// fer_conv2d_s8__ref (tests/wasm/kernels-wasm-twin.cpp checks it).
#ifdef __wasm_simd128__

#include "kernels.h"

#include <wasm_simd128.h>

namespace fer_rt {

namespace {

// NV blocks of 8 output channels (two 4-lane accumulators each) starting at oc0.
template <int NV>
void conv_s8_block(const conv_params & p, const quant_params & q, int oc_pad, int oc0, const int8_t * in,
                   const int16_t * w, const int32_t * bias, const float * scale, int8_t * out) {
    const int n_icp = (p.in_c + 1) / 2;
    int32_t pairs[(fer_conv2d_s8_avx2_max_in_c + 1) / 2];
    const v128_t lo = wasm_f32x4_splat(static_cast<float>(q.act_min - q.out_zp));
    const v128_t hi = wasm_f32x4_splat(static_cast<float>(q.act_max - q.out_zp));
    const v128_t zp = wasm_i32x4_splat(q.out_zp);
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                v128_t acc[2 * NV];
                for (int v = 0; v < 2 * NV; ++v) {
                    acc[v] = wasm_v128_load(bias + oc0 + 4 * v);
                }
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
                        const int8_t * x = in + ((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.in_c;
                        for (int icp = 0; icp < n_icp; ++icp) {  // (x - zp) pairs as two int16
                            const int32_t a = x[2 * icp] - q.in_zp;
                            const int32_t c = 2 * icp + 1 < p.in_c ? x[2 * icp + 1] - q.in_zp : 0;
                            pairs[icp] = static_cast<int32_t>((static_cast<uint32_t>(c) << 16) |
                                                              (static_cast<uint32_t>(a) & 0xffffu));
                        }
                        const int16_t * wk = w + (static_cast<size_t>(ky) * p.k_w + kx) * n_icp * oc_pad * 2 + oc0 * 2;
                        for (int icp = 0; icp < n_icp; ++icp) {
                            const v128_t xv = wasm_i32x4_splat(pairs[icp]);
                            const int16_t * wr = wk + static_cast<size_t>(icp) * oc_pad * 2;
                            for (int v = 0; v < 2 * NV; ++v) {
                                acc[v] = wasm_i32x4_add(acc[v], wasm_i32x4_dot_i16x8(xv, wasm_v128_load(wr + 8 * v)));
                            }
                        }
                    }
                }
                int8_t * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c + oc0;
                for (int v = 0; v < 2 * NV; ++v) {
                    v128_t f = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc[v]), wasm_v128_load(scale + oc0 + 4 * v));
                    f = wasm_f32x4_min(wasm_f32x4_max(f, lo), hi);
                    const v128_t r = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(f)), zp);
                    alignas(16) int32_t lanes[4];
                    wasm_v128_store(lanes, r);
                    const int n = p.out_c - (oc0 + 4 * v) < 4 ? p.out_c - (oc0 + 4 * v) : 4;
                    for (int i = 0; i < n; ++i) {
                        o[4 * v + i] = static_cast<int8_t>(lanes[i]);
                    }
                }
            }
        }
    }
}

}  // namespace

void fer_conv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out) {
    const int oc_pad = conv_padded_channels(p.out_c);
    // Blocks of 32 channels, as on AVX2: 8 accumulators, a block's weights stay in cache.
    for (int oc0 = 0; oc0 < oc_pad; oc0 += 32) {
        switch ((oc_pad - oc0) >= 32 ? 4 : (oc_pad - oc0) / 8) {
        case 4: conv_s8_block<4>(p, q, oc_pad, oc0, in, w_packed, bias_padded, scale_padded, out); break;
        case 3: conv_s8_block<3>(p, q, oc_pad, oc0, in, w_packed, bias_padded, scale_padded, out); break;
        case 2: conv_s8_block<2>(p, q, oc_pad, oc0, in, w_packed, bias_padded, scale_padded, out); break;
        default: conv_s8_block<1>(p, q, oc_pad, oc0, in, w_packed, bias_padded, scale_padded, out); break;
        }
    }
}

}  // namespace fer_rt

#endif  // __wasm_simd128__
