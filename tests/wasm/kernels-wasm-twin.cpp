// The WebAssembly SIMD128 kernels against their reference twins, compiled with
// em++ -msimd128 and run under Node (tests/CMakeLists.txt, test
// Wasm.KernelsSimd128MatchReference). Exit 0 when every case is bit-identical.
//
// int8 convolution: output channels at and around the 4- and 8-lane and
// 32-channel block edges, odd input channel counts (an unpaired last channel),
// kernels 1 and 3, strides 1-2, dilation 2, SAME/VALID, a ReLU clamp, input
// zero points, a batch of two (the scratch is refilled per item); canaries past
// the output and past the scratch (fer_conv2d_s8_scratch words) catch writes
// beyond them.
#include "kernels.h"

#include <cstdio>
#include <random>
#include <vector>

#ifndef __wasm_simd128__
#error "build with -msimd128: this checks the SIMD128 kernels"
#endif

int main() {
    std::mt19937 rng(20261128);
    std::uniform_int_distribution<int> q8(-128, 127), w8(-127, 127), b32(-5000, 5000);
    int n_cases = 0, n_failed = 0;
    for (int out_c : {1, 3, 4, 5, 8, 9, 20, 31, 33, 64, 70}) {
        for (int in_c : {1, 2, 3, 17, 32}) {
            for (int k : {1, 3}) {
                fer_rt::conv_params p;
                p.n = 1 + (out_c + in_c + k) % 2;
                p.in_h = 9 + in_c % 4;
                p.in_w = 8 + out_c % 3;
                p.in_c = in_c;
                p.out_c = out_c;
                p.k_h = p.k_w = k;
                p.stride_h = p.stride_w = 1 + (out_c % 2);
                p.dil_h = p.dil_w = (in_c == 3 && k == 3) ? 2 : 1;
                const bool same = (in_c + k + out_c) % 2 == 0;
                fer_rt::fer_window_geometry(p.in_h, k, p.stride_h, p.dil_h, same, &p.out_h, &p.pad_top);
                fer_rt::fer_window_geometry(p.in_w, k, p.stride_w, p.dil_w, same, &p.out_w, &p.pad_left);
                std::vector<int8_t> x(static_cast<size_t>(p.n * p.in_h * p.in_w * in_c)), w(static_cast<size_t>(out_c * k * k * in_c));
                std::vector<int32_t> b(static_cast<size_t>(out_c));
                std::vector<float> sc(static_cast<size_t>(out_c));
                for (auto & v : x) v = int8_t(q8(rng));
                for (auto & v : w) v = int8_t(w8(rng));
                for (auto & v : b) v = b32(rng);
                for (size_t c = 0; c < sc.size(); ++c) sc[c] = 0.0005f * float(1 + c % 5);
                fer_rt::quant_params q;
                q.in_zp = -5 + in_c % 7;
                q.out_zp = 3;
                q.act_min = (out_c % 2) ? q.out_zp : -128;  // a fused ReLU on odd channel counts
                q.scale = sc.data();
                const size_t oc_pad = size_t(fer_rt::conv_padded_channels(out_c));
                std::vector<int16_t> wp(size_t(k * k * ((in_c + 1) / 2)) * oc_pad * 2);
                std::vector<int32_t> bp(oc_pad);
                std::vector<float> sp(oc_pad);
                fer_rt::fer_conv2d_pack_s8(p, w.data(), b.data(), sc.data(), wp.data(), bp.data(), sp.data());
                const size_t n_out = size_t(p.n * p.out_h * p.out_w * out_c);
                std::vector<int8_t> ref(n_out + 8, 77), got(n_out + 8, 77);
                const size_t n_scratch = fer_rt::fer_conv2d_s8_scratch(p, 2);
                std::vector<int32_t> scratch(n_scratch + 4, 0x5a5a5a5a);
                fer_rt::fer_conv2d_s8__ref(p, q, x.data(), w.data(), b.data(), ref.data());
                fer_rt::fer_conv2d_s8__wasm128(p, q, x.data(), wp.data(), bp.data(), sp.data(), got.data(),
                                               scratch.data());
                for (size_t i = n_scratch; i < scratch.size(); ++i) {
                    if (scratch[i] != 0x5a5a5a5a) {
                        std::printf("FAIL int8 conv out_c %d in_c %d k %d: scratch word %zu past its %zu written\n",
                                    out_c, in_c, k, i, n_scratch);
                        ++n_failed;
                        break;
                    }
                }
                for (size_t i = 0; i < n_out + 8; ++i) {
                    if (got[i] != ref[i]) {
                        std::printf("FAIL int8 conv out_c %d in_c %d k %d stride %d dil %d %s: element %zu%s: %d, "
                                    "reference %d\n", out_c, in_c, k, p.stride_h, p.dil_h, same ? "SAME" : "VALID", i,
                                    i >= n_out ? " (past the end: written)" : "", got[i], ref[i]);
                        ++n_failed;
                        break;
                    }
                }
                ++n_cases;
            }
        }
    }
    std::printf("[ wasm128 ] %d int8 conv cases, %d differ from the reference\n", n_cases, n_failed);
    return n_failed ? 1 : 0;
}
