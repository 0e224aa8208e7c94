// The verifier's graph checks, after every op has been checked on its own:
// one float input of the expected shape, every op input a constant, the graph
// input or an earlier op's output, nothing written twice, float outputs (the
// class scores of a classifier first); then the class-activation-map pattern.
#include "model/op-table.h"
#include "model/verify.h"

namespace fer_rt {

using namespace fer_tflite;

bool verify_graph(op_verifier & v, const std::vector<int32_t> & inputs, const std::vector<int32_t> & outputs) {
    fer_model * m = &v.m;
    const int nt = static_cast<int>(m->tensors.size());
    if (inputs.size() != 1 || inputs[0] < 0 || inputs[0] >= nt) {
        return v.fail("graph: exactly one valid input tensor is supported (%zu given)", inputs.size());
    }
    m->input = inputs[0];
    rt_tensor & in = m->tensors[static_cast<size_t>(m->input)];
    if (!m->classifier) {
        if (in.is_const || in.type != tfl_float32 || in.rank != 4 || in.dims[0] != 1) {
            return v.fail("graph: input '%s' is %s %s, expected FLOAT32 [1,H,W,C]", in.name.c_str(),
                          tflite_type_name(in.type), v.shape_str(m->input).c_str());
        }
    } else if (in.is_const || in.type != tfl_float32 || in.rank != 4 || in.dims[0] != 1 ||
               in.dims[1] != FER_INPUT_SIZE || in.dims[2] != FER_INPUT_SIZE || in.dims[3] != 1) {
        return v.fail("graph: input '%s' is %s %s, expected FLOAT32 [1,%d,%d,1]", in.name.c_str(),
                      tflite_type_name(in.type), v.shape_str(m->input).c_str(), FER_INPUT_SIZE, FER_INPUT_SIZE);
    }
    in.producer = -1;
    for (size_t i = 0; i < m->ops.size(); ++i) {
        const rt_op & op = m->ops[i];
        for (int k = 0; k < 3; ++k) {
            const int t = op.in[k];
            if (t < 0) {
                continue;
            }
            rt_tensor & x = m->tensors[static_cast<size_t>(t)];
            if (!x.is_const && x.producer == -2) {
                return v.fail("op %zu (%s): input '%s' is neither a constant, the graph input nor an earlier op's "
                              "output", i, builtin_name(op.builtin), x.name.c_str());
            }
            x.last_use = static_cast<int>(i);
        }
        rt_tensor & o = m->tensors[static_cast<size_t>(op.out)];
        if (o.producer != -2) {
            return v.fail("op %zu (%s): output '%s' is already written by %s", i, builtin_name(op.builtin),
                          o.name.c_str(), o.producer == -1 ? "the graph input" : "an earlier op");
        }
        o.producer = static_cast<int>(i);
    }
    if (outputs.empty()) {
        return v.fail("graph: no outputs");
    }
    for (int32_t t : outputs) {
        if (t < 0 || t >= nt || m->tensor(t).producer < 0) {
            return v.fail("graph: output %d is not produced by any op", t);
        }
        m->tensors[static_cast<size_t>(t)].pinned = true;
        if (!m->classifier && m->tensor(t).type != tfl_float32) {
            return v.fail("graph: output '%s' is %s; outputs must be FLOAT32", v.tname(t).c_str(),
                          tflite_type_name(m->tensor(t).type));
        }
        m->outputs.push_back(t);
    }
    if (!m->classifier) {
        return true;
    }
    m->probs = outputs[0];
    const rt_tensor & p = m->tensor(m->probs);
    if (p.type != tfl_float32 || p.n != FER_N_CLASSES) {
        return v.fail("graph: output 0 '%s' is %s %s, expected FLOAT32 with %d class scores", p.name.c_str(),
                      tflite_type_name(p.type), v.shape_str(m->probs).c_str(), FER_N_CLASSES);
    }
    const rt_op * last = &m->ops[static_cast<size_t>(p.producer)];
    if (last->builtin == tfl_dequantize && m->tensor(last->in[0]).producer >= 0) {
        last = &m->ops[static_cast<size_t>(m->tensor(last->in[0]).producer)];
    }
    m->probs_is_softmax = last->builtin == tfl_softmax;
    return true;
}

// Global-average-pool head: MEAN over H,W of a 4-D map F -> FULLY_CONNECTED
// [K, C] -> SOFTMAX -> output 0. Then CAM_k = W[k] . F[y][x].
void find_cam(fer_model * m) {
    if (!m->classifier) {
        return;
    }
    const rt_tensor & p = m->tensor(m->probs);
    if (!m->probs_is_softmax) {
        return;
    }
    const rt_op * smp = &m->ops[static_cast<size_t>(p.producer)];
    if (smp->builtin == tfl_dequantize) {
        smp = &m->ops[static_cast<size_t>(m->tensor(smp->in[0]).producer)];
    }
    const rt_op & sm = *smp;
    const rt_tensor & logits = m->tensor(sm.in[0]);
    if (logits.producer < 0 || m->ops[static_cast<size_t>(logits.producer)].builtin != tfl_fully_connected) {
        return;
    }
    const rt_op & fc = m->ops[static_cast<size_t>(logits.producer)];
    const rt_tensor & pooled = m->tensor(fc.in[0]);
    if (pooled.producer < 0 || fc.fc_batch != 1 || fc.fc_out != FER_N_CLASSES) {
        return;
    }
    const rt_op & mean = m->ops[static_cast<size_t>(pooled.producer)];
    if (mean.builtin != tfl_mean || mean.axes_mask != 6u) {
        return;
    }
    rt_tensor & f = m->tensors[static_cast<size_t>(mean.in[0])];
    if (f.rank != 4 || f.dims[0] != 1 || f.dims[3] != fc.fc_in || f.is_const) {
        return;
    }
    f.pinned = true;
    m->cam_features = mean.in[0];
    m->cam_weights = fc.in[1];
}

}  // namespace fer_rt
