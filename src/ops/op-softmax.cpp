// SOFTMAX: along the last axis, beta; the int8 output must be 1/256, -128
// (TFLite's requirement), computed in double and rounded to that grid.
#include "ops/ops.h"

#include <cmath>

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const char * w = v.w();
    const int in = v.n_inputs(1, 1) ? v.ins[0] : -1;
    const int out = v.out;
    if (in < 0 || !v.need_opts(tfl_opt_softmax) || !v.need_act(in, -1, "input") || !v.need_act(out, -1, "output")) {
        return false;
    }
    if (v.act_type == tfl_int8) {
        const rt_tensor & o = v.t(out);
        if (o.scale != 1.0f / 256.0f || o.zp != -128) {
            return v.fail("%s: int8 output '%s' must have scale 1/256 and zero point -128 (has %g, %d)", w,
                          o.name.c_str(), static_cast<double>(o.scale), o.zp);
        }
        op.q8 = true;
        op.qscale = v.t(in).scale;
    }
    float beta;
    if (!v.opt_f32(0, 0.0f, &beta)) {
        return false;
    }
    if (!std::isfinite(beta) || beta <= 0.0f) {
        return v.fail("%s: beta %g is not a positive number", w, static_cast<double>(beta));
    }
    op.beta = beta;
    const rt_tensor & x = v.t(in);
    if (x.rank < 1 || !v.same_shape_as(out, in)) {
        return x.rank < 1 ? v.fail("%s: input '%s' is a scalar", w, x.name.c_str()) : false;
    }
    op.fc_in = x.dims[x.rank - 1];
    op.fc_batch = static_cast<int>(x.n / static_cast<size_t>(op.fc_in));
    return true;
}

void eval_f32(fer_context * c, const rt_op & op) {
    fer_softmax_f32__ref(op.fc_batch, op.fc_in, op.beta, c->cptr(op.in[0]), c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    fer_softmax_s8__ref(op.fc_batch, op.fc_in, op.beta, op.qscale, c->p8(op.in[0]), c->p8(op.out));
}

}  // namespace

const op_def op_softmax = {tfl_softmax, "SOFTMAX", 3, prepare, eval_f32, eval_s8, nullptr};

}  // namespace fer_rt
