// QUANTIZE: float32 -> int8, round half away from zero (a NaN meets no
// undefined conversion).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

bool prepare_quantize_like(op_verifier & v, rt_op & op, bool quant) {
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(1, 1) || !v.need_type(ins[0], quant ? tfl_float32 : tfl_int8, -1, "input") ||
        !v.need_type(out, quant ? tfl_int8 : tfl_float32, -1, "output")) {
        return false;
    }
    if (!v.same_shape_as(out, ins[0])) {
        return false;
    }
    const rt_tensor & q = quant ? v.t(out) : v.t(ins[0]);
    if (q.scales.size() != 1) {
        return v.fail("%s: '%s' needs one (per-tensor) scale", v.w(), q.name.c_str());
    }
    op.qscale = q.scale;
    op.qzp = q.zp;
    return true;
}

namespace {

bool prepare(op_verifier & v, rt_op & op) { return prepare_quantize_like(v, op, true); }

void eval(fer_context * c, const rt_op & op) {
    fer_quantize_s8__ref(c->model->tensor(op.out).n, op.qscale, op.qzp, c->cptr(op.in[0]), c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_avx2(fer_context * c, const rt_op & op) {
    fer_quantize_s8__avx2(c->model->tensor(op.out).n, op.qscale, op.qzp, c->cptr(op.in[0]), c->p8(op.out));
}
#endif

#ifdef __wasm_simd128__
void eval_wasm128(fer_context * c, const rt_op & op) {
    fer_quantize_s8__wasm128(c->model->tensor(op.out).n, op.qscale, op.qzp, c->cptr(op.in[0]), c->p8(op.out));
}
#endif

void select(fer_model & m, rt_op & op) {
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2) {
        op.eval = eval_avx2;
    }
#endif
#ifdef __wasm_simd128__
    if (m.kernels.wasm128) {
        op.eval = eval_wasm128;
    }
#endif
    (void)m;
    (void)op;
}

}  // namespace

// Its input is float32: the float32 slot runs it.
const op_def op_quantize = {tfl_quantize, "QUANTIZE", 3, prepare, eval, nullptr, select};

}  // namespace fer_rt
