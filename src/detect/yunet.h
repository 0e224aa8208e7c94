// YuNet face detector (Wu, Peng, Yu: "YuNet: A Tiny Millisecond-level Face
// Detector", Machine Intelligence Research 2023) run by the runtime's own
// interpreter from a converted TFLite file (models/yunet*.tflite), plus its
// anchor-free decoding and non-maximum suppression in plain C++.
//
// The graph's 12 outputs, NHWC [1, rows, cols, C] per stride s in 8, 16, 32:
// cls_s and obj_s (C = 1, after a sigmoid), bbox_s (C = 4) and kps_s (C = 10).
// A cell (r, c) of stride s decodes to (the head's rule, docs/face-detection.md):
//   score  = sqrt(clamp(cls, 0, 1) * clamp(obj, 0, 1))
//   centre = ((c + bbox0) * s, (r + bbox1) * s), size = (exp(bbox2) * s, exp(bbox3) * s)
//   landmark k = ((c + kps[2k]) * s, (r + kps[2k+1]) * s), k = right eye, left eye,
//   nose tip, right and left mouth corner (the subject's right: the image's left).
#ifndef FER_DETECT_YUNET_H
#define FER_DETECT_YUNET_H

#include "fer-detect.h"
#include "fer.h"

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace fer::detect {

// A decoded face in input-tensor pixels (floats: scaled to the image afterwards).
struct yunet_face {
    float x = 0, y = 0, w = 0, h = 0;
    float score = 0;
    float landmarks[10] = {};
};

// Decodes one stride level; appends the cells scoring at least `threshold`.
void yunet_decode_level(const float * cls, const float * obj, const float * bbox, const float * kps, int rows,
                        int cols, int stride, float threshold, std::vector<yunet_face> & out);

// The score a face needs (fer_detect_params.small_face_score_threshold): a
// face whose box's longer side in YuNet's input is under
// FER_YUNET_SMALL_FACE_PX needs the smaller of the two thresholds, a larger one
// score_threshold. Drops the faces below theirs (before NMS: a dropped face
// suppresses nothing).
void yunet_apply_thresholds(std::vector<yunet_face> & faces, const fer_detect_params & p);

// Intersection over union of two boxes (0 when either is empty).
float yunet_iou(const yunet_face & a, const yunet_face & b);

// Greedy non-maximum suppression: by score (ties: earlier first), a face is
// dropped when its IoU with a kept one exceeds `iou_threshold`. Keeps at most
// `top_k` faces (0: all).
void yunet_nms(std::vector<yunet_face> & faces, float iou_threshold, size_t top_k);

// The input size YuNet runs at for an image (multiples of 32, the coarsest
// stride): the image scaled by `scale` (<= 1), rounded up; the rest is padded.
struct yunet_geometry {
    int input_w = 0, input_h = 0;
    double scale = 1.0;  // input pixels per image pixel
};
yunet_geometry yunet_choose_geometry(int width, int height, const fer_detect_params & p);

// The loaded detector: the file (instantiated per input size on demand) and a
// small pool of models/contexts per size. Thread-safe: a context is taken from
// the pool for one call and given back.
struct yunet_detector {
    std::vector<uint8_t> file;
    struct instance {
        int h = 0, w = 0;
        fer_model * model = nullptr;
        std::vector<fer_context *> idle;
        int in_use = 0;  // contexts handed out: an instance is only evicted when 0
        uint64_t last_use = 0;
    };
    std::mutex mu;
    std::vector<instance> instances;
    uint64_t clock = 0;
    ~yunet_detector();
};

// Checks that `data` is a YuNet TFLite file our runtime runs (loads it once at
// its own input size, verifies the 12 outputs); on failure `error` says why.
bool yunet_load(yunet_detector & det, const uint8_t * data, size_t size, std::string & error);

// Pixel layouts of the images given to the detector.
enum class pixel_format { grey, bgr, rgba };

// Detects faces in an image (grey is replicated to the three channels YuNet
// expects). Boxes, scores and landmarks in image pixels, sorted by score.
fer_detect_status yunet_detect(yunet_detector & det, const uint8_t * pixels, int width, int height, size_t stride,
                               pixel_format format, const fer_detect_params & p, std::vector<yunet_face> & out);

}  // namespace fer::detect

#endif  // FER_DETECT_YUNET_H
