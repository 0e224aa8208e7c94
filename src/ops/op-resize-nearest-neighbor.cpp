// RESIZE_NEAREST_NEIGHBOR: constant [2] size, no align_corners or half-pixel
// centres; when the input size is chosen at load the file's whole scale
// factor is kept. Moves elements only: one kernel for float32 and int8.
#include "ops/ops.h"

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op & op) {
    const char * w = v.w();
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 2) || !v.need_act(ins[0], 4, "input") || !v.need_act(out, 4, "output") ||
        !v.need_const(ins[1], "size") || !v.same_quant(ins[0], out)) {
        return false;
    }
    if (v.has_opts) {
        if (v.opt_type != tfl_opt_resize_nearest_neighbor) {
            return v.fail("%s: builtin options of the wrong type (%d, expected %d)", w, v.opt_type,
                          static_cast<int>(tfl_opt_resize_nearest_neighbor));
        }
        int align, half;
        if (!v.opt_i8(0, 0, &align) || !v.opt_i8(1, 0, &half)) {
            return false;
        }
        if (align || half) {
            return v.fail("%s: align_corners and half_pixel_centers are not supported", w);
        }
    }
    const rt_tensor & sz = v.t(ins[1]);
    if (sz.type != tfl_int32 || sz.n != 2) {
        return v.fail("%s: size '%s' must be INT32 [2], is %s %s", w, sz.name.c_str(), tflite_type_name(sz.type),
                      v.shape_str(ins[1]).c_str());
    }
    const int32_t * sv = static_cast<const int32_t *>(v.m.data(sz));
    if (!v.in_range("new height", sv[0], 1, k_max_dim_param) || !v.in_range("new width", sv[1], 1, k_max_dim_param)) {
        return false;
    }
    const rt_tensor & x = v.t(ins[0]);
    int oh = sv[0], ow = sv[1];
    if (v.resizing) {
        // The file's size is for the file's input: keep its (whole) scale factor.
        if (sv[0] % x.file_dims[1] != 0 || sv[1] % x.file_dims[2] != 0) {
            return v.fail("%s: size %dx%d is not a whole multiple of the file's input %dx%d, so it cannot follow a "
                          "changed input size", w, sv[0], sv[1], x.file_dims[1], x.file_dims[2]);
        }
        oh = x.dims[1] * (sv[0] / x.file_dims[1]);
        ow = x.dims[2] * (sv[1] / x.file_dims[2]);
    }
    op.q8 = v.act_type == tfl_int8;
    return v.need_shape(out, {x.dims[0], oh, ow, x.dims[3]});
}

void eval(fer_context * c, const rt_op & op) {
    const rt_tensor & x = c->model->tensor(op.in[0]);
    const rt_tensor & o = c->model->tensor(op.out);
    fer_resize_nearest__ref(x.dims[0], x.dims[1], x.dims[2], x.dims[3], o.dims[1], o.dims[2],
                            static_cast<size_t>(x.elem), c->raw(op.in[0]), c->raw(op.out));
}

}  // namespace

const op_def op_resize_nearest_neighbor = {tfl_resize_nearest_neighbor, "RESIZE_NEAREST_NEIGHBOR", 4, prepare, eval,
                                           eval, nullptr};

}  // namespace fer_rt
