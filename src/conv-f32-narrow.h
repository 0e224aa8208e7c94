// The float32 convolution for narrow layers (few output channels, e.g.
// YuNet's head: 1-10 outputs from 64 inputs): vectors over input channels
// instead of output channels, whose blocks would be mostly padding there. The
// file's OHWI weights as they are (each tap's input channels are contiguous in
// the input and in the weights). Four output channels at a time share each
// input load and give eight independent add chains (two per channel); their four vectors are
// reduced together (one lane-crossing tree, not four). A last group of fewer
// channels repeats the last channel's weights and stores only its own. One
// loop for every ISA: kernels-avx2.cpp and kernels-wasm.cpp instantiate it
// with a policy giving
//   vec, lanes              the vector type and its float count
//   zero(), load(p)         an all-zero vector, an unaligned load
//   madd(acc, x, k)         acc + x * k (fused where the ISA has it)
//   add(a, b)               a + b
//   sums4(a, s)             s[j] = the sum of a[j]'s lanes, j < 4
//   madd1(acc, x, k)        acc + x * k for one float (the tail of input channels)
// The result differs from fer_conv2d_f32__ref by float rounding only.
#ifndef FER_CONV_F32_NARROW_H
#define FER_CONV_F32_NARROW_H

#include "kernels.h"

namespace fer_rt {
namespace {

template <class Isa>
void conv_f32_narrow(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    constexpr int L = Isa::lanes;
    const int ic_vec = p.in_c / (2 * L) * (2 * L), taps = p.k_h * p.k_w;
    const size_t oc_stride = static_cast<size_t>(taps) * static_cast<size_t>(p.in_c);
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c;
                for (int oc = 0; oc < p.out_c; oc += 4) {
                    const float * k_oc[4];
                    for (int j = 0; j < 4; ++j) {
                        k_oc[j] = w + static_cast<size_t>(oc + j < p.out_c ? oc + j : p.out_c - 1) * oc_stride;
                    }
                    // two accumulators per channel: eight add chains, half as long
                    typename Isa::vec acc[4], acc2[4];
                    for (int j = 0; j < 4; ++j) {
                        acc[j] = acc2[j] = Isa::zero();
                    }
                    float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                    for_each_window_tap(p, in, b, oy, ox, [&](const float * x, int t) {
                        const size_t tap_at = static_cast<size_t>(t) * p.in_c;
                        for (int ic = 0; ic < ic_vec; ic += 2 * L) {
                            const typename Isa::vec x0 = Isa::load(x + ic), x1 = Isa::load(x + ic + L);
                            for (int j = 0; j < 4; ++j) {
                                acc[j] = Isa::madd(acc[j], x0, Isa::load(k_oc[j] + tap_at + ic));
                                acc2[j] = Isa::madd(acc2[j], x1, Isa::load(k_oc[j] + tap_at + ic + L));
                            }
                        }
                        for (int ic = ic_vec; ic < p.in_c; ++ic) {
                            for (int j = 0; j < 4; ++j) {
                                tail[j] = Isa::madd1(tail[j], x[ic], k_oc[j][tap_at + ic]);
                            }
                        }
                    });
                    for (int j = 0; j < 4; ++j) {
                        acc[j] = Isa::add(acc[j], acc2[j]);
                    }
                    float s[4];
                    Isa::sums4(acc, s);
                    for (int j = 0; j < 4 && oc + j < p.out_c; ++j) {
                        o[oc + j] = activate_f32((bias ? bias[oc + j] : 0.0f) + (s[j] + tail[j]), p.act);
                    }
                }
            }
        }
    }
}

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_F32_NARROW_H
