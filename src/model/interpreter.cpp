// The interpreter: each op's kernel chosen once at load for the model's
// kernel set (the op table's select hooks), then one indirect call per op.
// Inference allocates nothing and re-checks nothing.
#include "model/op-table.h"

namespace fer_rt {

void select_kernels(fer_model * m) {
    if (!m->kernels.any()) {
        return;  // the reference kernels the reader chose
    }
    for (rt_op & op : m->ops) {
        const op_def * def = find_op_def(op.builtin);
        if (def && def->select) {
            def->select(*m, op);
        }
    }
}

void run_graph(fer_context * c) {
    for (const rt_op & op : c->model->ops) {
        op.eval(c, op);
    }
}

}  // namespace fer_rt
