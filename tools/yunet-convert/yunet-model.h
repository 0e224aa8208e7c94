// YuNet's ONNX graph as the detector file fer's runtime loads: one input
// "input" [1, size, size, 3] (BGR 0..255, no normalisation) and twelve
// outputs cls_8, cls_16, cls_32, obj_8..32, bbox_8..32, kps_8..32, each
// [1, size/stride, size/stride, C] (C = 1, 1, 4, 10; cls and obj after
// LOGISTIC), with fer.info metadata (task=face_detector, strides, licence,
// source commit). docs/runtime.md describes the runtime side.
#pragma once

#include "export-tflite.h"
#include "onnx-reader.h"

#include <string>
#include <vector>

namespace fer {

// The output names in file order, and their channels.
extern const char * const k_yunet_outputs[12];
int yunet_output_channels(int k);  // k in 0..11
int yunet_output_stride(int k);

// Converts and checks the graph; `commit_file` is the weights' SOURCE-COMMIT
// (its first line goes into the metadata). Throws fer::input_error naming the
// file when the graph is not YuNet's layout.
tfl_model yunet_to_tflite(const onnx::model & m, const std::string & onnx_path, const std::string & commit_file,
                          int size, std::vector<std::string> * notes);

}  // namespace fer
