// The web app's binding: a thin C layer over the runtime's pipeline (fer.h,
// fer-detect.h, fer-pipeline.h), compiled twice by web/build.sh (with and
// without WebAssembly SIMD128) and driven by web/worker.js.
//
// One module instance serves one worker, so the state (model, detector,
// tracker, frame buffer, results) lives in globals and no handle crosses the
// JS boundary. Results are a flat float32 array with the layout of
// fer_web_record below, which worker.js mirrors (FIELDS in web/record.js).
#include "fer-detect.h"
#include "fer-pipeline.h"
#include "fer.h"

#include "detect/cascade.h"

#include <emscripten/emscripten.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// The page loads YuNet, or with ?detector=haar a cascade in fer's binary form
// (web/build.sh converts OpenCV's XML with fer-cascade): never XML. Defined
// here, this stands in for the runtime's XML reader (src/detect/cascade-xml.cpp,
// its only external symbol), so the linker leaves that object file and the
// float parsing it needs out of the module (first download, docs/web-app.md).
namespace fer::detect {
bool read_xml(const char *, size_t, cascade &, std::string & err) {
    err = "the web build reads YuNet .tflite or FERHAAR1 cascades (fer-cascade converts OpenCV's XML)";
    return false;
}
}  // namespace fer::detect

namespace {

// Far more than a phone frame holds; faces beyond it are still counted.
constexpr int32_t k_max_faces = 32;

// Float offsets of one face's record. Integers (boxes, ids) are exact in
// float32 up to 2^24, far above any frame side.
enum fer_web_record : int32_t {
    REC_BOX = 0,          // x, y, width, height
    REC_NEIGHBORS = 4,
    REC_CROP = 5,         // crop x, y, size
    REC_PROBS = 8,        // 7 probabilities of this frame
    REC_TOP = 15,
    REC_CONFIDENCE = 16,
    REC_UNCERTAIN = 17,
    REC_TRACK = 18,
    REC_SMOOTHED = 19,    // 7 smoothed probabilities
    REC_SMOOTHED_TOP = 26,
    REC_CAM_H = 27,
    REC_CAM_W = 28,
    REC_CAM = 29,         // FER_FACE_CAM_MAX values
    REC_SIZE = REC_CAM + FER_FACE_CAM_MAX,
};

struct state {
    fer_model * model = nullptr;
    fer_context * ctx = nullptr;
    fer_detector * det = nullptr;
    fer_tracker * tracker = nullptr;
    uint8_t * rgba = nullptr;
    int32_t capacity = 0;  // pixels the two buffers hold
    fer_face faces[k_max_faces];
    float records[k_max_faces * REC_SIZE];
    char error[512] = "";
};
state g;

void log_to_error(int level, const char * message, void *) {
    if (level == FER_LOG_ERROR) {
        std::snprintf(g.error, sizeof g.error, "%s", message);
    }
}

void write_record(const fer_face & f, float * r) {
    r[REC_BOX + 0] = float(f.box.x);
    r[REC_BOX + 1] = float(f.box.y);
    r[REC_BOX + 2] = float(f.box.width);
    r[REC_BOX + 3] = float(f.box.height);
    r[REC_NEIGHBORS] = float(f.box.n_neighbors);
    r[REC_CROP + 0] = float(f.crop_x);
    r[REC_CROP + 1] = float(f.crop_y);
    r[REC_CROP + 2] = float(f.crop_size);
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        r[REC_PROBS + c] = f.result.probabilities[c];
        r[REC_SMOOTHED + c] = f.smoothed[c];
    }
    r[REC_TOP] = float(f.result.top_class);
    r[REC_CONFIDENCE] = f.result.confidence;
    r[REC_UNCERTAIN] = float(f.uncertain);
    r[REC_TRACK] = float(f.track_id);
    r[REC_SMOOTHED_TOP] = float(f.smoothed_class);
    const int32_t n_cam = f.cam_h * f.cam_w;
    r[REC_CAM_H] = float(n_cam > 0 && n_cam <= FER_FACE_CAM_MAX ? f.cam_h : 0);
    r[REC_CAM_W] = float(n_cam > 0 && n_cam <= FER_FACE_CAM_MAX ? f.cam_w : 0);
    for (int32_t i = 0; i < FER_FACE_CAM_MAX; ++i) {
        r[REC_CAM + i] = i < n_cam ? f.cam[i] : 0.0f;
    }
}

}  // namespace

