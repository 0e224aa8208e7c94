// The C API of include/fer.h over the runtime's parts: loading (reader,
// verifier, planner, kernel choice), contexts, classification and the
// accessors. Nothing here knows an operator.
#include "model/model.h"
#include "top-class.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

using namespace fer_rt;
using namespace fer_tflite;

fer_context::~fer_context() {
    std::free(arena);
    std::free(scratch);
}

namespace {

void default_log(int level, const char * msg, void *) {
    std::fprintf(stderr, "fer: %s%s\n", level == FER_LOG_ERROR ? "error: " : "", msg);
}

fer_model * load_model(const uint8_t * data, uint64_t size, const fer_model_params & params) {
    fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
    // reference_kernels (the older switch) stands for FER_KERNELS_REFERENCE when no set is named.
    const int requested = params.kernel_set == FER_KERNELS_BEST && params.reference_kernels
                              ? static_cast<int>(FER_KERNELS_REFERENCE) : params.kernel_set;
    kernel_set ks;
    if (!resolve_kernel_set(requested, &ks)) {
        const char * name = fer_kernel_set_name(requested);
        const std::string msg = std::string("cannot load model: kernel set ") + (name ? name : std::to_string(requested)) +
                                " is not supported by this build or CPU";
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        return nullptr;
    }
    fer_model * m = new (std::nothrow) fer_model;
    if (!m) {
        return nullptr;
    }
    m->keep_all = params.keep_all_tensors != 0;
    m->kernels = ks;
    std::string error;
    if (!read_tflite(data, size, params.input_height, params.input_width, m, &error) || !plan_arena(m, &error)) {
        const std::string msg = "cannot load model: " + error;
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        delete m;
        return nullptr;
    }
    select_kernels(m);
    return m;
}

int finish_result(fer_context * c, fer_result * r) {
    const fer_model & m = *c->model;
    if (!m.classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    const float * p = c->cptr(m.probs);
    if (m.probs_is_softmax) {
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            r->probabilities[k] = p[k];
        }
    } else {
        fer_softmax_f32__ref(1, FER_N_CLASSES, 1.0f, p, r->probabilities);
    }
    r->top_class = top_class(r->probabilities);
    r->confidence = r->probabilities[r->top_class];
    c->has_result = true;
    return FER_OK;
}

}  // namespace

// ---------------------------------------------------------------------------
// C API
// ---------------------------------------------------------------------------

