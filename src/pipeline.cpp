// The face pipeline of include/fer-pipeline.h: detect, crop like FER2013,
// classify. The tracker (fer_tracker_*) lives in track.cpp.
#include "fer-pipeline.h"
#include "crop-source.h"
#include "top-class.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace {

// Sub-pixel positions and weights in fixed point, so that every platform
// (native, WebAssembly) computes the same crop whatever its float rounding
// of the interpolation itself.
constexpr int k_weight_bits = 11;
constexpr int k_weight_one = 1 << k_weight_bits;

// OpenCV 4's 8-bit fixed point: weights 0.114/0.587/0.299 in 1/32768
// (3735 + 19235 + 9798 = 32768), rounded half up. (14-bit weights, as in
// older OpenCV, differ by one level on about 1% of pixels.)
inline uint8_t grey_of(uint32_t b, uint32_t g, uint32_t r) {
    return static_cast<uint8_t>((b * 3735u + g * 19235u + r * 9798u + (1u << 14)) >> 15);
}

}  // namespace

namespace fer::pipeline {

uint32_t sample_source::at(int32_t x, int32_t y) const {
    const uint8_t * px = pixels + static_cast<size_t>(y) * static_cast<size_t>(stride) +
                         static_cast<size_t>(x) * static_cast<size_t>(bytes_per_pixel);
    return bytes_per_pixel == 1 ? px[0] : grey_of(px[blue], px[1], px[red]);
}

}  // namespace fer::pipeline

namespace {

using fer::pipeline::sample_source;

// The rule's square: side crop_scale * box side, centred on the box centre
// moved down by crop_shift_y * box side. Rounded once here, so the crop a
// caller reports is exactly the square that was sampled.
void crop_square(const fer_box & box, const fer_pipeline_params & p, int32_t * x, int32_t * y, int32_t * size) {
    const double side = box.width > box.height ? box.width : box.height;
    const double s = std::max(1.0, std::floor(side * p.crop_scale + 0.5));
    const double cx = box.x + box.width * 0.5;
    const double cy = box.y + box.height * 0.5 + p.crop_shift_y * side;
    *size = static_cast<int32_t>(s);
    *x = static_cast<int32_t>(std::floor(cx - s * 0.5 + 0.5));
    *y = static_cast<int32_t>(std::floor(cy - s * 0.5 + 0.5));
}

struct tap {
    int32_t i0, i1;  // source indices, clamped to the image (replicated border)
    int32_t w1;      // weight of i1 in 1/k_weight_one
};

// Pixel-centre mapping (as cv::resize): out position d samples source
// position origin + (d + 0.5) * scale - 0.5.
void make_taps(int32_t origin, int32_t size, int32_t limit, tap * taps) {
    const double scale = static_cast<double>(size) / FER_INPUT_SIZE;
    for (int d = 0; d < FER_INPUT_SIZE; ++d) {
        const double src = origin + (d + 0.5) * scale - 0.5;
        const double f = std::floor(src);
        int32_t w1 = static_cast<int32_t>(std::floor((src - f) * k_weight_one + 0.5));
        int64_t i0 = static_cast<int64_t>(f);
        if (w1 == k_weight_one) {
            ++i0;
            w1 = 0;
        }
        int64_t i1 = i0 + 1;
        i0 = i0 < 0 ? 0 : (i0 >= limit ? limit - 1 : i0);
        i1 = i1 < 0 ? 0 : (i1 >= limit ? limit - 1 : i1);
        taps[d] = {static_cast<int32_t>(i0), static_cast<int32_t>(i1), w1};
    }
}

template <int B, int G, int R, int Channels>
void to_grey(const uint8_t * src, int32_t width, int32_t height, int32_t stride, uint8_t * grey, int32_t grey_stride) {
    if (!src || !grey || width <= 0 || height <= 0) {
        return;
    }
    for (int32_t y = 0; y < height; ++y) {
        const uint8_t * s = src + static_cast<size_t>(y) * static_cast<size_t>(stride);
        uint8_t * d = grey + static_cast<size_t>(y) * static_cast<size_t>(grey_stride);
        for (int32_t x = 0; x < width; ++x, s += Channels) {
            d[x] = grey_of(s[B], s[G], s[R]);
        }
    }
}

// Samples the 48x48 crop through the inverse of a landmark transform:
// bilinear, border replicated, weights in fixed point as the box crop.
// The image point of crop point (u, v) under a landmark transform t (the
// inverse of the similarity: [a b; -b a] (u - tx, v - ty) / (a^2 + b^2)).
void image_of(const float t[4], double u, double v, double * x, double * y) {
    const double a = t[0], b = t[1], det = a * a + b * b;
    *x = (a * (u - t[2]) + b * (v - t[3])) / det;
    *y = (-b * (u - t[2]) + a * (v - t[3])) / det;
}

void crop_with_transform(const sample_source & src, const float t[4], uint8_t * out, int32_t * crop_x,
                         int32_t * crop_y, int32_t * crop_size) {
    const int32_t width = src.width, height = src.height;
    const double det = double(t[0]) * t[0] + double(t[1]) * t[1];
    for (int dy = 0; dy < FER_INPUT_SIZE; ++dy) {
        for (int dx = 0; dx < FER_INPUT_SIZE; ++dx) {
            double x, y;
            image_of(t, dx + 0.5, dy + 0.5, &x, &y);
            const double sx = x - 0.5, sy = y - 0.5;  // in pixel-index space
            const double fx = std::floor(sx), fy = std::floor(sy);
            const int32_t wx1 = static_cast<int32_t>(std::floor((sx - fx) * k_weight_one + 0.5));
            const int32_t wy1 = static_cast<int32_t>(std::floor((sy - fy) * k_weight_one + 0.5));
            auto clampi = [](double v, int32_t limit) {
                return static_cast<int32_t>(v < 0 ? 0 : (v >= limit - 1 ? limit - 1 : v));
            };
            const int32_t x0 = clampi(fx, width), x1 = clampi(fx + 1, width);
            const int32_t y0 = clampi(fy, height), y1 = clampi(fy + 1, height);
            const int32_t wx0 = k_weight_one - wx1, wy0 = k_weight_one - wy1;
            const int32_t top = static_cast<int32_t>(src.at(x0, y0)) * wx0 + static_cast<int32_t>(src.at(x1, y0)) * wx1;
            const int32_t bottom =
                static_cast<int32_t>(src.at(x0, y1)) * wx0 + static_cast<int32_t>(src.at(x1, y1)) * wx1;
            const uint32_t v = static_cast<uint32_t>(top * wy0 + bottom * wy1);
            out[dy * FER_INPUT_SIZE + dx] =
                static_cast<uint8_t>((v + (1u << (2 * k_weight_bits - 1))) >> (2 * k_weight_bits));
        }
    }
    double cx, cy;
    image_of(t, FER_INPUT_SIZE * 0.5, FER_INPUT_SIZE * 0.5, &cx, &cy);
    const double side = FER_INPUT_SIZE / std::sqrt(det);
    if (crop_size) {
        *crop_size = static_cast<int32_t>(std::floor(side + 0.5));
    }
    if (crop_x) {
        *crop_x = static_cast<int32_t>(std::floor(cx - side * 0.5 + 0.5));
    }
    if (crop_y) {
        *crop_y = static_cast<int32_t>(std::floor(cy - side * 0.5 + 0.5));
    }
}

}  // namespace