extern "C" {

// 1 when this module was compiled with SIMD128 (the page says which build runs).
EMSCRIPTEN_KEEPALIVE int fer_web_simd(void) {
#ifdef __wasm_simd128__
    return 1;
#else
    return 0;
#endif
}

EMSCRIPTEN_KEEPALIVE int fer_web_record_size(void) { return REC_SIZE; }
EMSCRIPTEN_KEEPALIVE int fer_web_max_faces(void) { return k_max_faces; }
EMSCRIPTEN_KEEPALIVE const char * fer_web_error(void) { return g.error; }
EMSCRIPTEN_KEEPALIVE const char * fer_web_kernels(void) { return g.model ? fer_model_kernels(g.model) : ""; }

// Loads the model (TFLite) and the face detector (YuNet TFLite, or a FERHAAR1/XML cascade) from bytes the
// worker fetched; both are copied, so the caller frees them afterwards.
// 0 on success, otherwise the reason is in fer_web_error().
EMSCRIPTEN_KEEPALIVE int fer_web_init(const void * model, int32_t model_size, const void * cascade,
                                      int32_t cascade_size) {
    fer_model_params mp = fer_model_default_params();
    mp.log_callback = log_to_error;
    g.model = fer_model_load_from_buffer(model, size_t(model_size), mp);
    if (!g.model) {
        return 1;
    }
    g.ctx = fer_context_new(g.model);
    if (!g.ctx) {
        std::snprintf(g.error, sizeof g.error, "no memory for the model's arena");
        return 1;
    }
    fer_detect_status st;
    char err[400];
    g.det = fer_detector_load_from_memory(cascade, size_t(cascade_size), &st, err, sizeof err);
    if (!g.det) {
        std::snprintf(g.error, sizeof g.error, "face detector: %s", err);
        return 1;
    }
    g.tracker = fer_tracker_new(fer_tracker_default_params());
    if (!g.tracker) {
        std::snprintf(g.error, sizeof g.error, "tracker: bad default parameters");
        return 1;
    }
    return 0;
}

// The RGBA buffer for a width x height frame (reused while it is big enough);
// the worker copies the frame's pixels there, then calls fer_web_analyze.
EMSCRIPTEN_KEEPALIVE uint8_t * fer_web_frame(int32_t width, int32_t height) {
    if (width <= 0 || height <= 0 || int64_t(width) * height > FER_DETECT_MAX_PIXELS) {
        return nullptr;
    }
    const int32_t pixels = width * height;
    if (pixels > g.capacity) {
        std::free(g.rgba);
        g.rgba = static_cast<uint8_t *>(std::malloc(size_t(pixels) * 4));
        g.capacity = g.rgba ? pixels : 0;
        if (!g.capacity) {
            return nullptr;
        }
    }
    return g.rgba;
}

// Analyses the frame in fer_web_frame's buffer: detect, crop, classify, and
// (video) track and smooth. min_face is the smallest face side in pixels;
// track 0 (a still photo) leaves smoothed = this frame's probabilities; tta 1
// classifies each face and its mirror image and averages them.
// Returns the number of records in fer_web_results(), or -1 (fer_web_error()).
EMSCRIPTEN_KEEPALIVE int fer_web_analyze(int32_t width, int32_t height, int32_t min_face, int32_t max_faces,
                                         int32_t cam, int32_t track, int32_t tta) {
    if (!g.ctx || !g.rgba || int64_t(width) * height > g.capacity) {
        std::snprintf(g.error, sizeof g.error, "analyze: not initialised or no frame buffer");
        return -1;
    }
    fer_pipeline_params p = fer_pipeline_default_params();
    p.detect.min_size = min_face;
    p.max_faces = max_faces;
    p.cam = cam;
    p.tta = tta;
    int32_t n = 0;
    fer_detect_status ds = FER_DETECT_OK;
    // colour to the detector (YuNet uses it), grey crops to the classifier
    const int st = fer_analyze_image(g.ctx, g.det, g.rgba, width, height, width * 4, FER_PIXEL_RGBA, &p, g.faces,
                                     k_max_faces, &n, &ds);
    if (st != FER_OK) {
        std::snprintf(g.error, sizeof g.error, "analyze: %s (detector: %s)", fer_status_string(st),
                      fer_detect_status_name(ds));
        return -1;
    }
    const int32_t n_out = n < k_max_faces ? n : k_max_faces;
    if (track) {
        fer_tracker_update(g.tracker, g.faces, n_out);
    }
    for (int32_t i = 0; i < n_out; ++i) {
        write_record(g.faces[i], g.records + i * REC_SIZE);
    }
    return n_out;
}

EMSCRIPTEN_KEEPALIVE const float * fer_web_results(void) { return g.records; }

// Forget every track (the camera was switched, or after a photo).
EMSCRIPTEN_KEEPALIVE void fer_web_tracker_reset(void) {
    fer_tracker_free(g.tracker);
    g.tracker = fer_tracker_new(fer_tracker_default_params());
}

// The model's label of a class (its metadata, FER2013 names otherwise).
EMSCRIPTEN_KEEPALIVE const char * fer_web_label(int cls) {
    return g.model ? fer_model_class_label(g.model, cls) : fer_class_name(cls);
}

}  // extern "C"