extern "C" {

const char * fer_version(void) { return FER_VERSION; }

const char * fer_status_string(int status) {
    switch (status) {
    case FER_OK: return "ok";
    case FER_ERR_INVALID_ARGUMENT: return "invalid argument";
    case FER_ERR_UNSUPPORTED: return "not supported by this model";
    case FER_ERR_STATE: return "no classification yet";
    case FER_ERR_IO: return "cannot read the file";
    case FER_ERR_FORMAT: return "bad model or detector file";
    case FER_ERR_TOO_LARGE: return "image too large";
    case FER_ERR_MEMORY: return "out of memory";
    default: return "unknown status";
    }
}

struct fer_model_params fer_model_default_params(void) {
    fer_model_params p;
    p.log_callback = nullptr;
    p.log_user_data = nullptr;
    p.keep_all_tensors = 0;
    p.reference_kernels = 0;
    p.kernel_set = FER_KERNELS_BEST;
    p.input_height = 0;
    p.input_width = 0;
    return p;
}

fer_model * fer_model_load_from_buffer(const void * data, size_t size, struct fer_model_params params) {
    if (!data) {
        fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
        cb(FER_LOG_ERROR, "cannot load model: no data", params.log_user_data);
        return nullptr;
    }
    return load_model(static_cast<const uint8_t *>(data), size, params);
}

fer_model * fer_model_load_from_file(const char * path, struct fer_model_params params) { return fer_model_load(path, params); }

fer_model * fer_model_load(const char * path, struct fer_model_params params) {
    fer_log_callback cb = params.log_callback ? params.log_callback : default_log;
    FILE * f = path ? std::fopen(path, "rb") : nullptr;
    if (!f) {
        const std::string msg = std::string("cannot open model file '") + (path ? path : "(null)") + "'";
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        return nullptr;
    }
    std::vector<uint8_t> bytes;
    uint8_t chunk[1 << 16];
    size_t got;
    bool too_big = false;
    while ((got = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (bytes.size() + got > k_max_file) {
            too_big = true;
            break;
        }
        bytes.insert(bytes.end(), chunk, chunk + got);
    }
    const bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (too_big || read_error) {
        const std::string msg = std::string("cannot load model file '") + path + "': " +
                                (too_big ? "larger than the 512 MiB limit" : "read error");
        cb(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        return nullptr;
    }
    fer_model * m = load_model(bytes.data(), bytes.size(), params);
    return m;
}

void fer_model_free(fer_model * model) { delete model; }

const char * fer_model_class_label(const fer_model * model, int cls) {
    if (!model || cls < 0 || cls >= FER_N_CLASSES) {
        return nullptr;
    }
    return model->labels.empty() ? fer_class_name(cls) : model->labels[static_cast<size_t>(cls)].c_str();
}

const char * fer_model_meta(const fer_model * model, const char * key) {
    if (!model || !key) {
        return nullptr;
    }
    for (const auto & kv : model->info) {
        if (kv.first == key) {
            return kv.second.c_str();
        }
    }
    return nullptr;
}

size_t fer_model_arena_size(const fer_model * model) {
    return model ? model->arena_bytes + model->scratch_words * sizeof(int32_t) : 0;
}

const char * fer_model_kernels(const fer_model * model) {
    const kernel_set * ks = model ? &model->kernels : nullptr;
    // each build names only the sets it can run (the web app's SIMD module downloads no x86 text)
#ifdef FER_HAVE_AVX2
    if (ks && ks->vnni) {
        return "avx2+fma (float32 conv, depthwise and fully connected, int8 depthwise, add, max pooling and quantize), "
               "avx-vnni (int8 conv), reference (others)";
    }
    if (ks && ks->avx2) {
        return "avx2+fma (float32 conv, depthwise and fully connected, int8 conv, depthwise, add, max pooling and quantize), "
               "reference (others)";
    }
#endif
#ifdef __aarch64__
    if (ks && ks->neon) {
        return "neon (int8 conv), lookup tables (int8 add), reference (others)";
    }
#endif
    return ks && ks->wasm128
               ? "wasm simd128 (float32 conv and depthwise, int8 conv, depthwise, add, max pooling and quantize), "
                 "reference (others)"
               : "reference";
}

int fer_model_kernel_set(const fer_model * model) { return model ? model->kernels.id : FER_KERNELS_REFERENCE; }

int fer_model_has_cam(const fer_model * model, int * h, int * w) {
    if (!model || model->cam_features < 0) {
        return 0;
    }
    const rt_tensor & f = model->tensors[static_cast<size_t>(model->cam_features)];
    if (h) {
        *h = f.dims[1];
    }
    if (w) {
        *w = f.dims[2];
    }
    return 1;
}

fer_context * fer_context_new(const fer_model * model) {
    if (!model) {
        return nullptr;
    }
    fer_context * c = new (std::nothrow) fer_context;
    if (!c) {
        return nullptr;
    }
    c->model = model;
    c->arena = static_cast<float *>(std::calloc(model->arena_bytes / 4 + 16, sizeof(float)));
    if (model->scratch_words) {
        c->scratch = static_cast<int32_t *>(std::calloc(model->scratch_words, sizeof(int32_t)));
    }
    if (!c->arena || (model->scratch_words && !c->scratch)) {
        delete c;
        return nullptr;
    }
    return c;
}

void fer_context_free(fer_context * ctx) { delete ctx; }

const fer_model * fer_context_model(const fer_context * ctx) { return ctx ? ctx->model : nullptr; }

int fer_classify_f32(fer_context * ctx, const float * input, struct fer_result * out) {
    if (!ctx || !input || !out) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (!ctx->model->classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    std::memcpy(ctx->ptr(ctx->model->input), input, sizeof(float) * FER_INPUT_SIZE * FER_INPUT_SIZE);
    run_graph(ctx);
    return finish_result(ctx, out);
}

int fer_classify(fer_context * ctx, const unsigned char * face, int stride, struct fer_result * out) {
    if (!ctx || !face || !out || stride < FER_INPUT_SIZE) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (!ctx->model->classifier) {
        return FER_ERR_UNSUPPORTED;
    }
    const fer_model & m = *ctx->model;
    float * x = ctx->ptr(m.input);
    const float inv_std = 1.0f / m.pixel_std;
    for (int y = 0; y < FER_INPUT_SIZE; ++y) {
        for (int i = 0; i < FER_INPUT_SIZE; ++i) {
            x[y * FER_INPUT_SIZE + i] = (static_cast<float>(face[static_cast<size_t>(y) * static_cast<size_t>(stride) + i]) -
                                         m.pixel_mean) * inv_std;
        }
    }
    run_graph(ctx);
    return finish_result(ctx, out);
}

int fer_context_cam(const fer_context * ctx, int cls, float * out, size_t n) {
    if (!ctx || !out || cls < 0 || cls >= FER_N_CLASSES) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const fer_model & m = *ctx->model;
    if (m.cam_features < 0) {
        return FER_ERR_UNSUPPORTED;
    }
    if (!ctx->has_result) {
        return FER_ERR_STATE;
    }
    const rt_tensor & f = m.tensors[static_cast<size_t>(m.cam_features)];
    const size_t hw = static_cast<size_t>(f.dims[1]) * static_cast<size_t>(f.dims[2]);
    const size_t c = static_cast<size_t>(f.dims[3]);
    if (n < hw) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const rt_tensor & wt = m.tensors[static_cast<size_t>(m.cam_weights)];
    if (f.type == tfl_int8) {  // dequantised on the fly
        const int8_t * a = static_cast<const int8_t *>(const_cast<fer_context *>(ctx)->raw(m.cam_features));
        const int8_t * w = static_cast<const int8_t *>(m.data(wt)) + static_cast<size_t>(cls) * c;
        const float sw = wt.scales[wt.scales.size() > 1 ? static_cast<size_t>(cls) : 0];
        for (size_t i = 0; i < hw; ++i) {
            int32_t acc = 0;
            for (size_t k = 0; k < c; ++k) {
                acc += static_cast<int32_t>(w[k]) * (static_cast<int32_t>(a[i * c + k]) - f.zp);
            }
            out[i] = static_cast<float>(acc) * f.scale * sw;
        }
        return FER_OK;
    }
    const float * a = ctx->cptr(m.cam_features);
    const float * w = static_cast<const float *>(m.data(wt)) + static_cast<size_t>(cls) * c;
    for (size_t i = 0; i < hw; ++i) {
        float acc = 0.0f;
        for (size_t k = 0; k < c; ++k) {
            acc += w[k] * a[i * c + k];
        }
        out[i] = acc;
    }
    return FER_OK;
}

}  // extern "C"

extern "C" {

int fer_model_n_tensors(const fer_model * model) { return model ? static_cast<int>(model->tensors.size()) : 0; }

const void * fer_context_tensor(const fer_context * ctx, int index, size_t * n, int * type, const char ** name) {
    if (!ctx || index < 0 || index >= static_cast<int>(ctx->model->tensors.size())) {
        return nullptr;
    }
    const rt_tensor & t = ctx->model->tensors[static_cast<size_t>(index)];
    if (n) {
        *n = t.n;
    }
    if (type) {
        *type = t.type;
    }
    if (name) {
        *name = t.name.c_str();
    }
    if (!t.is_const && (!t.in_arena || !(t.pinned || ctx->model->keep_all))) {
        return nullptr;  // never computed, or its memory was reused
    }
    return const_cast<fer_context *>(ctx)->raw(index);
}

}  // extern "C"

extern "C" {

const char * fer_model_task(const fer_model * model) {
    if (!model) {
        return nullptr;
    }
    if (model->classifier) {
        return "classifier";
    }
    const char * t = fer_model_meta(model, "task");
    return t ? t : "unknown";
}

int fer_model_input_dims(const fer_model * model, int dims[4]) {
    if (!model || !dims) {
        return 0;
    }
    const rt_tensor & t = model->tensors[static_cast<size_t>(model->input)];
    for (int k = 0; k < 4; ++k) {
        dims[k] = t.dims[k];
    }
    return t.rank;
}

int fer_model_n_outputs(const fer_model * model) { return model ? static_cast<int>(model->outputs.size()) : 0; }

static const fer_rt::rt_tensor * output_tensor(const fer_model * model, int i) {
    if (!model || i < 0 || i >= static_cast<int>(model->outputs.size())) {
        return nullptr;
    }
    return &model->tensors[static_cast<size_t>(model->outputs[static_cast<size_t>(i)])];
}

const char * fer_model_output_name(const fer_model * model, int i) {
    const rt_tensor * t = output_tensor(model, i);
    return t ? t->name.c_str() : nullptr;
}

int fer_model_output_dims(const fer_model * model, int i, int dims[4]) {
    const rt_tensor * t = output_tensor(model, i);
    if (!t || !dims) {
        return 0;
    }
    for (int k = 0; k < 4; ++k) {
        dims[k] = t->dims[k];
    }
    return t->rank;
}

float * fer_context_input(fer_context * ctx, size_t * n) {
    if (!ctx) {
        return nullptr;
    }
    const fer_model & m = *ctx->model;
    const rt_tensor & in = m.tensors[static_cast<size_t>(m.input)];
    if (in.type != tfl_float32) {
        return nullptr;
    }
    if (n) {
        *n = in.n;
    }
    return ctx->ptr(m.input);
}

int fer_context_run(fer_context * ctx, const float * input, size_t n) {
    if (!ctx || !input) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const fer_model & m = *ctx->model;
    const rt_tensor & in = m.tensors[static_cast<size_t>(m.input)];
    if (n != in.n) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (input != ctx->ptr(m.input)) {  // filled in place through fer_context_input: nothing to copy
        std::memcpy(ctx->ptr(m.input), input, sizeof(float) * n);
    }
    run_graph(ctx);
    ctx->has_result = m.classifier;  // a CAM needs a classification (fer_classify* fills the result)
    return FER_OK;
}

const float * fer_context_output(const fer_context * ctx, int i, size_t * n) {
    if (!ctx) {
        return nullptr;
    }
    const rt_tensor * t = output_tensor(ctx->model, i);
    if (!t || t->type != tfl_float32) {
        return nullptr;
    }
    if (n) {
        *n = t->n;
    }
    return ctx->cptr(ctx->model->outputs[static_cast<size_t>(i)]);
}

}  // extern "C"
