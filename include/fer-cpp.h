// Thin C++ layer over include/fer.h: RAII handles, no exceptions.
//
//   fer::model m = fer::model::from_file("fernet.tflite");
//   if (!m) return 1;                       // the reason went to the log callback
//   fer::context ctx(m);                    // one per thread
//   fer_result r;
//   if (ctx.classify(face, 48, &r) == FER_OK) use(m.label(r.top_class), r.confidence);
#ifndef FER_CPP_H
#define FER_CPP_H

#include "fer.h"

#include <memory>

namespace fer {

struct model_deleter {
    void operator()(fer_model * m) const { fer_model_free(m); }
};
struct context_deleter {
    void operator()(fer_context * c) const { fer_context_free(c); }
};

class model {
public:
    model() = default;
    explicit model(fer_model * m) : m_(m, model_deleter()) {}
    static model from_file(const char * path, fer_model_params p = fer_model_default_params()) {
        return model(fer_model_load_from_file(path, p));
    }
    static model from_buffer(const void * data, size_t size, fer_model_params p = fer_model_default_params()) {
        return model(fer_model_load_from_buffer(data, size, p));
    }
    explicit operator bool() const { return m_ != nullptr; }
    const fer_model * get() const { return m_.get(); }
    const char * label(int cls) const { return fer_model_class_label(m_.get(), cls); }
    const char * meta(const char * key) const { return fer_model_meta(m_.get(), key); }
    bool has_cam(int * h = nullptr, int * w = nullptr) const { return fer_model_has_cam(m_.get(), h, w) != 0; }

private:
    std::shared_ptr<fer_model> m_;
};

class context {
public:
    // Keeps the model alive while the context exists.
    explicit context(const model & m) : model_(m), c_(fer_context_new(m.get())) {}
    explicit operator bool() const { return c_ != nullptr; }
    fer_context * get() const { return c_.get(); }
    int classify(const unsigned char * face, int stride, fer_result * out) {
        return fer_classify(c_.get(), face, stride, out);
    }
    int classify(const float * normalised, fer_result * out) { return fer_classify_f32(c_.get(), normalised, out); }
    int cam(int cls, float * out, size_t n) const { return fer_context_cam(c_.get(), cls, out, n); }

private:
    model model_;
    std::unique_ptr<fer_context, context_deleter> c_;
};

}  // namespace fer

#endif  // FER_CPP_H
