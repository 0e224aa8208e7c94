// fer export --format onnx: the written ONNX file run by OpenCV's dnn module
// (cv::dnn::readNetFromONNX, an ONNX reader independent of fer) against fer's
// own runtime on the float32 TFLite graph of the same network.
#pragma once

#include "dataset.h"

#include "fer.h"

#include <string>

namespace fer {

struct onnx_parity {
    size_t n = 0;
    double max_abs = 0.0;       // max |OpenCV - runtime| over every probability
    size_t top_mismatch = 0;    // faces whose top class differs
    size_t correct = 0;         // OpenCV's top class equals the label
};

// Every face of `d` (48x48 grey) through both; throws an input error when
// OpenCV cannot read or run the file (its message included).
onnx_parity onnx_opencv_parity(const std::string & onnx_bytes, const fer_model * runtime_model, const dataset & d);

}  // namespace fer
