// The AArch64 NEON int8 convolution against its reference twin, cross-compiled
// with aarch64-linux-gnu-g++ -static and run under qemu-aarch64 on x86 hosts
// (tests/CMakeLists.txt, test Arm.KernelsNeonMatchReference). Exit 0 when
// every case is bit-identical.
//
// Output channels around the 4-lane, 8-channel packing and 16-channel block
// edges, odd input channel counts (an unpaired last channel), kernels 1/3/5,
// strides 1-2, dilation 2, SAME/VALID, input and output zero points, a ReLU
// clamp, two batch items on some cases; canaries past the output and past the
// scratch catch writes beyond either.
#include "kernels.h"

#include <cstdio>
#include <random>
#include <vector>

#ifndef __aarch64__
#error "build for AArch64: this checks the NEON kernel"
#endif

namespace {

constexpr int8_t k_out_canary = 77;
constexpr int32_t k_scratch_canary = 0x5a5a5a5a;
constexpr size_t k_canary_len = 16;

struct case_desc {
    int out_c, in_c, k, stride, dil, n;
    bool same;
};

void print_case(const case_desc & c, const fer_rt::quant_params & q, const fer_rt::conv_params & p) {
    std::printf("FAIL out_c %d in_c %d k %d stride %d dil %d batch %d %s in %dx%d out %dx%d in_zp %d out_zp %d "
                "act [%d, %d]: ", c.out_c, c.in_c, c.k, c.stride, c.dil, c.n, c.same ? "SAME" : "VALID", p.in_h,
                p.in_w, p.out_h, p.out_w, q.in_zp, q.out_zp, q.act_min, q.act_max);
}

// One case; true when the NEON output equals the reference's and nothing
// past the output or the scratch was written.
bool run_case(const case_desc & c, std::mt19937 & rng) {
    std::uniform_int_distribution<int> q8(-128, 127), w8(-127, 127), b32(-20000, 20000), zp(-20, 20);
    fer_rt::conv_params p;
    p.n = c.n;
    p.in_h = 7 + static_cast<int>(rng() % 6);
    p.in_w = 6 + static_cast<int>(rng() % 7);
    p.in_c = c.in_c;
    p.out_c = c.out_c;
    p.k_h = p.k_w = c.k;
    p.stride_h = p.stride_w = c.stride;
    p.dil_h = p.dil_w = c.dil;
    fer_rt::fer_window_geometry(p.in_h, c.k, c.stride, c.dil, c.same, &p.out_h, &p.pad_top);
    fer_rt::fer_window_geometry(p.in_w, c.k, c.stride, c.dil, c.same, &p.out_w, &p.pad_left);
    if (p.out_h <= 0 || p.out_w <= 0) {
        return true;  // VALID with a window larger than the input: no output, nothing to compare
    }
    std::vector<int8_t> x(static_cast<size_t>(p.n * p.in_h * p.in_w * p.in_c));
    std::vector<int8_t> w(static_cast<size_t>(p.out_c * p.k_h * p.k_w * p.in_c));
    std::vector<int32_t> b(static_cast<size_t>(p.out_c));
    std::vector<float> sc(static_cast<size_t>(p.out_c));
    for (auto & v : x) v = static_cast<int8_t>(q8(rng));
    for (auto & v : w) v = static_cast<int8_t>(w8(rng));
    for (auto & v : b) v = b32(rng);
    // Scales that bring the sums into and past the int8 range, so the clamp matters too.
    for (size_t i = 0; i < sc.size(); ++i) sc[i] = 0.00002f * static_cast<float>(1 + (i * 7 + c.in_c) % 40);
    fer_rt::quant_params q;
    q.in_zp = zp(rng);
    q.out_zp = zp(rng);
    const bool relu = (c.out_c + c.k) % 3 == 0;
    q.act_min = relu ? q.out_zp : -128;  // a fused ReLU
    q.act_max = relu && c.in_c % 2 ? 100 : 127;
    q.scale = sc.data();

    const size_t oc_pad = static_cast<size_t>(fer_rt::conv_padded_channels(p.out_c));
    std::vector<int16_t> wp(static_cast<size_t>(p.k_h * p.k_w * ((p.in_c + 1) / 2)) * oc_pad * 2);
    std::vector<int32_t> bp(oc_pad);
    std::vector<float> sp(oc_pad);
    fer_rt::fer_conv2d_pack_s8(p, w.data(), b.data(), sc.data(), wp.data(), bp.data(), sp.data());

    const size_t n_out = static_cast<size_t>(p.n * p.out_h * p.out_w * p.out_c);
    const size_t n_scratch = fer_rt::fer_conv2d_s8_scratch(p, 2);
    std::vector<int8_t> ref(n_out + k_canary_len, k_out_canary), got(n_out + k_canary_len, k_out_canary);
    std::vector<int32_t> scratch(n_scratch + k_canary_len, k_scratch_canary);
    fer_rt::fer_conv2d_s8__ref(p, q, x.data(), w.data(), b.data(), ref.data());
    fer_rt::fer_conv2d_s8__neon(p, q, x.data(), wp.data(), bp.data(), sp.data(), got.data(), scratch.data());

    for (size_t i = 0; i < n_out + k_canary_len; ++i) {
        if (got[i] != ref[i]) {
            print_case(c, q, p);
            std::printf("element %zu%s: %d, reference %d\n", i, i >= n_out ? " (past the output: written)" : "",
                        got[i], ref[i]);
            return false;
        }
    }
    for (size_t i = n_scratch; i < scratch.size(); ++i) {
        if (scratch[i] != k_scratch_canary) {
            print_case(c, q, p);
            std::printf("scratch word %zu past the %zu words it may use was written\n", i, n_scratch);
            return false;
        }
    }
    return true;
}

}  // namespace

int main() {
    std::mt19937 rng(20261204);
    int n_cases = 0, n_failed = 0;
    for (int out_c : {1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33, 48, 64, 70}) {
        for (int in_c : {1, 2, 3, 17, 32}) {
            for (int k : {1, 3, 5}) {
                for (int variant = 0; variant < 2; ++variant) {
                    case_desc c;
                    c.out_c = out_c;
                    c.in_c = in_c;
                    c.k = k;
                    c.stride = 1 + (out_c + variant) % 2;
                    c.dil = (k > 1 && (in_c + variant) % 3 == 0) ? 2 : 1;
                    c.same = (in_c + k + out_c + variant) % 2 == 0;
                    c.n = (out_c + in_c + variant) % 5 == 0 ? 2 : 1;
                    ++n_cases;
                    if (!run_case(c, rng)) {
                        ++n_failed;
                    }
                }
            }
        }
    }
    std::printf("[ neon ] %d int8 conv cases, %d differ from the reference\n", n_cases, n_failed);
    return n_failed ? 1 : 0;
}
