// fer face detectors, one interface: YuNet (a CNN with 5 landmarks, run by the
// runtime from models/yunet-int8.tflite; the default) and OpenCV-compatible
// Haar cascades, in plain C++17 (runtime, no dependency; builds with
// -fno-exceptions and for WebAssembly). The kind is sniffed from the file:
// a TFLite file ("TFL3") is YuNet, anything else a cascade.
//
//     fer_detector * det = fer_detector_load("models/yunet-int8.tflite", fer_detector_default_params());
//     if (!det) { /* the reason went to the log callback (default: stderr) */ }
//     fer_detect_params p = fer_detect_default_params();
//     fer_box boxes[64]; int32_t n = 0;
//     if (fer_detector_detect(det, grey, w, h, w, &p, boxes, 64, &n) == FER_OK) { ... }
//     fer_detector_free(det);
//
// Errors, ownership and threads follow fer.h's conventions (one fer_status
// enum; constructors return NULL and log the reason).
//
// The detector reads OpenCV's cascade XML (stageType BOOST, featureType HAAR,
// the format of /usr/share/opencv4/haarcascades/*.xml) and its own compact
// binary form (magic "FERHAAR1", written by fer_detector_save_binary or the
// fer-cascade tool); the format is sniffed. Files are untrusted input: every
// count, index and rectangle is checked at load, then detection runs without
// re-checking. A loaded detector is immutable: share it across threads; each
// call allocates its own scratch memory. See docs/face-detection.md.
#ifndef FER_DETECT_H
#define FER_DETECT_H

#include "fer.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Deprecated names, kept so older callers compile: the detector's statuses
// are fer.h's enum fer_status.
typedef fer_status fer_detect_status;
#define FER_DETECT_OK FER_OK
#define FER_DETECT_ERR_ARGUMENT FER_ERR_INVALID_ARGUMENT
#define FER_DETECT_ERR_IO FER_ERR_IO
#define FER_DETECT_ERR_FORMAT FER_ERR_FORMAT
#define FER_DETECT_ERR_TOO_LARGE FER_ERR_TOO_LARGE
#define FER_DETECT_ERR_MEMORY FER_ERR_MEMORY

// Largest image accepted by fer_detector_detect (side in pixels, and pixels in
// total: 100 megapixels). The integral images take 8 bytes per pixel.
#define FER_DETECT_MAX_SIDE 32768
#define FER_DETECT_MAX_PIXELS 100000000

typedef struct fer_detector fer_detector;

typedef struct fer_box {
    int32_t x, y, width, height;  // pixels, in the image passed to fer_detector_detect
    int32_t n_neighbors;          // Haar: raw hits grouped into this box (0 when min_neighbors is 0); YuNet: 0
    float score;                  // YuNet: detection score 0..1; Haar: 0
    int32_t n_landmarks;          // 5 (YuNet) or 0 (Haar)
    // x, y of the right eye, left eye, nose tip, right and left mouth corner
    // (the subject's right: the image's left on a frontal face), image pixels
    float landmarks[10];
} fer_box;

typedef enum fer_detector_kind { FER_DETECTOR_HAAR = 0, FER_DETECTOR_YUNET = 1 } fer_detector_kind;

typedef struct fer_detect_params {
    double scale_factor;    // > 1 (1.001..100): window growth per pyramid level (OpenCV's scaleFactor)
    int32_t min_neighbors;  // >= 0: a box needs more than this many raw hits (0: no grouping)
    int32_t min_size;       // smallest face side in pixels (0: the cascade window)
    int32_t max_size;       // largest face side in pixels (0: the image)
    // YuNet only:
    float score_threshold;  // keep faces scoring at least this (0..1)
    float nms_threshold;    // drop a face overlapping a better one by more than this IoU
    // The image YuNet sees: scaled so its long side is at most input_long_side;
    // when 0, scaled so that faces of min_size are 32 px (the coarsest pass that
    // still finds them), or to a 640 px long side when min_size is 0 too. Never enlarged.
    int32_t input_long_side;
    // YuNet only: a face it sees smaller than FER_YUNET_SMALL_FACE_PX (its box's
    // longer side in YuNet's input) is kept from this score; a larger one needs
    // score_threshold. Few pixels lower a real face's score; a face seen large
    // that still scores low is seldom a face (docs/face-detection.md). Set it
    // to score_threshold or above for one threshold at every size.
    float small_face_score_threshold;
    // YuNet only: the most pixels one YuNet pass may take (0: 2,000,000, about
    // 1632x1224). When the pass that min_size asks for is larger (small faces
    // in a large photo), YuNet instead runs a proposal pass at half that scale
    // and checks each candidate at the full scale on a small tile around it
    // (docs/face-detection.md, "Small faces in large photos").
    int32_t max_pass_pixels;
} fer_detect_params;

