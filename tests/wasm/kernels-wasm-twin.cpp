// The WebAssembly SIMD128 int8 convolution and depthwise convolution against their reference twins,
// compiled with em++ -msimd128 and run under Node (tests/CMakeLists.txt, test
// Wasm.KernelsSimd128MatchReference): the cases of tests/kernel-tester.h, the
// same as natively and under qemu-aarch64. Exit 0 when every case is
// bit-identical.
#include "../kernel-tester.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#ifndef __wasm_simd128__
#error "build with -msimd128: this checks the SIMD128 kernels"
#endif

// ADD beyond check_add_s8's cases: random scales over four decades (input
// shifts from 0 down, output shifts either side of 0), random zero points
// and activation ranges, random lengths (every tail of a 16-element step)
// and random data. Returns the number of cases that differ from the reference.
static int check_add_s8_random(const char * name, fer_kernel_test::add_s8_kernel kernel) {
    uint32_t seed = 12345;
    auto rnd = [&]() { seed = seed * 1664525u + 1013904223u; return seed >> 8; };  // 24 bits
    auto uniform = [&]() { return static_cast<double>(rnd()) / 16777216.0; };
    int n_cases = 0, n_failed = 0;
    for (int k = 0; k < 400; ++k) {
        const double s1 = std::pow(10.0, -4.0 + 4.0 * uniform());
        const double s2 = k % 5 == 0 ? s1 : std::pow(10.0, -4.0 + 4.0 * uniform());  // equal: both shifts 0
        // every 11th: an output scale so small that the output multiplier exceeds 1 (a left shift)
        const double s_out = k % 11 == 0 ? std::max(s1, s2) * std::ldexp(1.0 + uniform(), -20 - static_cast<int>(rnd() % 3))
                                         : std::pow(10.0, -4.0 + 4.0 * uniform());
        fer_rt::add_params p;
        fer_rt::fer_add_params_init(s1, s2, s_out, &p);
        p.in1_zp = static_cast<int32_t>(rnd() % 256) - 128;
        p.in2_zp = static_cast<int32_t>(rnd() % 256) - 128;
        p.out_zp = static_cast<int32_t>(rnd() % 256) - 128;
        p.act_min = k % 3 == 0 ? -128 : static_cast<int32_t>(rnd() % 128) - 128;
        p.act_max = k % 4 == 0 ? 127 : p.act_min + static_cast<int32_t>(rnd() % static_cast<uint32_t>(128 - p.act_min));
        const size_t n = k % 7 == 0 ? 4096 + rnd() % 64 : rnd() % 80;
        std::vector<int8_t> a(n), b(n);
        for (size_t i = 0; i < n; ++i) {
            a[i] = static_cast<int8_t>(rnd());
            b[i] = static_cast<int8_t>(rnd());
        }
        std::vector<int8_t> ref(n + 16, 77), got(n + 16, 77);  // a canary past the end
        fer_rt::fer_add_s8__ref(n, p, a.data(), b.data(), ref.data());
        kernel(n, p, a.data(), b.data(), got.data());
        ++n_cases;
        if (ref != got) {
            ++n_failed;
            std::printf("FAIL %s add: scales %g %g %g zp %d %d %d act %d..%d n %zu\n", name, s1, s2, s_out, p.in1_zp,
                        p.in2_zp, p.out_zp, p.act_min, p.act_max, n);
        }
    }
    std::printf("[ %s ] %d random add cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// Every byte value, lengths with every tail, both modes, weights of the
// resamplings (1, box filters' 1/k, bilinear fractions).
int main() {
    const fer_kernel_test::conv_s8_variant wasm = {
        "wasm128", 2, fer_kernel_test::run_int16_pairs<fer_rt::fer_conv2d_s8__wasm128>};
    int conv_failed = fer_kernel_test::check_conv_s8(wasm);
    fer_kernel_test::conv_s8_variant wino = {
        "wasm128 winograd", 2, fer_kernel_test::run_winograd<fer_rt::fer_conv2d_s8_winograd__wasm128>};
    wino.scratch_words = fer_rt::fer_conv2d_s8_winograd_scratch;
    conv_failed += fer_kernel_test::check_conv_s8_winograd(wino);
    const int dw_failed = fer_kernel_test::check_dw_s8("wasm128", fer_rt::fer_dwconv2d_s8__wasm128);
    const int pool_failed = fer_kernel_test::check_maxpool_s8("wasm128", fer_rt::fer_maxpool2d_s8__wasm128);
    const int quantize_failed = fer_kernel_test::check_quantize_s8("wasm128", fer_rt::fer_quantize_s8__wasm128);
    const int add_failed = fer_kernel_test::check_add_s8("lut", fer_rt::fer_add_s8__lut) +
                           fer_kernel_test::check_add_s8("wasm128", fer_rt::fer_add_s8__wasm128) +
                           check_add_s8_random("wasm128", fer_rt::fer_add_s8__wasm128);
    const int conv_f32_failed = fer_kernel_test::check_conv_f32("wasm128", fer_rt::fer_conv2d_f32__wasm128);
    const int scale_add_failed = fer_kernel_test::check_scale_add_u8("wasm128", fer_rt::fer_scale_add_u8__wasm128);
    const int dw_f32_failed = fer_kernel_test::check_dw_f32("wasm128", fer_rt::fer_dwconv2d_f32__wasm128, true);
    return conv_failed || dw_failed || pool_failed || quantize_failed || add_failed || conv_f32_failed ||
                   dw_f32_failed || scale_add_failed
               ? 1
               : 0;
}
