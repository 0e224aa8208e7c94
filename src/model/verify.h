// The verifier's checks, used by every op's prepare function (src/ops/) while
// a file is read (src/model/read-tflite.cpp): types, ranks, constants,
// quantisation, options, and output shapes (checked against the file, or
// derived op by op when the input size was chosen at load). Each failing
// check records a message naming the op, the tensor and the problem, and
// returns false.
#pragma once

#include "model/model.h"
#include "tflite/flatbuffer-reader.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace fer_rt {

// "FLOAT32", "INT8", ... for messages.
const char * tflite_type_name(int type);

class op_verifier {
public:
    op_verifier(fb_reader & reader, fer_model & model) : L(reader), m(model) {}
    fb_reader & L;
    fer_model & m;
    bool resizing = false;  // the input size differs from the file's: activation shapes are derived, not checked

    // The op being checked (set by the reader before its prepare function runs).
    std::string where;  // "op 3 (CONV_2D 'conv1a')"
    std::vector<int32_t> ins;
    int out = -1;
    fb_table opts;
    bool has_opts = false;
    int opt_type = 0;
    int act_type = fer_tflite::tfl_float32;  // FLOAT32 or INT8: the type of the op's activations (input 0)

#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    bool fail(const char * fmt, ...);
    const char * w() const { return where.c_str(); }

    const rt_tensor & t(int i) const { return m.tensor(i); }
    std::string tname(int i) const { return m.tensor(i).name; }
    std::string shape_str(int i) const;

    // ---- inputs and options ----
    bool n_inputs(size_t lo, size_t hi);
    bool need_opts(int type);
    bool opt_i8(int id, int def, int * v);
    bool opt_i32(int id, int def, int * v);
    bool opt_f32(int id, float def, float * v);
    bool in_range(const char * what, int v, int lo, int hi);
    // Output size and padding of a window op (TFLite's SAME/VALID), refusing a VALID window larger than the input.
    bool geometry(const char * what, int64_t in, int64_t k, int64_t s, int64_t d, bool same, int * out_size, int * pad);

    // ---- tensors ----
    bool need_type(int i, int type, int rank, const char * role);
    bool need_act(int i, int rank, const char * role) { return need_type(i, act_type, rank, role); }
    bool need_weights(int i, int rank, const char * role);
    bool need_bias(int i);
    bool need_const(int i, const char * role);
    bool same_quant(int a, int b);
    // Per-output-channel requantisation of an int8 conv/FC: in*w/out scales.
    bool set_requant(rt_op & op, int in, int w, int bias, int out_t, int n_out, int channel_dim);
    // The fused activation as a range of the output's integers.
    void set_act_range(rt_op & op, int act, int out_t);

    // ---- output shapes ----
    // In resizing mode an activation takes the shape its producer computes.
    bool set_shape(int i, const int * dims, int rank);
    bool fits_derived(int i) const { return resizing && !m.tensor(i).is_const; }
    // Output `i` gets (resizing) or must have (otherwise) the shape of tensor `like`.
    bool same_shape_as(int i, int like);
    bool need_shape(int i, std::initializer_list<int64_t> want);
};

// verify-graph.cpp: the graph as a whole (after every op's prepare), then
// the class-activation-map pattern of a classifier's head.
bool verify_graph(op_verifier & v, const std::vector<int32_t> & inputs, const std::vector<int32_t> & outputs);
void find_cam(fer_model * m);

}  // namespace fer_rt
