// The AArch64 NEON int8 convolution against its reference twin, cross-compiled
// with aarch64-linux-gnu-g++ -static and run under qemu-aarch64 on x86 hosts
// (tests/CMakeLists.txt, test Arm.KernelsNeonMatchReference): the cases of
// tests/kernel-tester.h, the same as natively and under WebAssembly. Exit 0
// when every case is bit-identical.
#include "../kernel-tester.h"

#ifndef __aarch64__
#error "build for AArch64: this checks the NEON kernel"
#endif

int main() {
    const fer_kernel_test::conv_s8_variant neon = {
        "neon", 2, fer_kernel_test::run_int16_pairs<fer_rt::fer_conv2d_s8__neon>};
    return fer_kernel_test::check_conv_s8(neon) ? 1 : 0;
}
