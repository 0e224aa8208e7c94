// fer._core: the pybind11 layer over the runtime's C API (include/fer*.h).
// The Python package (python/fer/) wraps it in dataclasses and defaults;
// docs/python.md describes both. Every inference runs with the GIL released.
#pragma once

#include "fer-pipeline.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace fer_py {

namespace py = pybind11;

// Raised as fer.ModelError / fer.DetectorError (subclasses of fer.FerError,
// itself a RuntimeError): a file the runtime refuses, with its reason.
struct model_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
struct detector_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// A runtime call that failed on valid input (fer.FerError).
struct runtime_failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A loaded classifier and a pool of contexts (one per concurrent call: a
// context is per-thread state, the model is shared).
class model {
public:
    model(const std::string & path, int threads, bool reference_kernels);
    ~model();
    model(const model &) = delete;
    model & operator=(const model &) = delete;

    const fer_model * get() const { return model_; }
    const std::string & path() const { return path_; }
    int threads() const { return threads_; }

    // A context for the duration of one call, returned to the pool after.
    class lease {
    public:
        lease(model & m);
        ~lease();
        lease(const lease &) = delete;
        lease & operator=(const lease &) = delete;
        fer_context * get() const { return ctx_; }

    private:
        model & m_;
        fer_context * ctx_;
    };

private:
    fer_model * model_ = nullptr;
    std::string path_;
    int threads_ = 1;
    std::mutex mu_;
    std::vector<fer_context *> free_;
};

class detector {
public:
    explicit detector(const std::string & path);
    ~detector();
    detector(const detector &) = delete;
    detector & operator=(const detector &) = delete;
    const fer_detector * get() const { return det_; }
    const std::string & path() const { return path_; }

private:
    fer_detector * det_ = nullptr;
    std::string path_;
};

// A picture as the runtime takes it: a pointer into the NumPy array's own
// memory (zero copy) or, for layouts the runtime does not read (RGB, BGRA),
// a converted copy owned here.
struct image_view {
    const uint8_t * pixels = nullptr;
    int32_t width = 0, height = 0, stride = 0;
    fer_pixel_format format = FER_PIXEL_GREY;
    int convert_from = 0;  // 3: RGB, 4: BGRA, to be converted to BGR into `copy`
    std::vector<uint8_t> copy;
    py::object keep_alive;  // the array, while the pointer is used
};

// Checks dtype, shape and layout (clear TypeError / ValueError otherwise).
// color: "auto", "bgr", "rgb", "bgra", "rgba", "grey" (or "gray"). The copy
// for RGB/BGRA is made later by convert_image, without the GIL.
image_view image_from_array(const py::handle & obj, const std::string & color, const char * what);
void convert_image(image_view & v);

// Face crops for the classifier: n pointers to 48x48 grey pixels (resized by
// area averaging when the crops have another size).
struct crop_batch {
    size_t n = 0;
    int32_t height = 0, width = 0;
    const uint8_t * base = nullptr;
    ptrdiff_t crop_stride = 0, row_stride = 0;
    py::object keep_alive;
};
crop_batch crops_from_array(const py::handle & obj);
// Crop i as a 48x48 picture: the array's own rows when it is 48x48, else a
// resized copy into `scratch`. Returns the pixels and their row stride.
const uint8_t * crop_48(const crop_batch & b, size_t i, std::vector<uint8_t> & scratch, int * stride);

// Bindings of each part (module.cpp calls them).
void bind_model(py::module_ & m);
void bind_analyze(py::module_ & m);

}  // namespace fer_py
