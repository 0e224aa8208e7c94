// The numbers of the TensorFlow Lite file format that fer reads and writes:
// tensor types, builtin operator codes, the BuiltinOptions union members,
// padding and fused activations, and fer's own metadata names. One copy,
// shared by the runtime's reader (src/model/) and the exporter
// (train/export-tflite.*); the values are TFLite's schema.fbs enums
// (schema/tflite-subset.fbs keeps the subset we use).
#pragma once

#include <cstdint>

namespace fer_tflite {

// TensorType
enum tensor_type : int {
    tfl_float32 = 0, tfl_float16 = 1, tfl_int32 = 2, tfl_uint8 = 3, tfl_int64 = 4, tfl_string = 5, tfl_bool = 6,
    tfl_int16 = 7, tfl_complex64 = 8, tfl_int8 = 9, tfl_float64 = 10, tfl_complex128 = 11, tfl_uint64 = 12,
};

// BuiltinOperator (the ones fer runs, plus a few named in error messages)
enum builtin_op : int {
    tfl_add = 0, tfl_average_pool_2d = 1, tfl_concatenation = 2, tfl_conv_2d = 3, tfl_depthwise_conv_2d = 4,
    tfl_dequantize = 6, tfl_fully_connected = 9, tfl_logistic = 14, tfl_max_pool_2d = 17, tfl_mul = 18,
    tfl_relu = 19, tfl_reshape = 22, tfl_softmax = 25, tfl_custom = 32, tfl_pad = 34, tfl_transpose = 39,
    tfl_mean = 40, tfl_squeeze = 43, tfl_resize_nearest_neighbor = 97, tfl_quantize = 114,
};

// BuiltinOptions union members
enum builtin_options : int {
    tfl_opt_none = 0, tfl_opt_conv_2d = 1, tfl_opt_depthwise_conv_2d = 2, tfl_opt_pool_2d = 5,
    tfl_opt_fully_connected = 8, tfl_opt_softmax = 9, tfl_opt_add = 11, tfl_opt_reshape = 17, tfl_opt_pad = 22,
    tfl_opt_reducer = 27, tfl_opt_dequantize = 38, tfl_opt_resize_nearest_neighbor = 74, tfl_opt_quantize = 89,
};

// Padding
enum padding : int { tfl_same = 0, tfl_valid = 1 };

// ActivationFunctionType (the fused ones fer supports)
enum fused_activation : int { tfl_act_none = 0, tfl_act_relu = 1, tfl_act_relu_n1_to_1 = 2, tfl_act_relu6 = 3 };

// The file identifier and the schema version fer writes and accepts.
constexpr char k_file_identifier[] = "TFL3";
constexpr uint32_t k_schema_version = 3;

// fer's metadata entries (Model.metadata names): the class labels, one per
// line in FER2013 order, and key=value lines (task, pixel_mean, pixel_std, ...).
constexpr char k_meta_labels[] = "fer.labels";
constexpr char k_meta_info[] = "fer.info";

}  // namespace fer_tflite
