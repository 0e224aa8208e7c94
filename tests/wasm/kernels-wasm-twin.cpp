// The WebAssembly SIMD128 int8 convolution and depthwise convolution against their reference twins,
// compiled with em++ -msimd128 and run under Node (tests/CMakeLists.txt, test
// Wasm.KernelsSimd128MatchReference): the cases of tests/kernel-tester.h, the
// same as natively and under qemu-aarch64. Exit 0 when every case is
// bit-identical.
#include "../kernel-tester.h"

#ifndef __wasm_simd128__
#error "build with -msimd128: this checks the SIMD128 kernels"
#endif

int main() {
    const fer_kernel_test::conv_s8_variant wasm = {
        "wasm128", 2, fer_kernel_test::run_int16_pairs<fer_rt::fer_conv2d_s8__wasm128>};
    const int conv_failed = fer_kernel_test::check_conv_s8(wasm);
    const int dw_failed = fer_kernel_test::check_dw_s8("wasm128", fer_rt::fer_dwconv2d_s8__wasm128);
    const int pool_failed = fer_kernel_test::check_maxpool_s8("wasm128", fer_rt::fer_maxpool2d_s8__wasm128);
    const int quantize_failed = fer_kernel_test::check_quantize_s8("wasm128", fer_rt::fer_quantize_s8__wasm128);
    const int add_failed = fer_kernel_test::check_add_s8("lut", fer_rt::fer_add_s8__lut);
    const int conv_f32_failed = fer_kernel_test::check_conv_f32("wasm128", fer_rt::fer_conv2d_f32__wasm128);
    const int dw_f32_failed = fer_kernel_test::check_dw_f32("wasm128", fer_rt::fer_dwconv2d_f32__wasm128, true);
    return conv_failed || dw_failed || pool_failed || quantize_failed || add_failed || conv_f32_failed ||
                   dw_f32_failed
               ? 1
               : 0;
}
