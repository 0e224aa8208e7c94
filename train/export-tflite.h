// Export of a trained network to TensorFlow Lite (float32): batch norm folded
// into the convolution (or the fully connected layer) it touches, dropout
// removed, ReLU fused, NHWC layout, a SOFTMAX output. The FlatBuffer is written
// by a small builder of our own (no flatbuffers library); the layout follows
// schema/tflite-subset.fbs. docs/runtime.md describes the file.
#pragma once

#include "models.h"
#include "tflite/tflite-numbers.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fer {

// ---- A TFLite graph in memory (also used by tests to build odd files) ----

// The TFLite numbers (tensor types, builtin codes, options, padding,
// activations, metadata names): one copy, shared with the runtime's reader.
using namespace fer_tflite;
using tfl_type = fer_tflite::tensor_type;
using tfl_op_code = fer_tflite::builtin_op;
using tfl_padding = fer_tflite::padding;
using tfl_activation = fer_tflite::fused_activation;

struct tfl_tensor {
    std::string name;
    std::vector<int32_t> shape;
    int type = tfl_float32;
    std::vector<uint8_t> data;  // empty: no buffer (an activation)
    // quantisation (empty scale: none)
    std::vector<float> scale;
    std::vector<int64_t> zero_point;
    int quantized_dimension = 0;
    int shared_buffer_of = -1;  // tests: reuse the buffer of that (earlier) tensor instead of `data`
};

// One field of an options table: id (vtable slot), width in bytes (1, 4) or
// 0 for an int vector, and the value.
struct tfl_field {
    int id = 0;
    int width = 4;
    int64_t ivalue = 0;
    float fvalue = 0.0f;
    bool is_float = false;
    std::vector<int32_t> ivec;
};

struct tfl_op {
    int builtin = 0;
    int version = 1;
    std::vector<int32_t> inputs, outputs;
    int options_type = 0;  // BuiltinOptions union member (0: none)
    std::vector<tfl_field> options;
};

struct tfl_model {
    std::vector<tfl_tensor> tensors;
    std::vector<tfl_op> ops;
    std::vector<int32_t> inputs, outputs;
    std::string description;
    std::vector<std::pair<std::string, std::string>> metadata;  // name -> bytes
    // Testing hooks for broken files (never set by the exporter).
    int schema_version = 3;
    int deprecated_code_override = -1;  // >= 0: write this in every deprecated_builtin_code
};

// Options helpers (TFLite field ids).
tfl_op tfl_conv(int32_t in, int32_t w, int32_t b, int32_t out, int padding, int stride, int act);
tfl_op tfl_depthwise(int32_t in, int32_t w, int32_t b, int32_t out, int padding, int stride, int multiplier, int act);
tfl_op tfl_pool(int builtin, int32_t in, int32_t out, int padding, int filter, int stride);
tfl_op tfl_fc(int32_t in, int32_t w, int32_t b, int32_t out, int act);
tfl_op tfl_mean_op(int32_t in, int32_t axes, int32_t out, bool keep_dims);
tfl_op tfl_add_op(int32_t a, int32_t b, int32_t out, int act);
tfl_op tfl_reshape_op(int32_t in, int32_t shape, int32_t out, const std::vector<int32_t> & new_shape);
tfl_op tfl_softmax_op(int32_t in, int32_t out, float beta);
tfl_op tfl_logistic_op(int32_t in, int32_t out);
// paddings: an int32 [rank, 2] constant (before, after per dimension); zeros are padded.
tfl_op tfl_pad_op(int32_t in, int32_t paddings, int32_t out);
// size: an int32 [2] constant {new_h, new_w}; out[y] = in[floor(y * in_h / new_h)]
// (align_corners and half_pixel_centers false).
tfl_op tfl_resize_nearest_op(int32_t in, int32_t size, int32_t out);

// A constant float tensor from values (little-endian bytes).
tfl_tensor tfl_const_f32(const std::string & name, std::vector<int32_t> shape, const std::vector<float> & v);
tfl_tensor tfl_const_i32(const std::string & name, std::vector<int32_t> shape, const std::vector<int32_t> & v);
tfl_tensor tfl_activation_tensor(const std::string & name, std::vector<int32_t> shape, int type = tfl_float32);