// Twice the size min_size faces are scaled to in YuNet's input (32 px).
#define FER_YUNET_SMALL_FACE_PX 64
// The least max_pass_pixels accepted (256x256: one proposal tile must fit).
#define FER_YUNET_MIN_PASS_PIXELS 65536

// scale_factor 1.1, min_neighbors 3, min_size 0, max_size 0 (OpenCV's defaults);
// score_threshold 0.83 and small_face_score_threshold 0.6 (WIDER faces >= 64 px:
// 87% recall at 98% precision, no false face on the dog photo;
// docs/face-detection.md has other values), nms_threshold 0.3, input_long_side 0, max_pass_pixels 0.
fer_detect_params fer_detect_default_params(void);

// How a detector is loaded: where the reason of a failure goes.
struct fer_detector_params {
    fer_log_callback log_callback;  // NULL: errors go to stderr
    void * log_user_data;
};
struct fer_detector_params fer_detector_default_params(void);

// Loads a detector (YuNet .tflite, Haar cascade XML or FERHAAR1, sniffed from
// the bytes). NULL on failure, the reason (naming the file and the problem)
// sent to the log callback. A loaded detector is immutable: share it across
// threads; each detection allocates its own scratch memory.
fer_detector * fer_detector_load(const char * path, struct fer_detector_params params);
// The bytes are copied; the caller may free them when this returns.
fer_detector * fer_detector_load_from_buffer(const void * data, size_t size, struct fer_detector_params params);
void fer_detector_free(fer_detector * det);

// Deprecated (the older error style, kept so older callers compile): NULL on
// failure with the reason written to err (NUL-terminated, truncated to
// err_size) and the status to *status, each when not NULL.
fer_detector * fer_detector_load_from_file(const char * path, fer_detect_status * status, char * err,
                                           size_t err_size);
fer_detector * fer_detector_load_from_memory(const void * data, size_t size, fer_detect_status * status,
                                             char * err, size_t err_size);

// Which detector a file held.
fer_detector_kind fer_detector_get_kind(const fer_detector * det);
// "haar" or "yunet".
const char * fer_detector_kind_name(const fer_detector * det);

// Cascade window (24x24 for haarcascade_frontalface_default.xml), stage count
// (0 for YuNet).
int32_t fer_detector_window_width(const fer_detector * det);
int32_t fer_detector_window_height(const fer_detector * det);
int32_t fer_detector_n_stages(const fer_detector * det);

// Serialise to the compact binary form. With out == NULL, only *size is set.
// Otherwise out must hold *size bytes (FER_ERR_INVALID_ARGUMENT if smaller).
fer_detect_status fer_detector_save_binary(const fer_detector * det, void * out, size_t * size);

// Detect faces in an 8-bit grey image (row stride in bytes, >= width).
// Boxes are sorted by area, largest first; at most max_boxes are written and
// *n_boxes receives the number found (which may exceed max_boxes). An image
// smaller than the cascade window, or of size 0, gives no box and FER_DETECT_OK.
fer_detect_status fer_detector_detect(const fer_detector * det, const uint8_t * grey, int32_t width,
                                      int32_t height, int32_t stride, const fer_detect_params * params,
                                      fer_box * boxes, int32_t max_boxes, int32_t * n_boxes);

// Pixel layouts of fer_detector_detect_image.
typedef enum fer_pixel_format { FER_PIXEL_GREY = 0, FER_PIXEL_BGR = 1, FER_PIXEL_RGBA = 2 } fer_pixel_format;

// Detects faces in a grey, BGR or RGBA image (row stride in bytes). YuNet
// uses the colour (a grey image is replicated to its three channels), the
// Haar cascade converts to grey (fer_bgr_to_grey's weights). Boxes sorted by
// area, largest first, as fer_detector_detect.
fer_detect_status fer_detector_detect_image(const fer_detector * det, const uint8_t * pixels, int32_t width,
                                            int32_t height, int32_t stride, fer_pixel_format format,
                                            const fer_detect_params * params, fer_box * boxes, int32_t max_boxes,
                                            int32_t * n_boxes);

// Deprecated: fer_status_string().
const char * fer_detect_status_name(fer_detect_status status);

#ifdef __cplusplus
}
#endif

#endif  // FER_DETECT_H
