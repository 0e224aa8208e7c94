// The runtime's model in memory, shared by its parts (src/model/, src/ops/):
// the tensors and ops a file was verified into, the model (immutable after
// load) and the per-thread context. Not a public header.
#pragma once

#include "fer.h"
#include "kernels.h"
#include "tflite/tflite-numbers.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace fer_rt {

// Limits on untrusted files (docs/runtime.md, "Verification at load").
constexpr uint64_t k_max_file = 512ull << 20;       // bytes
constexpr uint64_t k_max_elements = 1ull << 28;      // per tensor
constexpr uint64_t k_max_arena = 256ull << 20;       // bytes of activations per context
constexpr uint32_t k_max_count = 1u << 16;           // tensors, ops, buffers, operator codes
constexpr int k_max_dim_param = 1 << 16;             // strides, dilations, filter sizes

struct rt_tensor {
    std::string name;
    int type = fer_tflite::tfl_float32;
    int rank = 0;
    int dims[4] = {1, 1, 1, 1};
    int file_dims[4] = {1, 1, 1, 1};  // as written in the file (dims change when the input size is chosen at load)
    size_t n = 1;
    size_t bytes = 0;
    int elem = 4;           // bytes per element
    // quantisation (INT8 activations: one scale; weights: one per channel along qdim)
    std::vector<float> scales;
    std::vector<int64_t> zps;
    int qdim = 0;
    float scale = 0.0f;
    int32_t zp = 0;
    bool is_const = false;
    size_t const_off = 0;   // into fer_model::consts (bytes)
    int producer = -2;      // -2: none, -1: graph input, else op index
    int last_use = -1;
    bool pinned = false;    // kept alive to the end (outputs, CAM features)
    size_t arena_off = 0;
    bool in_arena = false;
};

struct rt_op;
// Runs one op on a context: the kernel chosen for it once at load.
typedef void (*op_eval_fn)(fer_context * c, const rt_op & op);

// One op as verified at load: its tensors, the parameters its kernels take,
// and the kernel chosen for it (eval). Fields are shared by the ops that need
// them (src/ops/); an op needing new state adds a field here.
struct rt_op {
    int builtin = 0;
    int in[3] = {-1, -1, -1};
    int out = -1;
    op_eval_fn eval = nullptr;
    conv_params conv;
    pool_params pool;
    int act = act_none;
    float beta = 1.0f;
    unsigned axes_mask = 0;
    int fc_batch = 0, fc_in = 0, fc_out = 0;
    // int8
    bool q8 = false;
    int32_t in_zp = 0, out_zp = 0, act_min = -128, act_max = 127;
    std::vector<float> scale;  // requantisation scale per output channel
    add_params add;
    std::vector<int8_t> add_table;  // int8 ADD: every result (fer_add_s8_table_init)
    // weights repacked at load for an optimised kernel
    std::vector<float> packed, bias_padded;  // conv: HWIO weights for fer_conv2d_f32__avx2
    std::vector<int16_t> packed8;            // int8 conv: weights for fer_conv2d_s8__{avx2,neon,wasm128}
    conv_params conv_tiles;                  // int8 conv: the geometry those tiles run (fer_conv2d_s8_row_runs)
    std::vector<int8_t> packed_vnni;         // int8 conv: weights for fer_conv2d_s8__avxvnni
    std::vector<int32_t> bias32_padded;
    std::vector<float> scale_padded;
    float qscale = 0.0f;  // QUANTIZE/DEQUANTIZE/SOFTMAX: the float side's scale
    int32_t qzp = 0;
    int pad_before[4] = {0, 0, 0, 0}, pad_after[4] = {0, 0, 0, 0};  // PAD (rank-4 NHWC)
};

