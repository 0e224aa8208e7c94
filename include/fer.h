// fer runtime: the dependency-free part of fer (no libtorch, no OpenCV):
// the seven FER2013 classes and their names, the input preprocessing, and the
// inference engine that runs fer's TensorFlow Lite models (float32, int8; see
// docs/runtime.md for the supported subset and how files are verified).
//
// Usage:
//
//   fer_model * model = fer_model_load("fernet.tflite", fer_model_default_params());
//   if (!model) { /* the reason went to the log callback (default: stderr) */ }
//   fer_context * ctx = fer_context_new(model);        // one per thread; the model is shared
//   struct fer_result r;
//   if (fer_classify(ctx, face48x48, 48, &r) == FER_OK)  // 8-bit grey, row stride in bytes
//       printf("%s %.1f%%\n", fer_model_class_label(model, r.top_class), 100 * r.confidence);
//   fer_context_free(ctx);
//   fer_model_free(model);
//
// The C++ wrapper (RAII, exceptions-free) is include/fer-cpp.h.
//
// Conventions of every fer header (fer.h, fer-detect.h, fer-pipeline.h):
// - Errors: constructors (*_load_*, *_new) return NULL on failure and send
//   the reason to the log callback of their params (default: stderr); every
//   other call that can fail returns an enum fer_status (FER_OK = 0), whose
//   text is fer_status_string(). Nothing throws, nothing aborts.
// - Ownership: what *_load_* / *_new returns is the caller's, released with
//   the matching *_free (NULL is accepted). Input buffers are only read during
//   the call (load_from_buffer copies the bytes). A model must outlive every
//   context made from it; a context must outlive the pointers it returned
//   (fer_context_output, fer_context_tensor: valid until its next run).
// - Threads: a loaded model or detector is immutable and may be shared by any
//   number of threads; a context or a tracker is used by one thread at a time.
// - Integers: sizes and counts of pixels, faces and classes are int32_t,
//   byte counts size_t.
#ifndef FER_H
#define FER_H

#include <stddef.h>
#include <stdint.h>

// Version of the runtime and its API: FER_VERSION at compile time,
// fer_version() for the library actually linked.
#define FER_VERSION_MAJOR 0
#define FER_VERSION_MINOR 2
#define FER_VERSION_PATCH 0
#define FER_VERSION "0.2.0"

