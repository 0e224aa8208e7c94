// DEQUANTIZE: int8 -> float32 (shares QUANTIZE's prepare).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) { return prepare_quantize_like(v, op, false); }

void eval(fer_context * c, const rt_op & op) {
    fer_dequantize_s8__ref(c->model->tensor(op.out).n, op.qscale, op.qzp, c->p8(op.in[0]), c->ptr(op.out));
}

}  // namespace

// Its input is int8: the int8 slot runs it.
const op_def op_dequantize = {tfl_dequantize, "DEQUANTIZE", 5, prepare, nullptr, eval, nullptr};

}  // namespace fer_rt