extern "C" {

fer_pipeline_params fer_pipeline_default_params(void) {
    fer_pipeline_params p;
    p.detect = fer_detect_default_params();
    p.max_faces = 0;
    p.min_confidence = 0.0f;
    p.crop_scale = 1.1f;  // measured: docs/face-detection.md, "The crop rule"
    p.crop_shift_y = 0.0f;
    p.cam = 0;
    p.tta = FER_TTA_NONE;
    p.align = 1;
    return p;
}

// Measured with YuNet on FER2013 Training faces (bench/align-calibration.cpp).
const float FER_CANONICAL_LANDMARKS[10] = {14.91f, 18.02f, 32.09f, 17.95f, 23.25f, 27.26f, 16.18f, 35.59f, 30.75f, 35.59f};

int fer_landmark_transform(const float landmarks[10], int rotate, float transform[4]) {
    if (!landmarks || !transform) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    // Landmarks snapped to 1/16 px: the detector's float rounding differs a
    // little between platforms (FMA natively, none in WebAssembly), and the
    // crop, hence the classification, should not.
    float lm[10];
    for (int k = 0; k < 10; ++k) {
        if (!std::isfinite(landmarks[k]) || std::fabs(landmarks[k]) > 1e7f) {
            return FER_ERR_INVALID_ARGUMENT;
        }
        lm[k] = std::round(landmarks[k] * 16.0f) / 16.0f;
    }
    landmarks = lm;
    double mx = 0, my = 0, cx = 0, cy = 0;
    for (int k = 0; k < 5; ++k) {
        mx += landmarks[2 * k] / 5.0;
        my += landmarks[2 * k + 1] / 5.0;
        cx += FER_CANONICAL_LANDMARKS[2 * k] / 5.0;
        cy += FER_CANONICAL_LANDMARKS[2 * k + 1] / 5.0;
    }
    double dot = 0, cross = 0, norm = 0;
    for (int k = 0; k < 5; ++k) {
        const double px = landmarks[2 * k] - mx, py = landmarks[2 * k + 1] - my;
        const double qx = FER_CANONICAL_LANDMARKS[2 * k] - cx, qy = FER_CANONICAL_LANDMARKS[2 * k + 1] - cy;
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        norm += px * px + py * py;
    }
    if (!(norm > 1e-6)) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    double a = dot / norm, b = rotate ? cross / norm : 0.0;
    if (!rotate && !(a > 0)) {
        a = std::sqrt(dot * dot + cross * cross) / norm;  // upside-down points: keep a positive scale
    }
    if (!(a * a + b * b > 1e-12)) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    transform[0] = static_cast<float>(a);
    transform[1] = static_cast<float>(b);
    transform[2] = static_cast<float>(cx - (a * mx - b * my));
    transform[3] = static_cast<float>(cy - (b * mx + a * my));
    return FER_OK;
}

int fer_crop_face(const uint8_t * grey, int32_t width, int32_t height, int32_t stride, const fer_box * box,
                  const fer_pipeline_params * params, uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE],
                  int32_t * crop_x, int32_t * crop_y, int32_t * crop_size) {
    if (!grey || width <= 0 || height <= 0 || stride < width) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    return fer::pipeline::crop_face({grey, width, height, stride, 1, 0, 0}, box, params, out, crop_x, crop_y,
                                    crop_size);
}

}  // extern "C"

