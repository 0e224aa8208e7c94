// fer pipeline: find every face in a picture, crop it the way FER2013 faces
// are cropped, and classify each one; follow faces across video frames and
// smooth their labels. Part of the runtime (plain C++17, no dependency, no
// exceptions): the native tools, the HTTP server and the web app (WASM) all
// run this very code, so they give the same boxes and probabilities.
//
//   fer_pipeline_params p = fer_pipeline_default_params();
//   p.detect.min_size = 80;                    // live-camera setting
//   fer_face faces[16]; int32_t n = 0;
//   fer_analyze(ctx, det, grey, w, h, w, &p, faces, 16, &n);  // n may exceed 16: faces found
//
//   fer_tracker * t = fer_tracker_new(fer_tracker_default_params());
//   per frame: fer_analyze(...); fer_tracker_update(t, faces, min(n, 16));  // track_id, smoothed
//   fer_tracker_free(t);
//
// Errors, ownership and threads follow fer.h's conventions: the context is
// used by one thread at a time; the detector may be shared; a tracker belongs
// to one video stream (one thread at a time); fer_face holds no pointers.
#ifndef FER_PIPELINE_H
#define FER_PIPELINE_H

#include "fer-detect.h"
#include "fer.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Largest class activation map a fer_face carries (rows * cols).
#define FER_FACE_CAM_MAX 144

// Test-time augmentation: the views of a 48x48 face that are classified and
// whose probabilities are averaged.
typedef enum fer_tta {
    FER_TTA_NONE = 0,      // the face itself (1 view)
    FER_TTA_FLIP = 1,      // the face and its mirror image (2 views)
    // The face moved by (0, 0) and (+-FER_TTA_SHIFT, +-FER_TTA_SHIFT) pixels,
    // each also mirrored (10 views): the classic ten-crop (four corner crops
    // and the centre crop, flipped) at our fixed input size. A view is read
    // with the border repeated, as the training augmentation's shifts are.
    FER_TTA_TEN_CROP = 2,
} fer_tta;
#define FER_TTA_SHIFT 2
// Most models an ensemble may have (fer_classify_ensemble).
#define FER_ENSEMBLE_MAX 16

struct fer_pipeline_params {
    fer_detect_params detect;  // detector settings; detect.min_size is the smallest face (--min-face)
    int32_t max_faces;         // classify at most this many faces, largest first (0: all that fit)
    float min_confidence;      // a face whose confidence is below this is marked uncertain
    // Box-to-crop rule, calibrated by measurement (docs/face-detection.md): the
    // crop is a square of side crop_scale * box side, centred on the box centre
    // moved down by crop_shift_y * box side; parts outside the image repeat the border.
    float crop_scale;
    float crop_shift_y;
    int32_t cam;  // 1: fill each face's class activation map (models with a GAP head)
    // Test-time augmentation, a fer_tta: FER_TTA_FLIP classifies each face and
    // its mirror image and averages the probabilities (about 1 point of
    // PublicTest accuracy for twice the classification time), FER_TTA_TEN_CROP
    // ten views (models/README.md has the figures).
    int32_t tta;
    // Faces with landmarks (YuNet) are cropped from their 5 points onto the
    // canonical FER2013 frame (FER_CANONICAL_LANDMARKS), not from the box:
    // align 1 rotates, scales and moves them there (a similarity transform),
    // align 0 only scales and moves (the face keeps its tilt). Faces without
    // landmarks (Haar) use crop_scale / crop_shift_y. docs/face-detection.md.
    int32_t align;
};
struct fer_pipeline_params fer_pipeline_default_params(void);

typedef struct fer_face {
    fer_box box;                       // the detector's box, image pixels
    int32_t crop_x, crop_y, crop_size; // the square that was classified (may reach outside the image)
    struct fer_result result;          // this frame's classification
    int32_t uncertain;                 // 1 when result.confidence < min_confidence
    int32_t track_id;                  // -1 until fer_tracker_update assigns one
    float smoothed[FER_N_CLASSES];     // smoothed probabilities (= result's without a tracker)
    int32_t smoothed_class;            // argmax of smoothed
    int32_t cam_h, cam_w;              // CAM size (0 when not asked or unsupported)
    float cam[FER_FACE_CAM_MAX];       // CAM of result.top_class, row-major, cam_h * cam_w values
} fer_face;

// The 48x48 grey crop of the face in `box` under the rule of `params` (the
// rectangle used goes to *crop_x, *crop_y, *crop_size when not NULL): from
// the landmarks when the box has 5 (see fer_pipeline_params.align), else the
// box rule. For a landmark crop the rectangle is the upright square the
// crop covers (centre and side; its rotation is not reported).
int fer_crop_face(const uint8_t * grey, int32_t width, int32_t height, int32_t stride, const fer_box * box,
                  const struct fer_pipeline_params * params, uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE],
                  int32_t * crop_x, int32_t * crop_y, int32_t * crop_size);

// Where the 5 landmarks of an average FER2013 face lie in its 48x48 crop (x, y
// pairs in pixels, pixel i spanning [i, i+1)): right eye, left eye, nose tip,
// right and left mouth corner. Measured with YuNet on FER2013 Training faces
// (bench/align-calibration.cpp, docs/face-detection.md).
extern const float FER_CANONICAL_LANDMARKS[10];

