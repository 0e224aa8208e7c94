// Thin C++ layer over the C API (fer.h, fer-detect.h, fer-pipeline.h): RAII
// handles for every object the C API creates, no exceptions. Each handle is
// movable, tests as bool (false: the load failed; the reason went to the log
// callback), and gives the C pointer with get() for the calls it does not wrap.
//
//   fer::model m = fer::model::load("fernet-int8.tflite");
//   fer::detector det = fer::detector::load("yunet-int8.tflite");
//   if (!m || !det) return 1;                 // the reasons went to the log callback
//   fer::context ctx(m);                      // one per thread; keeps the model alive
//   fer_result r;
//   if (ctx.classify(face, 48, &r) == FER_OK) use(m.label(r.top_class), r.confidence);
//   fer::tracker t;                           // one per video stream
#ifndef FER_CPP_H
#define FER_CPP_H

#include "fer-detect.h"
#include "fer-pipeline.h"
#include "fer.h"

#include <cstdint>
#include <memory>

namespace fer {

struct model_deleter {
    void operator()(fer_model * m) const { fer_model_free(m); }
};
struct context_deleter {
    void operator()(fer_context * c) const { fer_context_free(c); }
};
struct detector_deleter {
    void operator()(fer_detector * d) const { fer_detector_free(d); }
};
struct tracker_deleter {
    void operator()(fer_tracker * t) const { fer_tracker_free(t); }
};

// An immutable model, shared (reference-counted) by the contexts made from it.
class model {
public:
    model() = default;
    explicit model(fer_model * m) : m_(m, model_deleter()) {}
    static model load(const char * path, fer_model_params p = fer_model_default_params()) {
        return model(fer_model_load(path, p));
    }
    static model from_file(const char * path, fer_model_params p = fer_model_default_params()) { return load(path, p); }
    static model from_buffer(const void * data, size_t size, fer_model_params p = fer_model_default_params()) {
        return model(fer_model_load_from_buffer(data, size, p));
    }
    explicit operator bool() const { return m_ != nullptr; }
    const fer_model * get() const { return m_.get(); }
    const char * label(int32_t cls) const { return fer_model_class_label(m_.get(), cls); }
    const char * meta(const char * key) const { return fer_model_meta(m_.get(), key); }
    const char * task() const { return fer_model_task(m_.get()); }
    const char * kernels() const { return fer_model_kernels(m_.get()); }
    int32_t kernel_set() const { return fer_model_kernel_set(m_.get()); }
    bool has_cam(int32_t * h = nullptr, int32_t * w = nullptr) const { return fer_model_has_cam(m_.get(), h, w) != 0; }

private:
    std::shared_ptr<fer_model> m_;
};

// Per-thread inference state; keeps its model alive.
class context {
public:
    context() = default;
    explicit context(const model & m) : model_(m), c_(fer_context_new(m.get())) {}
    explicit operator bool() const { return c_ != nullptr; }
    fer_context * get() const { return c_.get(); }
    int classify(const unsigned char * face, int32_t stride, fer_result * out) {
        return fer_classify(c_.get(), face, stride, out);
    }
    int classify(const float * normalised, fer_result * out) { return fer_classify_f32(c_.get(), normalised, out); }
    int classify_flip(const unsigned char * face, int32_t stride, fer_result * out) {
        return fer_classify_flip(c_.get(), face, stride, out);
    }
    int cam(int32_t cls, float * out, size_t n) const { return fer_context_cam(c_.get(), cls, out, n); }
    int run(const float * input, size_t n) { return fer_context_run(c_.get(), input, n); }
    const float * output(int32_t i, size_t * n = nullptr) const { return fer_context_output(c_.get(), i, n); }

private:
    model model_;
    std::unique_ptr<fer_context, context_deleter> c_;
};

// A face detector (YuNet or a Haar cascade): immutable, shareable across threads.
class detector {
public:
    detector() = default;
    explicit detector(fer_detector * d) : d_(d, detector_deleter()) {}
    static detector load(const char * path, fer_detector_params p = fer_detector_default_params()) {
        return detector(fer_detector_load(path, p));
    }
    static detector from_buffer(const void * data, size_t size, fer_detector_params p = fer_detector_default_params()) {
        return detector(fer_detector_load_from_buffer(data, size, p));
    }
    explicit operator bool() const { return d_ != nullptr; }
    const fer_detector * get() const { return d_.get(); }
    const char * kind_name() const { return fer_detector_kind_name(d_.get()); }
    int detect(const uint8_t * pixels, int32_t width, int32_t height, int32_t stride, fer_pixel_format format,
               const fer_detect_params & p, fer_box * boxes, int32_t max_boxes, int32_t * n_boxes) const {
        return fer_detector_detect_image(d_.get(), pixels, width, height, stride, format, &p, boxes, max_boxes,
                                         n_boxes);
    }
    // Faces found and classified with `ctx` (fer_analyze_image).
    int analyze(context & ctx, const uint8_t * pixels, int32_t width, int32_t height, int32_t stride,
                fer_pixel_format format, const fer_pipeline_params & p, fer_face * faces, int32_t max_out,
                int32_t * n_faces) const {
        return fer_analyze_image(ctx.get(), d_.get(), pixels, width, height, stride, format, &p, faces, max_out,
                                 n_faces, nullptr);
    }

private:
    std::shared_ptr<fer_detector> d_;
};

// Face tracks across the frames of one video stream (one thread at a time).
class tracker {
public:
    explicit tracker(fer_tracker_params p = fer_tracker_default_params()) : t_(fer_tracker_new(p)) {}
    explicit operator bool() const { return t_ != nullptr; }
    fer_tracker * get() const { return t_.get(); }
    int update(fer_face * faces, int32_t n_faces) { return fer_tracker_update(t_.get(), faces, n_faces); }

private:
    std::unique_ptr<fer_tracker, tracker_deleter> t_;
};

}  // namespace fer

#endif  // FER_CPP_H