namespace fer::pipeline {

int crop_face(const sample_source & src, const fer_box * box, const fer_pipeline_params * params,
              uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE], int32_t * crop_x, int32_t * crop_y, int32_t * crop_size) {
    if (!box || !params || !out || box->width <= 0 || box->height <= 0 || !(params->crop_scale > 0.0f) ||
        !std::isfinite(params->crop_scale) || !std::isfinite(params->crop_shift_y)) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    if (box->n_landmarks == 5) {
        float t[4];
        if (fer_landmark_transform(box->landmarks, params->align, t) == FER_OK) {
            crop_with_transform(src, t, out, crop_x, crop_y, crop_size);
            return FER_OK;
        }
        // degenerate landmarks: the box rule below
    }
    int32_t x0, y0, s;
    crop_square(*box, *params, &x0, &y0, &s);
    tap tx[FER_INPUT_SIZE], ty[FER_INPUT_SIZE];
    make_taps(x0, s, src.width, tx);
    make_taps(y0, s, src.height, ty);
    for (int dy = 0; dy < FER_INPUT_SIZE; ++dy) {
        const int32_t y0 = ty[dy].i0, y1 = ty[dy].i1;
        const int32_t wy1 = ty[dy].w1, wy0 = k_weight_one - wy1;
        for (int dx = 0; dx < FER_INPUT_SIZE; ++dx) {
            const int32_t wx1 = tx[dx].w1, wx0 = k_weight_one - wx1;
            const int32_t top = static_cast<int32_t>(src.at(tx[dx].i0, y0)) * wx0 +
                                static_cast<int32_t>(src.at(tx[dx].i1, y0)) * wx1;
            const int32_t bottom = static_cast<int32_t>(src.at(tx[dx].i0, y1)) * wx0 +
                                   static_cast<int32_t>(src.at(tx[dx].i1, y1)) * wx1;
            // 8 + 2 * 11 bits: fits in 32 bits.
            const uint32_t v = static_cast<uint32_t>(top * wy0 + bottom * wy1);
            out[dy * FER_INPUT_SIZE + dx] = static_cast<uint8_t>((v + (1u << (2 * k_weight_bits - 1))) >> (2 * k_weight_bits));
        }
    }
    if (crop_x) {
        *crop_x = x0;
    }
    if (crop_y) {
        *crop_y = y0;
    }
    if (crop_size) {
        *crop_size = s;
    }
    return FER_OK;
}

}  // namespace fer::pipeline

