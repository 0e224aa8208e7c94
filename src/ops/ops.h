// What the op files (src/ops/op-*.cpp) share: the verifier, the table's
// op_def, and the prepare steps common to two ops of one family.
#pragma once

#include "model/op-table.h"
#include "model/verify.h"

namespace fer_rt {

// CONV_2D and DEPTHWISE_CONV_2D (op-conv-2d.cpp): inputs, options, geometry,
// bias, int8 requantisation, output shape.
bool prepare_convolution(op_verifier & v, rt_op & op, bool depthwise);
// MAX_POOL_2D and AVERAGE_POOL_2D (op-max-pool-2d.cpp).
bool prepare_pool(op_verifier & v, rt_op & op);
// QUANTIZE (float32 -> int8) and DEQUANTIZE (int8 -> float32) (op-quantize.cpp).
bool prepare_quantize_like(op_verifier & v, rt_op & op, bool quantize);

}  // namespace fer_rt
