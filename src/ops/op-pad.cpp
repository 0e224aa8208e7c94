// PAD: constant padding of a rank-4 NHWC tensor with [4,2] constant
// paddings; float32 fills with 0.0, int8 with its zero point (the value 0.0).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 2) || !v.need_act(ins[0], 4, "input") || !v.need_act(out, 4, "output") ||
        !v.need_const(ins[1], "paddings") || !v.same_quant(ins[0], out)) {
        return false;
    }
    const rt_tensor & pd = v.t(ins[1]);
    if (pd.type != tfl_int32 || pd.rank != 2 || pd.dims[0] != 4 || pd.dims[1] != 2) {
        return v.fail("%s: paddings '%s' must be INT32 [4,2], is %s %s", v.w(), pd.name.c_str(),
                      tflite_type_name(pd.type), v.shape_str(ins[1]).c_str());
    }
    const int32_t * pv = static_cast<const int32_t *>(v.m.data(pd));
    const rt_tensor & x = v.t(ins[0]);
    int d[4];
    for (int k = 0; k < 4; ++k) {
        if (!v.in_range("padding", pv[2 * k], 0, k_max_dim_param) ||
            !v.in_range("padding", pv[2 * k + 1], 0, k_max_dim_param)) {
            return false;
        }
        op.pad_before[k] = pv[2 * k];
        op.pad_after[k] = pv[2 * k + 1];
        d[k] = x.dims[k] + pv[2 * k] + pv[2 * k + 1];
    }
    op.q8 = v.act_type == tfl_int8;
    return v.need_shape(out, {d[0], d[1], d[2], d[3]});
}

// Moves elements only: one kernel for float32 and int8.
void eval(fer_context * c, const rt_op & op) {
    const rt_tensor & x = c->model->tensor(op.in[0]);
    const float zero = 0.0f;
    const int8_t zp = static_cast<int8_t>(x.zp);  // an int8 pad fills with the value 0.0 (its zero point)
    fer_pad__ref(x.dims, op.pad_before, op.pad_after, static_cast<size_t>(x.elem),
                 x.type == tfl_int8 ? static_cast<const void *>(&zp) : &zero, c->raw(op.in[0]), c->raw(op.out));
}

}  // namespace

const op_def op_pad = {tfl_pad, "PAD", 4, prepare, eval, eval, nullptr};

}  // namespace fer_rt
