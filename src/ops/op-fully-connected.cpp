// FULLY_CONNECTED: [out,in] weights, default weights format, keep_num_dims;
// float32 (AVX2+FMA variant) and int8.
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const char * w = v.w();
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 3) || !v.need_opts(tfl_opt_fully_connected) || !v.need_act(ins[0], -1, "input") ||
        !v.need_weights(ins[1], 2, "weights") || !v.need_const(ins[1], "weights") || !v.need_act(out, -1, "output")) {
        return false;
    }
    int act, fmt, keep;
    if (!v.opt_i8(0, 0, &act) || !v.opt_i8(1, 0, &fmt) || !v.opt_i8(2, 0, &keep) ||
        !v.in_range("fused activation", act, 0, 3)) {
        return false;
    }
    if (fmt != 0) {
        return v.fail("%s: shuffled weights format %d is not supported", w, fmt);
    }
    const rt_tensor & x = v.t(ins[0]);
    const rt_tensor & wt = v.t(ins[1]);
    op.act = act;
    op.fc_out = wt.dims[0];
    op.fc_in = wt.dims[1];
    if (x.n % static_cast<size_t>(op.fc_in) != 0 || (keep && x.dims[x.rank - 1] != op.fc_in)) {
        return v.fail("%s: input '%s' %s does not divide into rows of %d (weights '%s' %s)", w, x.name.c_str(),
                      v.shape_str(ins[0]).c_str(), op.fc_in, wt.name.c_str(), v.shape_str(ins[1]).c_str());
    }
    op.fc_batch = static_cast<int>(x.n / static_cast<size_t>(op.fc_in));
    if (ins.size() == 3 && ins[2] >= 0) {
        if (!v.need_bias(ins[2]) || !v.need_const(ins[2], "bias")) {
            return false;
        }
        if (v.t(ins[2]).dims[0] != op.fc_out) {
            return v.fail("%s: bias '%s' has %d values for %d outputs", w, v.tname(ins[2]).c_str(), v.t(ins[2]).dims[0],
                          op.fc_out);
        }
    } else {
        op.in[2] = -1;
    }
    if (v.fits_derived(out)) {
        const int d[2] = {op.fc_batch, op.fc_out};
        if (!v.set_shape(out, d, 2)) {
            return false;
        }
    }
    const rt_tensor & o = v.t(out);
    if (o.n != static_cast<size_t>(op.fc_batch) * static_cast<size_t>(op.fc_out) || o.dims[o.rank - 1] != op.fc_out) {
        return v.fail("%s: output '%s' has shape %s, expected %d rows of %d", w, o.name.c_str(),
                      v.shape_str(out).c_str(), op.fc_batch, op.fc_out);
    }
    if (v.act_type == tfl_int8) {
        if (!v.set_requant(op, ins[0], ins[1], op.in[2], out, op.fc_out, 0)) {
            return false;
        }
        v.set_act_range(op, act, out);
    }
    return true;
}

void eval_f32(fer_context * c, const rt_op & op) {
    fer_fc_f32__ref(op.fc_batch, op.fc_in, op.fc_out, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]),
                    op.act, c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    fer_fc_s8__ref(op.fc_batch, op.fc_in, op.fc_out, op_quant(op), c->p8(op.in[0]), c->p8(op.in[1]),
                   c->opt_s32(op.in[2]), c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_f32_avx2(fer_context * c, const rt_op & op) {
    fer_fc_f32__avx2(op.fc_batch, op.fc_in, op.fc_out, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]),
                     op.act, c->ptr(op.out));
}
#endif

void select(fer_model & m, rt_op & op) {
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2 && !op.q8) {
        op.eval = eval_f32_avx2;
    }
#else
    (void)m;
    (void)op;
#endif
}

}  // namespace

const op_def op_fully_connected = {tfl_fully_connected, "FULLY_CONNECTED", 9, prepare, eval_f32, eval_s8, select};

}  // namespace fer_rt
