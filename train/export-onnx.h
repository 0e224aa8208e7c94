// Export to ONNX (float32): the float32 TFLite graph that net_to_tflite builds
// (batch norm folded, dropout removed, fused activations, SOFTMAX output, CAM
// features as output 1) rewritten as an ONNX graph in NCHW with a free batch
// dimension, written with ONNX's own generated protobuf classes (Debian's
// libonnx-dev) and checked with its checker and strict shape inference.
// docs/runtime.md ("ONNX export") describes the file.
#pragma once

#include "export-tflite.h"

#include <map>
#include <string>
#include <vector>

namespace fer {

struct onnx_export_summary {
    int opset = 0;
    int ir_version = 0;
    int n_nodes = 0;
    std::string op_list;  // "Conv x8, Relu x8, MaxPool x3, ..." in graph order
};

// The serialised ModelProto of a float32 graph (input "input" [N, C, H, W],
// outputs with the TFLite outputs' names; rank-4 outputs in NCHW). The
// metadata_props carry the TFLite file's "fer.labels" and "fer.info" (input
// and layout lines rewritten for ONNX) and each fer.info key on its own.
// Throws a runtime error naming the op for graphs it cannot convert (int8,
// operators outside fer's exported subset) and the checker's message when
// ONNX's checker or shape inference rejects the result.
std::string tflite_to_onnx(const tfl_model & m, onnx_export_summary * summary = nullptr);

// ONNX's checker and strict shape inference on serialised bytes; "" when the
// model passes, else the reason.
std::string onnx_check(const std::string & bytes);

// What a serialised ModelProto declares (for tests and tools that do not use
// ONNX's headers); throws a runtime error when the bytes do not parse.
struct onnx_description {
    int64_t opset = 0;  // of the default domain
    std::vector<std::string> inputs, outputs;
    std::map<std::string, std::string> metadata;
};
onnx_description onnx_describe(const std::string & bytes);

}  // namespace fer
