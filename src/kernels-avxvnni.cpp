// AVX-VNNI int8 convolution: four unsigned x signed byte products per int32
// lane and instruction (_mm256_dpbusd_avx_epi32), twice the int16 path's.
// Compiled with -mavx2 -mfma -mavxvnni for this file only (src/CMakeLists.txt)
// and called only when the CPU has AVX-VNNI (checked once, src/model.cpp);
// reference twin fer_conv2d_s8__ref, test Kernels.Avx2MatchesReference.
#include "conv-s8-x86.h"
#include "kernels.h"

#include <immintrin.h>

namespace fer_rt {

namespace {

// Input bytes as unsigned x + 128 (the weights' sum times 128 + zero point
// is taken out of the bias at packing); padding is the zero point.
struct isa_avxvnni : isa_x86_256 {
    static constexpr int k_per_word = 4;
    static int32_t fill_word(const int8_t * x, int n, int) {
        uint32_t word = 0;
        for (int j = 0; j < n; ++j) {
            word |= static_cast<uint32_t>(static_cast<uint8_t>(x[j] + 128)) << (8 * j);
        }
        return static_cast<int32_t>(word);
    }
    static int32_t pad_word(int zp) {
        const uint32_t b = static_cast<uint8_t>(zp + 128);
        return static_cast<int32_t>(b | b << 8 | b << 16 | b << 24);
    }
    static __m256i dot(__m256i acc, __m256i x, __m256i w) { return _mm256_dpbusd_avx_epi32(acc, x, w); }
};

}  // namespace

void fer_conv2d_s8__avxvnni(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w_packed,
                            const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    conv_s8<isa_avxvnni>(p, q, in, reinterpret_cast<const int32_t *>(w_packed), bias_padded, scale_padded, out,
                         scratch);
}

}  // namespace fer_rt