// The optimised kernels a model runs with (src/model/cpu.cpp), chosen once
// at load from fer_model_params.kernel_set and the CPU.
struct kernel_set {
    int id = FER_KERNELS_REFERENCE;
    bool avx2 = false;     // AVX2 + FMA kernels (x86-64)
    bool vnni = false;     // AVX-VNNI int8 convolution (with avx2)
    bool neon = false;     // AArch64 NEON int8 convolution
    bool wasm128 = false;  // WebAssembly SIMD128 int8 convolution
    bool any() const { return avx2 || neon || wasm128; }
};

// The int8 requantisation of an op, as its kernels take it.
inline quant_params op_quant(const rt_op & op) {
    quant_params q;
    q.in_zp = op.in_zp;
    q.out_zp = op.out_zp;
    q.act_min = op.act_min;
    q.act_max = op.act_max;
    q.scale = op.scale.data();
    return q;
}

}  // namespace fer_rt

struct fer_model {
    std::vector<fer_rt::rt_tensor> tensors;
    std::vector<fer_rt::rt_op> ops;
    std::vector<float> consts;  // constant tensor data, 16-byte aligned slots (float for alignment)
    int input = -1;
    std::vector<int> outputs;  // the graph's outputs, in file order
    bool classifier = true;    // metadata task is absent or "classifier": output 0 holds the class scores
    int probs = -1;
    bool probs_is_softmax = false;
    int cam_features = -1, cam_weights = -1;
    size_t arena_bytes = 0;
    size_t scratch_words = 0;  // per context: the largest optimised kernel's scratch (int32 words)
    std::vector<std::string> labels;
    std::vector<std::pair<std::string, std::string>> info;
    float pixel_mean = FER_PIXEL_MEAN, pixel_std = FER_PIXEL_STD;
    bool keep_all = false;  // no arena reuse (calibration, debugging)
    fer_rt::kernel_set kernels;

    const void * data(const fer_rt::rt_tensor & t) const {
        return reinterpret_cast<const uint8_t *>(consts.data()) + t.const_off;
    }
    const fer_rt::rt_tensor & tensor(int t) const { return tensors[static_cast<size_t>(t)]; }
};

struct fer_context {
    const fer_model * model = nullptr;
    float * arena = nullptr;      // malloc'ed: a failed allocation returns NULL instead of aborting
    int32_t * scratch = nullptr;  // model->scratch_words, for the optimised kernels
    bool has_result = false;
    ~fer_context();

    void * raw(int t) {
        const fer_rt::rt_tensor & x = model->tensor(t);
        if (x.is_const) {
            return const_cast<void *>(model->data(x));
        }
        return reinterpret_cast<uint8_t *>(arena) + x.arena_off;
    }
    float * ptr(int t) { return static_cast<float *>(raw(t)); }
    const float * cptr(int t) const { return const_cast<fer_context *>(this)->ptr(t); }
    int8_t * p8(int t) { return static_cast<int8_t *>(raw(t)); }
    const int32_t * p32(int t) { return static_cast<const int32_t *>(raw(t)); }
    // An optional input (bias): NULL when the op has none.
    const float * opt_f32(int t) { return t >= 0 ? cptr(t) : nullptr; }
    const int32_t * opt_s32(int t) { return t >= 0 ? p32(t) : nullptr; }
};

namespace fer_rt {

// src/model/read-tflite.cpp: reads and verifies a file into a model; false
// with the reason in *error.
bool read_tflite(const uint8_t * data, uint64_t size, int input_h, int input_w, fer_model * m, std::string * error);
// src/model/plan.cpp: places every activation in one arena by lifetime.
bool plan_arena(fer_model * m, std::string * error);
// src/model/cpu.cpp: the kernel set for a request (FER_KERNELS_*); false when
// this build or CPU cannot run it.
bool resolve_kernel_set(int requested, kernel_set * ks);
// src/model/interpreter.cpp: each op's kernel for the model's kernel set
// (weights repacked as it needs); runs the graph.
void select_kernels(fer_model * m);
void run_graph(fer_context * c);

}  // namespace fer_rt
