// The extension module fer._core (python/fer/ is the public package).
#include "binding.h"

using namespace fer_py;

PYBIND11_MODULE(_core, m) {
    m.doc() = "fer's C runtime (include/fer*.h) for Python; use the fer package, not this module";
    // Exceptions carrying the runtime's own messages (the fer package
    // re-exports them): FerError is a RuntimeError.
    static py::exception<runtime_failure> fer_error(m, "FerError", PyExc_RuntimeError);
    static py::exception<model_error> model_exc(m, "ModelError", fer_error.ptr());
    static py::exception<detector_error> detector_exc(m, "DetectorError", fer_error.ptr());
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) {
                std::rethrow_exception(p);
            }
        } catch (const model_error & e) {
            model_exc(e.what());
        } catch (const detector_error & e) {
            detector_exc(e.what());
        } catch (const runtime_failure & e) {
            fer_error(e.what());
        }
    });
    m.attr("N_CLASSES") = FER_N_CLASSES;
    m.attr("INPUT_SIZE") = FER_INPUT_SIZE;
    bind_model(m);
    bind_analyze(m);
}
