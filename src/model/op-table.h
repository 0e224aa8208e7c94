// The operator table: one op_def per TFLite builtin the runtime runs, each
// defined in its own file under src/ops/ (prepare, float32 and int8
// kernels, and the choice of an optimised kernel). The reader looks ops up
// here; nothing else in the runtime knows an operator by name.
//
// Adding an operator: src/ops/op-<name>.cpp with its op_def, one line in
// k_op_table (op-table.cpp) and its declaration below, the builtin number in
// src/tflite/tflite-numbers.h if it is new, and tests (docs/architecture.md).
#pragma once

#include "model/model.h"

namespace fer_rt {

class op_verifier;

struct op_def {
    int builtin;      // fer_tflite::builtin_op
    const char * name;
    int max_version;  // within the ceilings of common interpreters (interop-recipes.md)
    // Checks the op's inputs, options and output (derives its shape when the
    // input size was chosen at load) and fills the rt_op; false with a message.
    bool (*prepare)(op_verifier & v, rt_op & op);
    // Reference kernels by the type of input 0 (NULL: that type is refused).
    op_eval_fn eval_f32;
    op_eval_fn eval_s8;
    // Optional: replaces op.eval with an optimised kernel of the model's kernel
    // set (m.kernels), repacking weights and growing m.scratch_words as needed.
    // Called once per op at load, after the whole graph is verified.
    void (*select)(fer_model & m, rt_op & op);
};

// NULL for a builtin the runtime does not run.
const op_def * find_op_def(int builtin);
// Name of any builtin, for messages ("builtin op" when unknown).
const char * builtin_name(int builtin);

// One per file in src/ops/.
extern const op_def op_add;
extern const op_def op_average_pool_2d;
extern const op_def op_conv_2d;
extern const op_def op_depthwise_conv_2d;
extern const op_def op_dequantize;
extern const op_def op_fully_connected;
extern const op_def op_logistic;
extern const op_def op_max_pool_2d;
extern const op_def op_mean;
extern const op_def op_pad;
extern const op_def op_quantize;
extern const op_def op_reshape;
extern const op_def op_resize_nearest_neighbor;
extern const op_def op_softmax;

}  // namespace fer_rt