// The FlatBuffer bytes (identifier TFL3) of a graph.
std::string tflite_serialize(const tfl_model & m);

// ---- Export of a network ----

struct export_options {
    std::string model_name;  // default: the architecture
    std::string model_version = "1";
    std::string training_data = "FER2013 Training split";
    std::string commit = "unknown";
    std::string source;  // the checkpoint exported
};

struct export_summary {
    int n_ops = 0;
    int n_tensors = 0;
    int64_t n_weights = 0;
    bool has_cam = false;  // the last feature map is the second output
    std::string op_list;   // "CONV_2D x8, MAX_POOL_2D x3, ..."
};

// Builds the float32 graph of `net` (evaluation mode: running batch-norm
// statistics, no dropout). Throws a usage error for layers it cannot export.
tfl_model net_to_tflite(Net & net, const export_options & opt, export_summary * summary = nullptr);

// "CONV_2D x8, MAX_POOL_2D x3, ..." in graph order.
std::string tflite_op_list(const tfl_model & m);

// Exports `net` to `path` atomically.
export_summary export_tflite(Net & net, const std::string & path, const export_options & opt);

// ---- int8 post-training quantisation (TFLite's quantisation spec) ----

// How activation ranges are chosen from the calibration faces.
enum class calibration_method {
    minmax,  // the observed [min, max]: nothing is clipped, rare outliers stretch the step
    mse,     // the clipped range that minimises the expected quantisation error
             // (clipping error + step^2/12 rounding noise) over a 2048-bin histogram
};

// Value range of every tensor of a float graph over `faces` (48x48 grey,
// n x 2304 bytes), measured by running the graph in fer's own runtime.
// Entries of constant tensors are left at 0.
std::vector<std::pair<float, float>> calibrate_tflite(const tfl_model & float_model, const uint8_t * faces, size_t n,
                                                      calibration_method method = calibration_method::mse);
// The same over inputs given as the graph's float input tensor itself (each
// the input's element count, e.g. 320x320x3 BGR for a detector), fed through
// fer_context_run with no preprocessing.
std::vector<std::pair<float, float>> calibrate_tflite(const tfl_model & float_model,
                                                      const std::vector<std::vector<float>> & inputs,
                                                      calibration_method method = calibration_method::mse);

// The int8 graph of a float graph: per-channel symmetric int8 weights
// (CONV_2D along dimension 0, DEPTHWISE_CONV_2D along 3), per-tensor int8
// FULLY_CONNECTED weights, int32 biases (scale = input scale x weight scale),
// asymmetric int8 activations from `ranges`, pools/reshape sharing their
// input's parameters, float input and outputs through QUANTIZE and
// DEQUANTIZE. The classifier head (global-average MEAN, RESHAPE,
// FULLY_CONNECTED, SOFTMAX) stays float behind a DEQUANTIZE unless
// float_head is false (then MEAN keeps its input's parameters and SOFTMAX
// outputs int8 at 1/256, -128: the all-int8 graph, e.g. for tests).
// Detector graphs: a PAD that reads the float input runs in float before the
// QUANTIZE (the runtime needs no int8 PAD); RESIZE_NEAREST_NEIGHBOR and PAD
// keep their input's parameters; LOGISTIC always stays float behind a
// DEQUANTIZE (scores keep their float resolution); every int8 output gets a
// DEQUANTIZE and keeps its name. float_tail > 0 keeps the last float_tail
// CONV_2D / DEPTHWISE_CONV_2D ops before each output (behind its LOGISTIC)
// float as well, behind one DEQUANTIZE per int8 tensor they read: the head
// maps then carry no int8 rounding of their own (boxes are exp() of them).
tfl_model quantize_tflite_int8(const tfl_model & float_model, const std::vector<std::pair<float, float>> & ranges,
                               bool float_head = true, int float_tail = 0);

}  // namespace fer
