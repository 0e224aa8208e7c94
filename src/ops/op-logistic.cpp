// LOGISTIC: 1 / (1 + exp(-x)), float32 only (a model dequantizes first: a
// detector's scores are few).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op &) {
    if (!v.n_inputs(1, 1) || !v.need_type(v.ins[0], tfl_float32, -1, "input") ||
        !v.need_type(v.out, tfl_float32, -1, "output")) {
        return false;
    }
    return v.same_shape_as(v.out, v.ins[0]);
}

void eval_f32(fer_context * c, const rt_op & op) {
    fer_logistic_f32__ref(c->model->tensor(op.out).n, c->cptr(op.in[0]), c->ptr(op.out));
}

}  // namespace

const op_def op_logistic = {tfl_logistic, "LOGISTIC", 3, prepare, eval_f32, nullptr, nullptr};

}  // namespace fer_rt
