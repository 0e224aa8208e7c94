// ADD: equal shapes (no broadcasting), fused activation; int8 with TFLite's
// reference fixed-point scheme (left shift 20).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 2) || !v.need_opts(tfl_opt_add) || !v.need_act(ins[0], -1, "input 0") ||
        !v.need_act(ins[1], -1, "input 1") || !v.need_act(out, -1, "output")) {
        return false;
    }
    int act;
    if (!v.opt_i8(0, 0, &act) || !v.in_range("fused activation", act, 0, 3)) {
        return false;
    }
    op.act = act;
    if (v.act_type == tfl_int8) {
        const rt_tensor & a = v.t(ins[0]);
        const rt_tensor & b = v.t(ins[1]);
        const rt_tensor & o = v.t(out);
        op.q8 = true;
        fer_add_params_init(a.scale, b.scale, o.scale, &op.add);
        op.add.in1_zp = a.zp;
        op.add.in2_zp = b.zp;
        op.add.out_zp = o.zp;
        v.set_act_range(op, act, out);
        op.add.act_min = op.act_min;
        op.add.act_max = op.act_max;
    }
    if (v.fits_derived(out) && !v.same_shape_as(out, ins[0])) {
        return false;
    }
    const rt_tensor & a = v.t(ins[0]);
    const rt_tensor & b = v.t(ins[1]);
    const rt_tensor & o = v.t(out);
    bool same = a.rank == b.rank && a.rank == o.rank;
    for (int k = 0; same && k < a.rank; ++k) {
        same = a.dims[k] == b.dims[k] && a.dims[k] == o.dims[k];
    }
    if (!same) {
        return v.fail("%s: shapes %s + %s -> %s differ (broadcasting is not supported)", v.w(),
                      v.shape_str(ins[0]).c_str(), v.shape_str(ins[1]).c_str(), v.shape_str(out).c_str());
    }
    return true;
}

void eval_f32(fer_context * c, const rt_op & op) {
    fer_add_f32__ref(c->model->tensor(op.out).n, c->cptr(op.in[0]), c->cptr(op.in[1]), op.act, c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    fer_add_s8__ref(c->model->tensor(op.out).n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_s8_table(fer_context * c, const rt_op & op) {
    fer_add_s8__table(c->model->tensor(op.out).n, op.add_table.data(), c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
}

void eval_s8_avx2(fer_context * c, const rt_op & op) {
    fer_add_s8__avx2(c->model->tensor(op.out).n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
}
#endif

#ifdef __aarch64__
void eval_s8_lut(fer_context * c, const rt_op & op) {
    fer_add_s8__lut(c->model->tensor(op.out).n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
}
#endif

#ifdef __wasm_simd128__
void eval_s8_wasm128(fer_context * c, const rt_op & op) {
    fer_add_s8__wasm128(c->model->tensor(op.out).n, op.add, c->p8(op.in[0]), c->p8(op.in[1]), c->p8(op.out));
}
#endif

// Below this many elements the table's 64 KiB and its build are not worth it.
constexpr size_t k_table_min_elements = 4096;

void select(fer_model & m, rt_op & op) {
    if (!op.q8) {
        return;
    }
#ifdef __aarch64__
    if (m.kernels.neon) {
        op.eval = eval_s8_lut;
    }
#endif
#ifdef __wasm_simd128__
    // 3.8x the lookup tables under Node (the tables' scalar multiply and
    // clamp per element against 16 elements a step)
    if (m.kernels.wasm128) {
        op.eval = eval_s8_wasm128;
    }
#endif
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2) {
        op.eval = eval_s8_avx2;
        if (m.tensor(op.out).n >= k_table_min_elements) {
            // one load per element against three fixed-point multiplies per 8 in eval_s8_avx2: YuNet's
            // 24x32x64 ADD 96 -> 47 us (pinned; the table, 64 KiB, built once at load in 0.3 ms)
            op.add_table.resize(k_add_s8_table);
            fer_add_s8_table_init(op.add, op.add_table.data());
            op.eval = eval_s8_table;
        }
    }
#endif
}

}  // namespace

const op_def op_add = {tfl_add, "ADD", 4, prepare, eval_f32, eval_s8, select};

}  // namespace fer_rt
