// fer._core.Model and fer._core.Detector: loading (the runtime's reason in
// the exception), the context pool, and batch classification of face crops.
#include "binding.h"
#include "parallel.h"

#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>

namespace fer_py {

namespace {

// The runtime reports why a file is refused through the log callback.
void collect_errors(int level, const char * message, void * user) {
    if (level == FER_LOG_ERROR) {
        auto * s = static_cast<std::string *>(user);
        *s += (s->empty() ? "" : "; ") + std::string(message);
    }
}

}  // namespace

model::model(const std::string & path, int threads, bool reference_kernels) : path_(path), threads_(threads) {
    if (threads < 1 || threads > 256) {
        throw std::invalid_argument("threads must be in 1..256 (got " + std::to_string(threads) + ")");
    }
    std::string log;
    fer_model_params p = fer_model_default_params();
    p.log_callback = collect_errors;
    p.log_user_data = &log;
    p.reference_kernels = reference_kernels ? 1 : 0;
    {
        py::gil_scoped_release nogil;
        model_ = fer_model_load_from_file(path.c_str(), p);
    }
    if (!model_) {
        throw model_error(path + ": " + (log.empty() ? "cannot load the model" : log));
    }
}

model::~model() {
    for (fer_context * c : free_) {
        fer_context_free(c);
    }
    fer_model_free(model_);
}

model::lease::lease(model & m) : m_(m), ctx_(nullptr) {
    {
        std::lock_guard<std::mutex> lock(m.mu_);
        if (!m.free_.empty()) {
            ctx_ = m.free_.back();
            m.free_.pop_back();
        }
    }
    if (!ctx_) {
        ctx_ = fer_context_new(m.model_);
    }
    if (!ctx_) {
        throw std::bad_alloc();
    }
}

model::lease::~lease() {
    std::lock_guard<std::mutex> lock(m_.mu_);
    m_.free_.push_back(ctx_);
}

detector::detector(const std::string & path) : path_(path) {
    char err[512] = {0};
    fer_detect_status st = FER_DETECT_OK;
    {
        py::gil_scoped_release nogil;
        det_ = fer_detector_load_from_file(path.c_str(), &st, err, sizeof err);
    }
    if (!det_) {
        throw detector_error(path + ": " + (err[0] ? err : fer_detect_status_name(st)));
    }
}

detector::~detector() {
    fer_detector_free(det_);
}

namespace {

// classify(crops, tta) -> (probabilities [N, 7] float32, top class [N] int32)
py::tuple classify(model & m, const py::handle & crops, int tta) {
    const crop_batch b = crops_from_array(crops);
    py::array_t<float> probs({static_cast<py::ssize_t>(b.n), static_cast<py::ssize_t>(FER_N_CLASSES)});
    py::array_t<int32_t> top(static_cast<py::ssize_t>(b.n));
    float * p = probs.mutable_data();
    int32_t * t = top.mutable_data();
    std::string error;
    {
        py::gil_scoped_release nogil;
        error = parallel_for(m, b.n, [&](fer_context * ctx, size_t i, std::vector<uint8_t> & scratch) -> std::string {
            int stride = 0;
            const uint8_t * face = crop_48(b, i, scratch, &stride);
            fer_result r;
            const int st = fer_classify_ensemble(&ctx, 1, face, stride, tta, &r);
            if (st != FER_OK) {
                return "crop " + std::to_string(i) + ": classification failed: " + fer_status_string(st);
            }
            std::memcpy(p + i * FER_N_CLASSES, r.probabilities, sizeof r.probabilities);
            t[i] = r.top_class;
            return "";
        });
    }
    if (!error.empty()) {
        throw runtime_failure(m.path() + ": " + error);
    }
    return py::make_tuple(probs, top);
}

}  // namespace

void bind_model(py::module_ & m) {
    py::class_<model>(m, "Model", "A TFLite classifier loaded into fer's runtime (see fer.Model).")
        .def(py::init<const std::string &, int, bool>(), py::arg("path"), py::arg("threads") = 1,
             py::arg("reference_kernels") = false)
        .def_property_readonly("path", &model::path)
        .def_property_readonly("threads", &model::threads)
        .def_property_readonly("kernels", [](const model & s) { return std::string(fer_model_kernels(s.get())); })
        .def_property_readonly("task", [](const model & s) { return std::string(fer_model_task(s.get())); })
        .def_property_readonly("arena_size", [](const model & s) { return fer_model_arena_size(s.get()); })
        .def_property_readonly("labels",
                               [](const model & s) {
                                   std::vector<std::string> v;
                                   for (int c = 0; c < FER_N_CLASSES; ++c) {
                                       v.emplace_back(fer_model_class_label(s.get(), c));
                                   }
                                   return v;
                               })
        .def("meta",
             [](const model & s, const std::string & key) -> py::object {
                 const char * v = fer_model_meta(s.get(), key.c_str());
                 return v ? py::object(py::str(v)) : py::object(py::none());
             })
        .def("classify", &classify, py::arg("crops"), py::arg("tta") = 0);

    py::class_<detector>(m, "Detector", "A face detector file loaded into fer's runtime (see fer.Detector).")
        .def(py::init<const std::string &>(), py::arg("path"))
        .def_property_readonly("path", &detector::path)
        .def_property_readonly("kind", [](const detector & d) { return std::string(fer_detector_kind_name(d.get())); });
}

}  // namespace fer_py
