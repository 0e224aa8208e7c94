// AVERAGE_POOL_2D: as MAX_POOL_2D (whose prepare it shares); divides by the
// window cells inside the input, int8 rounds half away from zero (TFLite).
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

void eval_f32(fer_context * c, const rt_op & op) { fer_avgpool2d_f32__ref(op.pool, c->cptr(op.in[0]), c->ptr(op.out)); }

void eval_s8(fer_context * c, const rt_op & op) {
    fer_avgpool2d_s8__ref(op.pool, op.act_min, op.act_max, c->p8(op.in[0]), c->p8(op.out));
}

}  // namespace

const op_def op_average_pool_2d = {tfl_average_pool_2d, "AVERAGE_POOL_2D", 3, prepare_pool, eval_f32, eval_s8,
                                   nullptr};

}  // namespace fer_rt
