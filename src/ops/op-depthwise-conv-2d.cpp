// DEPTHWISE_CONV_2D: [1,kh,kw,C*multiplier] weights, depth multiplier,
// otherwise as CONV_2D (whose prepare it shares). AVX2 variants for float32
// and int8 when the multiplier is 1 and the window has at most k_dw_max_taps taps.
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) { return prepare_convolution(v, op, true); }

void eval_f32(fer_context * c, const rt_op & op) {
    fer_dwconv2d_f32__ref(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    fer_dwconv2d_s8__ref(op.conv, op_quant(op), c->p8(op.in[0]), c->p8(op.in[1]), c->opt_s32(op.in[2]),
                         c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_f32_avx2(fer_context * c, const rt_op & op) {
    fer_dwconv2d_f32__avx2(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}
void eval_s8_avx2(fer_context * c, const rt_op & op) {
    fer_dwconv2d_s8__avx2(op.conv, op_quant(op), c->p8(op.in[0]), c->p8(op.in[1]), c->opt_s32(op.in[2]),
                          c->p8(op.out));
}
#endif
#ifdef __wasm_simd128__
void eval_f32_wasm128(fer_context * c, const rt_op & op) {
    fer_dwconv2d_f32__wasm128(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}
void eval_s8_wasm128(fer_context * c, const rt_op & op) {
    fer_dwconv2d_s8__wasm128(op.conv, op_quant(op), c->p8(op.in[0]), c->p8(op.in[1]), c->opt_s32(op.in[2]),
                             c->p8(op.out));
}
#endif

void select(fer_model & m, rt_op & op) {
    const bool simd_shape = op.conv.depth_multiplier == 1 && op.conv.k_h * op.conv.k_w <= k_dw_max_taps;
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2 && simd_shape) {
        op.eval = op.q8 ? eval_s8_avx2 : eval_f32_avx2;
    }
#endif
#ifdef __wasm_simd128__
    if (m.kernels.wasm128 && simd_shape) {
        op.eval = op.q8 ? eval_s8_wasm128 : eval_f32_wasm128;
    }
#endif
    (void)m;
    (void)op;
    (void)simd_shape;
}

}  // namespace

const op_def op_depthwise_conv_2d = {tfl_depthwise_conv_2d, "DEPTHWISE_CONV_2D", 6, prepare, eval_f32, eval_s8, select};

}  // namespace fer_rt