namespace {

// fer_bgr_to_grey or fer_rgba_to_grey, for a colour format.
decltype(&fer_bgr_to_grey) colour_to_grey(fer_pixel_format format) {
    return format == FER_PIXEL_BGR ? fer_bgr_to_grey : fer_rgba_to_grey;
}

// The caller's pixels as a crop's samples: grey as they are, colour converted
// per sample (a 48x48 crop reads 9,216 samples, where converting the region
// it covers took 10x as many).
sample_source samples_of(const uint8_t * pixels, int32_t width, int32_t height, int32_t stride,
                         fer_pixel_format format) {
    switch (format) {
    case FER_PIXEL_BGR: return {pixels, width, height, stride, 3, 0, 2};
    case FER_PIXEL_RGBA: return {pixels, width, height, stride, 4, 2, 0};
    default: return {pixels, width, height, stride, 1, 0, 0};
    }
}

// fer_analyze and fer_analyze_image: detection on the caller's pixels (grey or
// colour; `grey`, when given, the grey image the cascade scans), crops from
// `crops`.
int analyze(fer_context * const * members, int32_t n_members, const fer_detector * det, const uint8_t * pixels, fer_pixel_format format,
            const uint8_t * grey, int32_t width, int32_t height, int32_t stride, int32_t grey_stride,
            const fer_pipeline_params * params, fer_face * faces, int32_t max_out, int32_t * n_faces,
            fer_detect_status * detect_status, const sample_source & crops) {
    if (detect_status) {
        *detect_status = FER_DETECT_OK;
    }
    if (n_faces) {
        *n_faces = 0;
    }
    if (!members || n_members < 1 || n_members > FER_ENSEMBLE_MAX || !members[0] || !det || !params || !n_faces ||
        max_out < 0 || (max_out > 0 && !faces) || params->max_faces < 0 || fer_tta_views(params->tta) == 0) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    // The boxes of the faces to classify, without allocating (a video calls
    // this every frame): at most `wanted` are needed, largest first (the
    // detector fills its buffer with the largest and counts them all). Up to
    // k_stack_boxes live on the stack; a caller wanting more has given room
    // for that many fer_face, and the boxes (fer_box is ~30x smaller) go at
    // the end of that array. Face i is written only after box i is read, and
    // never reaches box i + 1: with F, B the sizes of fer_face and fer_box,
    // face i ends at (i + 1) F <= max_out F - (wanted - i - 1) B, where box
    // i + 1 starts, since B <= F.
    constexpr int32_t k_stack_boxes = 64;
    fer_box stack_boxes[k_stack_boxes];
    const int32_t wanted = params->max_faces > 0 && params->max_faces < max_out ? params->max_faces : max_out;
    fer_box * boxes = stack_boxes;
    if (wanted > k_stack_boxes) {
        unsigned char * end = reinterpret_cast<unsigned char *>(faces + max_out);
        boxes = reinterpret_cast<fer_box *>(end - static_cast<size_t>(wanted) * sizeof(fer_box));
    }
    static_assert(sizeof(fer_box) <= sizeof(fer_face) && sizeof(fer_face) % alignof(fer_box) == 0,
                  "boxes must fit, aligned, behind the faces");
    int32_t found = 0;
    // The cascade works on grey: give it the grey image made for the crops
    // rather than have it convert the colour frame a second time.
    const bool grey_detector = grey && fer_detector_get_kind(det) == FER_DETECTOR_HAAR;
    const fer_detect_status ds = fer_detector_detect_image(
        det, grey_detector ? grey : pixels, width, height, grey_detector ? grey_stride : stride,
        grey_detector ? FER_PIXEL_GREY : format, &params->detect, boxes, wanted > k_stack_boxes ? wanted : k_stack_boxes,
        &found);
    if (ds != FER_OK) {
        if (detect_status) {
            *detect_status = ds;
        }
        return ds;  // one status enum: the detector's own reason (e.g. FER_ERR_TOO_LARGE)
    }
    const int32_t n = params->max_faces > 0 && params->max_faces < found ? params->max_faces : found;
    *n_faces = n;
    fer_context * ctx = members[0];  // the CAM's model
    int cam_h = 0, cam_w = 0;
    const bool want_cam = params->cam && fer_model_has_cam(fer_context_model(ctx), &cam_h, &cam_w) &&
                          cam_h * cam_w <= FER_FACE_CAM_MAX;
    uint8_t crop[FER_INPUT_SIZE * FER_INPUT_SIZE];
    for (int32_t i = 0; i < n && i < max_out; ++i) {
        const fer_box box = boxes[i];  // before f is cleared: it may hold this box (see above)
        fer_face & f = faces[i];
        std::memset(&f, 0, sizeof f);
        f.box = box;
        int st = fer::pipeline::crop_face(crops, &f.box, params, crop, &f.crop_x, &f.crop_y, &f.crop_size);
        if (st == FER_OK) {
            st = n_members == 1 && params->tta == FER_TTA_NONE
                     ? fer_classify(ctx, crop, FER_INPUT_SIZE, &f.result)
                     : fer_classify_ensemble(members, n_members, crop, FER_INPUT_SIZE, params->tta, &f.result);
        }
        if (st != FER_OK) {
            return st;
        }
        f.uncertain = f.result.confidence < params->min_confidence ? 1 : 0;
        f.track_id = -1;
        std::memcpy(f.smoothed, f.result.probabilities, sizeof f.smoothed);
        f.smoothed_class = f.result.top_class;
        if (want_cam && fer_context_cam(ctx, f.result.top_class, f.cam, FER_FACE_CAM_MAX) == FER_OK) {
            f.cam_h = cam_h;
            f.cam_w = cam_w;
        }
    }
    return FER_OK;
}

}  // namespace

