// The 256-bit half of the x86 int8 convolution policies (conv-s8-tiles.h has
// the loops), shared by kernels-avx2.cpp (int16 pairs, _mm256_madd_epi16) and
// kernels-avxvnni.cpp (unsigned byte quads, _mm256_dpbusd_avx_epi32): each
// derives its policy from isa_x86_256 and adds k_per_word, fill_word,
// pad_word and dot. Included under each file's own ISA flags.
#ifndef FER_CONV_S8_X86_H
#define FER_CONV_S8_X86_H

#include "conv-s8-tiles.h"

#include <immintrin.h>

namespace fer_rt {
namespace {

struct isa_x86_256 {
    using vec = __m256i;
    static constexpr int lanes = 8;
    static constexpr int block_vecs = 4;  // 32 channels
    // accumulators + one weight + PX broadcasts fill the 16 ymm registers
    static constexpr int tile_px(int nv) { return nv >= 4 ? 3 : 4; }
    static vec splat(int32_t word) { return _mm256_set1_epi32(word); }
    static vec load(const void * p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }
    // for the Winograd kernel (conv-s8-winograd.h)
    static void store(void * p, vec a) { _mm256_storeu_si256(static_cast<__m256i *>(p), a); }
    static vec add32(vec a, vec b) { return _mm256_add_epi32(a, b); }
    static vec sub32(vec a, vec b) { return _mm256_sub_epi32(a, b); }
    static vec quarter(vec a) { return _mm256_srai_epi32(a, 2); }
    static void requantize_store(vec acc, const float * scale, float lo, float hi, int32_t zp, int8_t * out, int n) {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale));
        f = _mm256_min_ps(_mm256_max_ps(f, _mm256_set1_ps(lo)), _mm256_set1_ps(hi));
        const __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(f), _mm256_set1_epi32(zp));  // round half to even
        // in int8 range after the clamp: the saturating packs change nothing
        const __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        const __m128i r8 = _mm_packs_epi16(r16, r16);
        if (n == lanes) {
            _mm_storel_epi64(reinterpret_cast<__m128i *>(out), r8);
            return;
        }
        alignas(16) int8_t b[16];
        _mm_store_si128(reinterpret_cast<__m128i *>(b), r8);
        for (int i = 0; i < n; ++i) {
            out[i] = b[i];
        }
    }
};

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_S8_X86_H
