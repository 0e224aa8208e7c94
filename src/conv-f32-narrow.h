// The float32 convolution for narrow layers (few output channels, e.g.
// YuNet's head: 1-10 outputs from 64 inputs): vectors over input channels
// instead of output channels, whose blocks would be mostly padding there. The
// file's OHWI weights as they are (each tap's input channels are contiguous in
// the input and in the weights); two accumulators halve the add chain. One
// loop for every ISA: kernels-avx2.cpp and kernels-wasm.cpp instantiate it
// with a policy giving
//   vec, lanes              the vector type and its float count
//   zero(), load(p)         an all-zero vector, an unaligned load
//   madd(acc, x, k)         acc + x * k (fused where the ISA has it)
//   sum(a, b)               the sum of both vectors' lanes
//   madd1(acc, x, k)        the same for one float (the tail of input channels)
// The result differs from fer_conv2d_f32__ref by float rounding only.
#ifndef FER_CONV_F32_NARROW_H
#define FER_CONV_F32_NARROW_H

#include "kernels.h"

namespace fer_rt {
namespace {

template <class Isa>
void conv_f32_narrow(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    constexpr int step = 2 * Isa::lanes;
    const int ic_vec = p.in_c / step * step, taps = p.k_h * p.k_w;
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c;
                for (int oc = 0; oc < p.out_c; ++oc) {
                    const float * k_oc = w + static_cast<size_t>(oc) * taps * p.in_c;
                    typename Isa::vec a0 = Isa::zero(), a1 = Isa::zero();
                    float tail = 0.0f;
                    for_each_window_tap(p, in, b, oy, ox, [&](const float * x, int t) {
                        const float * k = k_oc + static_cast<size_t>(t) * p.in_c;
                        for (int ic = 0; ic < ic_vec; ic += step) {
                            a0 = Isa::madd(a0, Isa::load(x + ic), Isa::load(k + ic));
                            a1 = Isa::madd(a1, Isa::load(x + ic + Isa::lanes), Isa::load(k + ic + Isa::lanes));
                        }
                        for (int ic = ic_vec; ic < p.in_c; ++ic) {
                            tail = Isa::madd1(tail, x[ic], k[ic]);
                        }
                    });
                    o[oc] = activate_f32((bias ? bias[oc] : 0.0f) + (Isa::sum(a0, a1) + tail), p.act);
                }
            }
        }
    }
}

}  // namespace
}  // namespace fer_rt

#endif  // FER_CONV_F32_NARROW_H