extern "C" {

int fer_analyze(fer_context * ctx, const fer_detector * det, const uint8_t * grey, int32_t width, int32_t height,
                int32_t stride, const fer_pipeline_params * params, fer_face * faces, int32_t max_out,
                int32_t * n_faces, fer_detect_status * detect_status) {
    return analyze(&ctx, 1, det, grey, FER_PIXEL_GREY, grey, width, height, stride, stride, params, faces, max_out,
                   n_faces, detect_status, samples_of(grey, width, height, stride, FER_PIXEL_GREY));
}

int fer_analyze_image(fer_context * ctx, const fer_detector * det, const uint8_t * pixels, int32_t width,
                      int32_t height, int32_t stride, fer_pixel_format format, const fer_pipeline_params * params,
                      fer_face * faces, int32_t max_out, int32_t * n_faces, fer_detect_status * detect_status) {
    return fer_analyze_image_ensemble(&ctx, 1, det, pixels, width, height, stride, format, params, faces, max_out,
                                      n_faces, detect_status);
}

int fer_analyze_image_ensemble(fer_context * const * members, int32_t n_members, const fer_detector * det,
                               const uint8_t * pixels, int32_t width, int32_t height, int32_t stride,
                               fer_pixel_format format, const fer_pipeline_params * params, fer_face * faces,
                               int32_t max_out, int32_t * n_faces, fer_detect_status * detect_status) {
    const sample_source crops = samples_of(pixels, width, height, stride, format);
    if (format == FER_PIXEL_GREY) {
        return analyze(members, n_members, det, pixels, FER_PIXEL_GREY, pixels, width, height, stride, stride, params,
                       faces, max_out, n_faces, detect_status, crops);
    }
    if (n_faces) {
        *n_faces = 0;
    }
    if (!pixels || width <= 0 || height <= 0 || (format != FER_PIXEL_BGR && format != FER_PIXEL_RGBA) ||
        int64_t(stride) < int64_t(width) * (format == FER_PIXEL_BGR ? 3 : 4) ||
        int64_t(width) * int64_t(height) > int64_t(FER_DETECT_MAX_PIXELS) || !det ||
        fer_detector_get_kind(det) != FER_DETECTOR_HAAR) {
        // YuNet reads the colour pixels and the crops sample them (no grey
        // image at all); the detector reports sizes and arguments with its
        // own status
        return analyze(members, n_members, det, pixels, format, nullptr, width, height, stride, width, params, faces,
                       max_out, n_faces, detect_status, crops);
    }
    // The cascade scans the whole grey image: made once, the crops read it too.
    // Not value-initialised: written whole before it is read.
    std::unique_ptr<uint8_t[]> grey(new (std::nothrow) uint8_t[static_cast<size_t>(width) * static_cast<size_t>(height)]);
    if (!grey) {
        return FER_ERR_MEMORY;
    }
    colour_to_grey(format)(pixels, width, height, stride, grey.get(), width);
    return analyze(members, n_members, det, pixels, format, grey.get(), width, height, stride, width, params, faces,
                   max_out, n_faces, detect_status, samples_of(grey.get(), width, height, width, FER_PIXEL_GREY));
}

void fer_bgr_to_grey(const uint8_t * bgr, int32_t width, int32_t height, int32_t stride, uint8_t * grey,
                     int32_t grey_stride) {
    to_grey<0, 1, 2, 3>(bgr, width, height, stride, grey, grey_stride);
}

void fer_rgba_to_grey(const uint8_t * rgba, int32_t width, int32_t height, int32_t stride, uint8_t * grey,
                      int32_t grey_stride) {
    to_grey<2, 1, 0, 4>(rgba, width, height, stride, grey, grey_stride);
}

}  // extern "C"
