// RESHAPE: the element count is preserved; the data is copied as it is
// (float32 and int8 alike, sharing their quantisation).
#include "ops/ops.h"

#include <cstring>

namespace fer_rt {

using namespace fer_tflite;

namespace {

bool prepare(op_verifier & v, rt_op &) {
    const char * w = v.w();
    if (!v.n_inputs(1, 2)) {
        return false;
    }
    const int in = v.ins[0], out = v.out;
    const rt_tensor & x = v.t(in);
    const rt_tensor & o = v.t(out);
    if (v.resizing && x.n != o.n) {
        return v.fail("%s: RESHAPE to the fixed shape %s cannot follow a changed input size", w,
                      v.shape_str(out).c_str());
    }
    if (x.type != o.type || x.n != o.n) {
        return v.fail("%s: cannot reshape '%s' %s %s into %s %s", w, x.name.c_str(), tflite_type_name(x.type),
                      v.shape_str(in).c_str(), tflite_type_name(o.type), v.shape_str(out).c_str());
    }
    return v.same_quant(in, out);
}

void eval(fer_context * c, const rt_op & op) {
    std::memmove(c->raw(op.out), c->raw(op.in[0]), c->model->tensor(op.out).bytes);
}

}  // namespace

const op_def op_reshape = {tfl_reshape, "RESHAPE", 1, prepare, eval, eval, nullptr};

}  // namespace fer_rt
