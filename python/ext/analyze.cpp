// fer._core.analyze: every face of each picture (fer_analyze_image, the code
// `fer predict` runs), pictures spread over the model's threads.
#include "binding.h"
#include "parallel.h"

#include <algorithm>
#include <cstring>

namespace fer_py {

namespace {

template <typename T> T get(const py::dict & d, const char * key, T fallback) {
    return d.contains(key) ? d[key].cast<T>() : fallback;
}

fer_pipeline_params params_from(const py::dict & o) {
    static const char * const known[] = {"min_face",        "max_faces",     "min_confidence", "tta",
                                         "align",           "score_threshold", "nms_threshold", "scale_factor",
                                         "min_neighbors",   "max_size",      "input_long_side", "crop_scale",
                                         "crop_shift_y",    "small_face_score_threshold", "max_pass_pixels"};
    for (auto kv : o) {
        const std::string k = py::str(kv.first);
        if (std::find_if(std::begin(known), std::end(known), [&](const char * n) { return k == n; }) == std::end(known)) {
            throw py::type_error("unknown option '" + k + "'");
        }
    }
    fer_pipeline_params p = fer_pipeline_default_params();
    p.detect.min_size = get<int32_t>(o, "min_face", p.detect.min_size);
    p.detect.max_size = get<int32_t>(o, "max_size", p.detect.max_size);
    p.detect.scale_factor = get<double>(o, "scale_factor", p.detect.scale_factor);
    p.detect.min_neighbors = get<int32_t>(o, "min_neighbors", p.detect.min_neighbors);
    p.detect.score_threshold = get<float>(o, "score_threshold", p.detect.score_threshold);
    p.detect.small_face_score_threshold =
        get<float>(o, "small_face_score_threshold", p.detect.small_face_score_threshold);
    p.detect.nms_threshold = get<float>(o, "nms_threshold", p.detect.nms_threshold);
    p.detect.input_long_side = get<int32_t>(o, "input_long_side", p.detect.input_long_side);
    p.detect.max_pass_pixels = get<int32_t>(o, "max_pass_pixels", p.detect.max_pass_pixels);
    p.max_faces = get<int32_t>(o, "max_faces", p.max_faces);
    p.min_confidence = get<float>(o, "min_confidence", p.min_confidence);
    p.tta = get<int>(o, "tta", FER_TTA_NONE);
    p.align = get<bool>(o, "align", p.align != 0) ? 1 : 0;
    p.crop_scale = get<float>(o, "crop_scale", p.crop_scale);
    p.crop_shift_y = get<float>(o, "crop_shift_y", p.crop_shift_y);
    return p;
}

// One picture's faces as NumPy arrays (the Python layer makes fer.Face objects).
py::dict faces_to_arrays(const std::vector<fer_face> & faces) {
    const auto n = static_cast<py::ssize_t>(faces.size());
    py::array_t<int32_t> boxes({n, py::ssize_t(4)}), crops({n, py::ssize_t(3)}), top(n);
    py::array_t<float> probs({n, py::ssize_t(FER_N_CLASSES)}), conf(n), scores(n), landmarks({n, py::ssize_t(5), py::ssize_t(2)});
    py::array_t<bool> uncertain(n), has_landmarks(n);
    for (py::ssize_t i = 0; i < n; ++i) {
        const fer_face & f = faces[static_cast<size_t>(i)];
        const int32_t b[4] = {f.box.x, f.box.y, f.box.width, f.box.height};
        std::memcpy(boxes.mutable_data(i, 0), b, sizeof b);
        const int32_t c[3] = {f.crop_x, f.crop_y, f.crop_size};
        std::memcpy(crops.mutable_data(i, 0), c, sizeof c);
        std::memcpy(probs.mutable_data(i, 0), f.result.probabilities, sizeof f.result.probabilities);
        std::memcpy(landmarks.mutable_data(i, 0, 0), f.box.landmarks, sizeof f.box.landmarks);
        top.mutable_data()[i] = f.result.top_class;
        conf.mutable_data()[i] = f.result.confidence;
        scores.mutable_data()[i] = f.box.score;
        uncertain.mutable_data()[i] = f.uncertain != 0;
        has_landmarks.mutable_data()[i] = f.box.n_landmarks == 5;
    }
    py::dict d;
    d["boxes"] = boxes;
    d["crops"] = crops;
    d["probabilities"] = probs;
    d["top_class"] = top;
    d["confidence"] = conf;
    d["scores"] = scores;
    d["landmarks"] = landmarks;
    d["has_landmarks"] = has_landmarks;
    d["uncertain"] = uncertain;
    return d;
}

std::string analyze_one(fer_context * ctx, const fer_detector * det, image_view & v, const fer_pipeline_params & p,
                        std::vector<fer_face> & faces) {
    convert_image(v);
    // Room for the usual case; a crowd costs a second call with the exact count.
    faces.resize(64);
    int32_t n = 0;
    fer_detect_status ds = FER_DETECT_OK;
    int st = FER_OK;
    for (int pass = 0; pass < 2; ++pass) {
        st = fer_analyze_image(ctx, det, v.pixels, v.width, v.height, v.stride, v.format, &p, faces.data(),
                               static_cast<int32_t>(faces.size()), &n, &ds);
        if (st != FER_OK || n <= static_cast<int32_t>(faces.size())) {
            break;
        }
        faces.resize(static_cast<size_t>(n));
    }
    if (st != FER_OK) {
        faces.clear();
        return ds != FER_DETECT_OK ? std::string("face detection failed: ") + fer_detect_status_name(ds)
                                   : std::string("analysis failed: ") + fer_status_string(st);
    }
    faces.resize(static_cast<size_t>(n));
    return "";
}

// analyze(model, detector, images: list of arrays, color, options) -> list of dicts
py::list analyze(model & m, const detector & det, const py::list & images, const std::string & color,
                 const py::dict & options) {
    const fer_pipeline_params p = params_from(options);
    std::vector<image_view> views;
    views.reserve(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
        const std::string what = images.size() == 1 ? "image" : "image " + std::to_string(i);
        views.push_back(image_from_array(images[i], color, what.c_str()));
    }
    std::vector<std::vector<fer_face>> faces(views.size());
    std::string error;
    {
        py::gil_scoped_release nogil;
        error = parallel_for(m, views.size(), [&](fer_context * ctx, size_t i, std::vector<uint8_t> &) -> std::string {
            const std::string e = analyze_one(ctx, det.get(), views[i], p, faces[i]);
            return e.empty() || views.size() == 1 ? e : "image " + std::to_string(i) + ": " + e;
        });
    }
    if (!error.empty()) {
        // Detector refusals (picture too large, ...) are the caller's input.
        if (error.find("face detection failed") != std::string::npos) {
            throw py::value_error(error);
        }
        throw runtime_failure(error);
    }
    py::list out;
    for (const auto & f : faces) {
        out.append(faces_to_arrays(f));
    }
    return out;
}

}  // namespace

void bind_analyze(py::module_ & m) {
    m.def("analyze", &analyze, py::arg("model"), py::arg("detector"), py::arg("images"), py::arg("color"),
          py::arg("options"),
          "Faces of each picture as arrays (boxes, probabilities, landmarks, ...); fer.analyze wraps it.");
    m.def("class_name", [](int c) -> py::object {
        const char * s = fer_class_name(c);
        return s ? py::object(py::str(s)) : py::object(py::none());
    });
}

}  // namespace fer_py
