// An ONNX graph (NCHW) as a TFLite graph (NHWC) of fer's subset: Conv
// (plain or depthwise, bias, fused Relu), MaxPool, Resize (nearest), Add,
// Sigmoid, and the Transpose + Reshape tails that flatten a head map to
// [N, H*W, C], which vanish in NHWC (the head map [1, h, w, C] has the same
// bytes). Anything else is rejected with the node it stopped at. Written for
// YuNet (tools/yunet-convert/main.cpp); nothing in it is YuNet-specific.
#pragma once

#include "export-tflite.h"
#include "onnx-reader.h"

#include <string>
#include <vector>

namespace fer {

struct onnx_convert_options {
    std::string what;  // the ONNX file, for error messages
    // The input's fixed size (the ONNX input may be dynamic); channels come from the ONNX input.
    int input_height = 320, input_width = 320;
    std::string input_name = "input";
};

// Converts the float graph. `notes` receives one line per decision worth
// reporting (e.g. an explicit PAD where TFLite's SAME padding differs).
tfl_model onnx_to_tflite(const onnx::model & m, const onnx_convert_options & opt, std::vector<std::string> * notes);

}  // namespace fer
