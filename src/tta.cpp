// Test-time augmentation and ensembles (include/fer-pipeline.h): the views of
// a face, and the mean of several models' probabilities over those views.
#include "fer-pipeline.h"
#include "top-class.h"

#include <cstddef>

namespace {

constexpr int k_side = FER_INPUT_SIZE;

// The offsets of the ten-crop views, in view pairs (the view, its mirror).
// The first is the face itself, so view 0 and 1 are those of FER_TTA_FLIP.
constexpr int k_ten_crop_offsets[5][2] = {
    {0, 0},
    {-FER_TTA_SHIFT, -FER_TTA_SHIFT},
    {FER_TTA_SHIFT, -FER_TTA_SHIFT},
    {-FER_TTA_SHIFT, FER_TTA_SHIFT},
    {FER_TTA_SHIFT, FER_TTA_SHIFT},
};

int clamp_index(int i) { return i < 0 ? 0 : (i >= k_side ? k_side - 1 : i); }

}  // namespace

extern "C" {

int32_t fer_tta_views(int32_t tta) {
    switch (tta) {
        case FER_TTA_NONE: return 1;
        case FER_TTA_FLIP: return 2;
        case FER_TTA_TEN_CROP: return 10;
        default: return 0;
    }
}

int fer_tta_view(const unsigned char * face, int stride, int32_t tta, int32_t view,
                 unsigned char out[FER_INPUT_SIZE * FER_INPUT_SIZE]) {
    if (!face || !out || stride < k_side || view < 0 || view >= fer_tta_views(tta)) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    const bool mirror = (view & 1) != 0;
    // out(x, y) = face(x - dx, y - dy): the content moves by (dx, dy).
    const int dx = k_ten_crop_offsets[view / 2][0], dy = k_ten_crop_offsets[view / 2][1];
    for (int y = 0; y < k_side; ++y) {
        const unsigned char * row = face + static_cast<size_t>(clamp_index(y - dy)) * static_cast<size_t>(stride);
        unsigned char * o = out + y * k_side;
        for (int x = 0; x < k_side; ++x) {
            const int sx = clamp_index((mirror ? k_side - 1 - x : x) - dx);
            o[x] = row[sx];
        }
    }
    return FER_OK;
}

int fer_classify_ensemble(fer_context * const * members, int32_t n_members, const unsigned char * face, int stride,
                          int32_t tta, fer_result * out) {
    const int32_t n_views = fer_tta_views(tta);
    if (!members || n_members < 1 || n_members > FER_ENSEMBLE_MAX || !face || !out || stride < k_side ||
        n_views == 0) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    for (int32_t m = 0; m < n_members; ++m) {
        if (!members[m]) {  // a model that is no classifier fails in fer_classify
            return FER_ERR_INVALID_ARGUMENT;
        }
    }
    // Classified last to first, so member 0's view 0 (the face itself) is the
    // last run of its context; summed first to last, the documented order.
    static_assert(FER_ENSEMBLE_MAX * 10 * FER_N_CLASSES * sizeof(float) <= 8192, "stays a small stack array");
    float probabilities[FER_ENSEMBLE_MAX][10][FER_N_CLASSES];
    unsigned char view[k_side * k_side];
    for (int32_t m = n_members - 1; m >= 0; --m) {
        for (int32_t v = n_views - 1; v >= 0; --v) {
            fer_result r;
            int st = FER_OK;
            if (v == 0) {
                st = fer_classify(members[m], face, stride, &r);  // view 0 is the face: no copy
            } else {
                st = fer_tta_view(face, stride, tta, v, view);
                if (st == FER_OK) {
                    st = fer_classify(members[m], view, k_side, &r);
                }
            }
            if (st != FER_OK) {
                return st;
            }
            for (int c = 0; c < FER_N_CLASSES; ++c) {
                probabilities[m][v][c] = r.probabilities[c];
            }
        }
    }
    const float count = static_cast<float>(n_members * n_views);
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        float sum = 0.0f;
        for (int32_t m = 0; m < n_members; ++m) {
            for (int32_t v = 0; v < n_views; ++v) {
                sum += probabilities[m][v][c];
            }
        }
        out->probabilities[c] = sum / count;
    }
    out->top_class = fer_rt::top_class(out->probabilities);
    out->confidence = out->probabilities[out->top_class];
    return FER_OK;
}

int fer_classify_flip(fer_context * ctx, const unsigned char * face, int stride, fer_result * out) {
    return fer_classify_ensemble(&ctx, 1, face, stride, FER_TTA_FLIP, out);
}

}  // extern "C"
