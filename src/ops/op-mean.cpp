// MEAN: any constant axes, keep_dims or not; int8 requantises in float32
// (XNNPACK's global average pooling).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const char * w = v.w();
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 2) || !v.need_opts(tfl_opt_reducer) || !v.need_act(ins[0], -1, "input") ||
        !v.need_act(out, -1, "output") || !v.need_const(ins[1], "axes")) {
        return false;
    }
    op.q8 = v.act_type == tfl_int8;
    const rt_tensor & x = v.t(ins[0]);
    const rt_tensor & a = v.t(ins[1]);
    if (a.type != tfl_int32 || a.rank > 1) {
        return v.fail("%s: axes '%s' must be an INT32 vector", w, a.name.c_str());
    }
    const int32_t * axes = static_cast<const int32_t *>(v.m.data(a));
    unsigned mask = 0;
    for (size_t k = 0; k < a.n; ++k) {
        int ax = axes[k];
        if (ax < -x.rank || ax >= x.rank) {
            return v.fail("%s: axis %d is out of range for input rank %d", w, ax, x.rank);
        }
        mask |= 1u << (ax < 0 ? ax + x.rank : ax);
    }
    int keep;
    if (!v.opt_i8(0, 0, &keep)) {
        return false;
    }
    op.axes_mask = mask;
    int want[4], r = 0;
    for (int k = 0; k < x.rank; ++k) {
        if (!(mask & (1u << k))) {
            want[r++] = x.dims[k];
        } else if (keep) {
            want[r++] = 1;
        }
    }
    if (v.fits_derived(out) && !v.set_shape(out, want, r)) {
        return false;
    }
    const rt_tensor & o = v.t(out);
    bool ok = o.rank == r;
    for (int k = 0; ok && k < r; ++k) {
        ok = o.dims[k] == want[k];
    }
    if (!ok) {
        return v.fail("%s: output '%s' has shape %s, which is not the mean of %s over the axes", w, o.name.c_str(),
                      v.shape_str(out).c_str(), v.shape_str(ins[0]).c_str());
    }
    return true;
}

void eval_f32(fer_context * c, const rt_op & op) {
    const rt_tensor & x = c->model->tensor(op.in[0]);
    fer_mean_f32__ref(x.dims, x.rank, op.axes_mask, c->cptr(op.in[0]), c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    const rt_tensor & x = c->model->tensor(op.in[0]);
    const rt_tensor & o = c->model->tensor(op.out);
    fer_mean_s8__ref(x.dims, x.rank, op.axes_mask, x.zp, x.scale, o.zp, o.scale, c->p8(op.in[0]), c->p8(op.out));
}

}  // namespace

const op_def op_mean = {tfl_mean, "MEAN", 3, prepare, eval_f32, eval_s8, nullptr};

}  // namespace fer_rt