#ifdef __cplusplus
extern "C" {
#endif

// FER2013 label order (the `emotion` column of fer2013.csv).
enum fer_class {
    FER_ANGRY = 0,
    FER_DISGUST = 1,
    FER_FEAR = 2,
    FER_HAPPY = 3,
    FER_SAD = 4,
    FER_SURPRISE = 5,
    FER_NEUTRAL = 6,
};

#define FER_N_CLASSES 7
#define FER_INPUT_SIZE 48  // faces are 48x48 single-channel images

// Preprocessing every model expects: x = (pixel - FER_PIXEL_MEAN) / FER_PIXEL_STD,
// pixel in 0..255 grey levels.
#define FER_PIXEL_MEAN 127.5f
#define FER_PIXEL_STD 63.75f

// "0.2.0": the version of the library linked (compare with FER_VERSION).
const char * fer_version(void);

// Canonical name of a class ("angry" ... "neutral"); NULL when out of range.
const char * fer_class_name(int32_t cls);

// Class of a name, accepting the canonical names and common dataset aliases
// (anger, disgusted, fearful, happiness, sadness, surprised, ...), case-insensitive.
// Returns -1 for an unknown name.
int32_t fer_class_from_name(const char * name);

// ---------------------------------------------------------------------------
// Inference engine
// ---------------------------------------------------------------------------

// The one status enum of every fer header: what the calls that do not
// construct an object return (the detector's FER_DETECT_* names are aliases).
typedef enum fer_status {
    FER_OK = 0,
    FER_ERR_INVALID_ARGUMENT = 1,  // NULL pointer, bad size or parameter, class out of range
    FER_ERR_UNSUPPORTED = 2,       // the model cannot do this (e.g. no class activation map)
    FER_ERR_STATE = 3,             // e.g. a CAM asked before any classification
    FER_ERR_IO = 4,                // a file cannot be opened or read
    FER_ERR_FORMAT = 5,            // not a model or detector file, corrupt or unsupported
    FER_ERR_TOO_LARGE = 6,         // an image above FER_DETECT_MAX_SIDE / FER_DETECT_MAX_PIXELS
    FER_ERR_MEMORY = 7,            // an allocation failed
} fer_status;
// Short English text of a status ("ok", "invalid argument", ...).
const char * fer_status_string(int status);

enum fer_log_level { FER_LOG_ERROR = 0, FER_LOG_WARN = 1, FER_LOG_INFO = 2 };

// Kernel sets: which optimised kernels a model runs (fer_model_params.kernel_set).
// Every optimised kernel has a reference twin: int8 results are bit-identical
// across sets, float32 ones differ only by rounding (FMA, summation order).
// Tests and benchmarks force each set to run each path of a whole model.
enum fer_kernel_set {
    FER_KERNELS_BEST = 0,          // the fastest set this build and CPU run (chosen at load)
    FER_KERNELS_REFERENCE = 1,     // the readable reference loops only
    FER_KERNELS_AVX2 = 2,          // x86-64 AVX2 + FMA (float32 conv/depthwise/FC, int8 conv/depthwise)
    FER_KERNELS_AVXVNNI = 3,       // AVX2 + FMA, and AVX-VNNI for the int8 convolution
    FER_KERNELS_NEON = 4,          // AArch64 NEON int8 convolution
    FER_KERNELS_WASM_SIMD128 = 5,  // WebAssembly SIMD128 int8 convolution (the web app's SIMD build)
};
#define FER_KERNELS_COUNT 6
// 1 when this build and this CPU run the set (BEST and REFERENCE always).
int fer_kernel_set_supported(int set);
// "best", "reference", "avx2", "avxvnni", "neon", "wasm-simd128"; NULL out of range.
const char * fer_kernel_set_name(int set);
typedef void (*fer_log_callback)(int level, const char * message, void * user_data);

struct fer_model_params {
    fer_log_callback log_callback;  // NULL: errors go to stderr
    void * log_user_data;
    int32_t keep_all_tensors;  // tools: keep every intermediate tensor (bigger arena), see fer_context_tensor
    int32_t reference_kernels;  // deprecated, kept for old callers: 1 = kernel_set FER_KERNELS_REFERENCE
    // 0, 0: the input size written in the file. Otherwise a model that is not a
    // classifier (a face detector) is instantiated for a [1, input_height,
    // input_width, C] input: every activation shape is derived from it at load
    // (RESIZE_NEAREST_NEIGHBOR keeps the file's whole scale factor).
    int32_t input_height, input_width;
    // enum fer_kernel_set: FER_KERNELS_BEST by default; a set this build or
    // CPU cannot run makes the load fail (see fer_kernel_set_supported).
    int32_t kernel_set;
};
struct fer_model_params fer_model_default_params(void);

// An immutable model: verified completely at load, then shareable by any
// number of threads. NULL on failure, the reason (naming the op or tensor and
// the problem) sent to the log callback. Free it after its last context.
typedef struct fer_model fer_model;
fer_model * fer_model_load(const char * path, struct fer_model_params params);
// The same as fer_model_load (the older name, kept).
fer_model * fer_model_load_from_file(const char * path, struct fer_model_params params);
// The bytes are copied; the caller may free them when this returns.
fer_model * fer_model_load_from_buffer(const void * data, size_t size, struct fer_model_params params);
void fer_model_free(fer_model * model);

// Label of class `cls` from the model's metadata (FER2013 name when absent); NULL out of range.
const char * fer_model_class_label(const fer_model * model, int32_t cls);
// A value of the model's "fer.info" metadata (key=value lines), or NULL.
const char * fer_model_meta(const fer_model * model, const char * key);
// Bytes of arena a context needs (the whole inference memory besides weights).
size_t fer_model_arena_size(const fer_model * model);
// Which kernels the model runs with (chosen once at load from the CPU), as text.
const char * fer_model_kernels(const fer_model * model);
// The kernel set the model runs (enum fer_kernel_set, never BEST: the one BEST chose).
int fer_model_kernel_set(const fer_model * model);
// 1 when the model has a global-average-pool head, so class activation maps
// come with every classification at no extra pass; their size in *h, *w.
int32_t fer_model_has_cam(const fer_model * model, int32_t * h, int32_t * w);

// Per-thread state: the planned arena. fer_classify allocates nothing. One
// thread at a time per context; the model must outlive it.
typedef struct fer_context fer_context;
fer_context * fer_context_new(const fer_model * model);
void fer_context_free(fer_context * ctx);
// The model a context runs (NULL for a NULL context).
const fer_model * fer_context_model(const fer_context * ctx);

struct fer_result {
    float probabilities[FER_N_CLASSES];  // sum to 1, FER2013 label order
    int32_t top_class;
    float confidence;  // probabilities[top_class]
};

// Classifies a 48x48 8-bit grey face (row stride in bytes, >= 48), with the
// model's preprocessing (FER_PIXEL_MEAN / FER_PIXEL_STD).
int fer_classify(fer_context * ctx, const unsigned char * face, int32_t stride, struct fer_result * out);
// Same on an already normalised 48x48 float face (row-major).
int fer_classify_f32(fer_context * ctx, const float * input, struct fer_result * out);
// Class activation map of class `cls` for the last classified face: n = h*w
// values (see fer_model_has_cam), CAM[y][x] = sum_c W_fc[cls][c] * A[y][x][c]
// over the last feature map A (no bias: its mean plus the bias is the logit).
int fer_context_cam(const fer_context * ctx, int32_t cls, float * out, size_t n);

// For tools (int8 calibration, debugging): the number of tensors of the
// graph, and tensor `index` after the last classification: its data (FLOAT32
// as float, INT8 as int8_t, INT32 as int32_t), element count, TFLite type
// number and name. NULL when its memory was reused by later ops (load with
// keep_all_tensors to keep them all) or the index is out of range.
int32_t fer_model_n_tensors(const fer_model * model);

// ---- Any graph (face detectors and other models that are not classifiers) ----
// A model's task from its metadata: "classifier" (absent: a classifier,
// fer_classify works), "face_detector", ...; NULL for a NULL model.
const char * fer_model_task(const fer_model * model);
// Shape of the input (returns the rank, 0 on a NULL argument) and of output i
// (the graph's outputs in file order); names of the outputs.
int32_t fer_model_input_dims(const fer_model * model, int32_t dims[4]);
int32_t fer_model_n_outputs(const fer_model * model);
const char * fer_model_output_name(const fer_model * model, int32_t i);
int32_t fer_model_output_dims(const fer_model * model, int32_t i, int32_t dims[4]);
// Runs the graph on `input` (n floats, exactly the input's element count, in
// its NHWC layout, no preprocessing). FER_ERR_INVALID_ARGUMENT on a wrong n.
int fer_context_run(fer_context * ctx, const float * input, size_t n);
// The context's own input buffer (its element count into *n), to fill in place
// and pass to fer_context_run, which then copies nothing (a large input's
// copy saved: YuNet's are megabytes). Valid until the context is freed; its
// contents are not kept across runs (later tensors may reuse the memory), so
// fill all of it before every run. NULL on a NULL context.
float * fer_context_input(fer_context * ctx, size_t * n);
// Output i after the last run: n floats (its element count into *n), valid
// until the next run on this context; NULL when out of range.
const float * fer_context_output(const fer_context * ctx, int32_t i, size_t * n);
const void * fer_context_tensor(const fer_context * ctx, int32_t index, size_t * n, int32_t * type, const char ** name);

#ifdef __cplusplus
}
#endif

#endif  // FER_H
