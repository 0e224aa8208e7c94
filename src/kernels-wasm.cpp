// WebAssembly SIMD128 variant of the int8 convolution, for the web app's SIMD
// build (web/build.sh compiles every src/*.cpp but the x86 kernels; without
// -msimd128 this file is empty). The twin of fer_conv2d_s8__avx2 at half the
// width: the same loops (conv-s8-tiles.h: the input rewritten once into the
// context's scratch as zero-padded int16 pairs, tiles of output pixels sharing
// each weight load), the same packed weights, i32x4.dot_i16x8_s in place of
// _mm256_madd_epi16, and the same float32 requantisation with round-half-even,
// so the output is bit-identical to fer_conv2d_s8__ref
// (tests/wasm/kernels-wasm-twin.cpp checks it).
#ifdef __wasm_simd128__

#include "conv-s8-tiles.h"
#include "kernels.h"

#include <wasm_simd128.h>

namespace fer_rt {

namespace {

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
    static vec dot(vec acc, vec x, vec w) { return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(x, w)); }
    static void requantize_store(vec acc, const float * scale, float lo, float hi, int32_t zp, int8_t * out, int n) {
        v128_t f = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(acc), wasm_v128_load(scale));
        f = wasm_f32x4_min(wasm_f32x4_max(f, wasm_f32x4_splat(lo)), wasm_f32x4_splat(hi));
        // nearest rounds half to even; the clamped value is in int32 range, so trunc is exact
        const v128_t r = wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(f)), wasm_i32x4_splat(zp));
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

}  // namespace

void fer_conv2d_s8__wasm128(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    conv_s8<isa_wasm128>(p, q, in, reinterpret_cast<const int32_t *>(w_packed), bias_padded, scale_padded, out,
                         scratch);
}

}  // namespace fer_rt

#endif  // __wasm_simd128__
