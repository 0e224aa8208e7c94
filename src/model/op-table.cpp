// The operator table (op-table.h).
#include "model/op-table.h"

namespace fer_rt {

namespace {

const op_def * const k_op_table[] = {
    &op_add,
    &op_average_pool_2d,
    &op_conv_2d,
    &op_depthwise_conv_2d,
    &op_fully_connected,
    &op_logistic,
    &op_pad,
    &op_resize_nearest_neighbor,
    &op_max_pool_2d,
    &op_reshape,
    &op_softmax,
    &op_mean,
    &op_quantize,
    &op_dequantize,
};

}  // namespace

const op_def * find_op_def(int builtin) {
    for (const op_def * o : k_op_table) {
        if (o->builtin == builtin) {
            return o;
        }
    }
    return nullptr;
}

const char * builtin_name(int builtin) {
    if (const op_def * o = find_op_def(builtin)) {
        return o->name;
    }
    using namespace fer_tflite;
    switch (builtin) {
    case tfl_concatenation: return "CONCATENATION";
    case tfl_mul: return "MUL";
    case tfl_relu: return "RELU";
    case tfl_squeeze: return "SQUEEZE";
    case tfl_transpose: return "TRANSPOSE";
    case tfl_custom: return "CUSTOM";
    default: return "builtin op";
    }
}

}  // namespace fer_rt
