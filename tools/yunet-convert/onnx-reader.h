// A reader of ONNX model files (ModelProto, protobuf wire format) written for
// this project: only what a converter of small CNNs needs (nodes with their
// attributes, initializers, graph inputs and outputs). It is a build-time
// tool, not part of the runtime. Every read is bounds-checked; a broken file
// throws fer::input_error naming the file and the field that is wrong.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fer::onnx {

// TensorProto.DataType values the reader decodes (others are rejected where used).
enum data_type : int { dt_float = 1, dt_int32 = 6, dt_int64 = 7 };
// AttributeProto.AttributeType values.
enum attr_type : int { at_float = 1, at_int = 2, at_string = 3, at_tensor = 4, at_floats = 6, at_ints = 7, at_strings = 8 };

struct tensor {
    std::string name;
    std::vector<int64_t> dims;
    int data_type = 0;
    std::vector<float> floats;   // data_type FLOAT (from raw_data or float_data)
    std::vector<int64_t> ints;   // data_type INT64 / INT32 (from raw_data, int64_data or int32_data)
    int64_t count() const;       // product of dims (1 for a scalar)
};

struct attribute {
    std::string name;
    int type = 0;
    int64_t i = 0;
    float f = 0.0f;
    std::string s;
    std::vector<int64_t> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
};

struct node {
    std::string name, op_type, domain;
    std::vector<std::string> inputs, outputs;  // "" = optional input left out
    std::vector<attribute> attributes;
    const attribute * find(const std::string & attr_name) const;
};

// A graph input or output: name, element type and dims (-1: symbolic, e.g. "batch").
struct value_info {
    std::string name;
    int elem_type = 0;
    std::vector<int64_t> dims;
};

struct graph {
    std::string name;
    std::vector<node> nodes;  // topological order, as the file lists them
    std::map<std::string, tensor> initializers;
    std::vector<value_info> inputs, outputs;  // inputs exclude initializers
};

struct model {
    int64_t ir_version = 0;
    int64_t opset = 0;  // version of the default ("" / "ai.onnx") domain
    std::string producer_name, producer_version;
    graph g;
};

// Parses `bytes` (the whole file); `what` names it in error messages.
model read_model(const std::string & bytes, const std::string & what);
// Reads and parses a file.
model read_model_file(const std::string & path);

}  // namespace fer::onnx