// The transform of a landmark crop: crop point (u, v) = [a -b; b a] (x, y) + (tx, ty)
// for image point (x, y), fitted by least squares to map `landmarks` onto
// FER_CANONICAL_LANDMARKS (rotate 0: b = 0, scale and move only). Returns
// FER_ERR_INVALID_ARGUMENT for degenerate points (all equal, not finite).
int fer_landmark_transform(const float landmarks[10], int rotate, float transform[4]);

// fer_classify with flip test-time augmentation: the mean of the probabilities
// of the 48x48 face and of its mirror image (top_class and confidence from the
// mean). The mirror is classified first, so the context afterwards (its
// tensors, fer_context_cam) holds the face itself.
int fer_classify_flip(fer_context * ctx, const unsigned char * face, int stride, struct fer_result * out);

// Number of views of a fer_tta (1, 2, 10); 0 for an unknown value.
int32_t fer_tta_views(int32_t tta);

// View `view` (0 <= view < fer_tta_views(tta)) of a 48x48 face into out (stride
// 48). View 0 is always the face itself, view 1 (if any) its mirror image;
// view 2k is the face shifted by the k-th offset, 2k + 1 that shifted view mirrored.
int fer_tta_view(const unsigned char * face, int stride, int32_t tta, int32_t view,
                 unsigned char out[FER_INPUT_SIZE * FER_INPUT_SIZE]);

// The mean of the probabilities of every member (one fer_context per model,
// 1 <= n_members <= FER_ENSEMBLE_MAX) over every view of `tta`: sums in float
// in the order member 0 view 0, member 0 view 1, ..., then divides by the
// count; top_class and confidence come from the mean. Member 0's view 0 is classified last, so that
// member's context afterwards (tensors, fer_context_cam) holds the face itself.
int fer_classify_ensemble(fer_context * const * members, int32_t n_members, const unsigned char * face, int stride,
                          int32_t tta, struct fer_result * out);

// Detects faces in an 8-bit grey image and classifies each, largest first.
// At most max_out faces are written; *n_faces receives the number classified
// (min of faces found and params->max_faces when set), which may exceed max_out.
// Returns FER_OK or a fer_status: a detector failure returns the detector's
// status (e.g. FER_ERR_TOO_LARGE), also written to *detect_status when it is
// not NULL (that parameter is kept for older callers; pass NULL).
int fer_analyze(fer_context * ctx, const fer_detector * det, const uint8_t * grey, int32_t width, int32_t height,
                int32_t stride, const struct fer_pipeline_params * params, fer_face * faces, int32_t max_out,
                int32_t * n_faces, fer_detect_status * detect_status);

// fer_analyze on a grey, BGR or RGBA image: the detector sees the colour
// (YuNet uses it), the classifier the grey crops (fer_bgr_to_grey's weights).
int fer_analyze_image(fer_context * ctx, const fer_detector * det, const uint8_t * pixels, int32_t width,
                      int32_t height, int32_t stride, fer_pixel_format format, const struct fer_pipeline_params * params,
                      fer_face * faces, int32_t max_out, int32_t * n_faces, fer_detect_status * detect_status);

// fer_analyze_image with an ensemble: each face is classified by every member
// (fer_classify_ensemble; class activation maps come from member 0).
int fer_analyze_image_ensemble(fer_context * const * members, int32_t n_members, const fer_detector * det,
                               const uint8_t * pixels, int32_t width, int32_t height, int32_t stride,
                               fer_pixel_format format, const struct fer_pipeline_params * params, fer_face * faces,
                               int32_t max_out, int32_t * n_faces, fer_detect_status * detect_status);

// Colour to grey with OpenCV's cvtColor weights (0.299 R + 0.587 G + 0.114 B,
// same fixed-point rounding), so native tools (BGR from OpenCV) and the web app
// (RGBA from a canvas) feed the detector identical pixels. Strides in bytes.
void fer_bgr_to_grey(const uint8_t * bgr, int32_t width, int32_t height, int32_t stride, uint8_t * grey,
                     int32_t grey_stride);
void fer_rgba_to_grey(const uint8_t * rgba, int32_t width, int32_t height, int32_t stride, uint8_t * grey,
                      int32_t grey_stride);

// Follows faces across video frames (greedy IoU matching) and smooths their
// probabilities with an exponential moving average so labels do not flicker.
struct fer_tracker_params {
    float iou_threshold;  // a face continues a track when their boxes overlap at least this much
    float ema_alpha;      // weight of the new frame: smoothed = a * new + (1 - a) * smoothed
    int32_t max_missed;   // frames a track survives without a matching face
};
struct fer_tracker_params fer_tracker_default_params(void);

typedef struct fer_tracker fer_tracker;
// NULL when params are out of range (iou_threshold and ema_alpha in (0,1], max_missed in 0..1000000)
// or memory is short.
fer_tracker * fer_tracker_new(struct fer_tracker_params params);
void fer_tracker_free(fer_tracker * tracker);
// Assigns track_id (new ids count up from 1) and fills smoothed /
// smoothed_class of the faces of one frame.
int fer_tracker_update(fer_tracker * tracker, fer_face * faces, int32_t n_faces);

#ifdef __cplusplus
}
#endif

#endif  // FER_PIPELINE_H
