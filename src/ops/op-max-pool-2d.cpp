// MAX_POOL_2D: SAME/VALID, strides, fused activation; float32 and int8
// (input and output share their quantisation).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

bool prepare_pool(op_verifier & v, rt_op & op) {
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(1, 1) || !v.need_opts(tfl_opt_pool_2d) || !v.need_act(ins[0], 4, "input") ||
        !v.need_act(out, 4, "output") || !v.same_quant(ins[0], out)) {
        return false;
    }
    int padding, sw, sh, fw, fh, act;
    if (!v.opt_i8(0, 0, &padding) || !v.opt_i32(1, 0, &sw) || !v.opt_i32(2, 0, &sh) || !v.opt_i32(3, 0, &fw) ||
        !v.opt_i32(4, 0, &fh) || !v.opt_i8(5, 0, &act)) {
        return false;
    }
    if (!v.in_range("padding", padding, 0, 1) || !v.in_range("stride_w", sw, 1, k_max_dim_param) ||
        !v.in_range("stride_h", sh, 1, k_max_dim_param) || !v.in_range("filter_width", fw, 1, k_max_dim_param) ||
        !v.in_range("filter_height", fh, 1, k_max_dim_param) || !v.in_range("fused activation", act, 0, 3)) {
        return false;
    }
    const rt_tensor & x = v.t(ins[0]);
    pool_params & p = op.pool;
    p.n = x.dims[0];
    p.in_h = x.dims[1];
    p.in_w = x.dims[2];
    p.c = x.dims[3];
    p.f_h = fh;
    p.f_w = fw;
    p.stride_h = sh;
    p.stride_w = sw;
    p.act = act;
    if (!v.geometry("vertical", p.in_h, fh, sh, 1, padding == 0, &p.out_h, &p.pad_top) ||
        !v.geometry("horizontal", p.in_w, fw, sw, 1, padding == 0, &p.out_w, &p.pad_left)) {
        return false;
    }
    if (v.act_type == tfl_int8) {
        op.q8 = true;
        v.set_act_range(op, act, out);
    }
    return v.need_shape(out, {p.n, p.out_h, p.out_w, p.c});
}

namespace {

void eval_f32(fer_context * c, const rt_op & op) { fer_maxpool2d_f32__ref(op.pool, c->cptr(op.in[0]), c->ptr(op.out)); }

void eval_s8(fer_context * c, const rt_op & op) {
    fer_maxpool2d_s8__ref(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_s8_avx2(fer_context * c, const rt_op & op) {
    fer_maxpool2d_s8__avx2(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out));
}
#endif

#ifdef __wasm_simd128__
void eval_s8_wasm128(fer_context * c, const rt_op & op) {
    fer_maxpool2d_s8__wasm128(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out));
}
#endif

void select(fer_model & m, rt_op & op) {
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2 && op.q8) {
        op.eval = eval_s8_avx2;
    }
#endif
#ifdef __wasm_simd128__
    if (m.kernels.wasm128 && op.q8) {
        op.eval = eval_s8_wasm128;
    }
#endif
    (void)m;
    (void)op;
}

}  // namespace

const op_def op_max_pool_2d = {tfl_max_pool_2d, "MAX_POOL_2D", 3, prepare_pool, eval_f32, eval_s8, select};

}  // namespace fer_rt
