// Face tracking across video frames: greedy IoU matching and an exponential
// moving average of each track's probabilities (fer_tracker_* in
// fer-pipeline.h). Choices and their reasons: docs/video.md.
#include "fer-pipeline.h"
#include "top-class.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace {

// A fixed table, allocated once: an update never allocates. Live tracks are at
// most (faces per frame) x (max_missed + 1); a frame with more unmatched faces
// than free slots evicts the longest-unseen tracks first (see claim_slot).
constexpr int32_t k_max_tracks = 64;

// Bounds that keep the counters far from overflow and reject nonsense early.
constexpr int32_t k_max_missed_limit = 1000000;

struct track {
    int32_t id;  // 0: free slot
    fer_box box; // box of the last face matched to this track
    int32_t missed;  // frames since that face
    float smoothed[FER_N_CLASSES];
};

// Intersection over union in double: boxes are int32 and their areas may not fit 32 bits.
double box_iou(const fer_box & a, const fer_box & b) {
    if (a.width <= 0 || a.height <= 0 || b.width <= 0 || b.height <= 0) {
        return 0.0;
    }
    const double x0 = a.x > b.x ? a.x : b.x;
    const double y0 = a.y > b.y ? a.y : b.y;
    const double ax1 = static_cast<double>(a.x) + a.width, bx1 = static_cast<double>(b.x) + b.width;
    const double ay1 = static_cast<double>(a.y) + a.height, by1 = static_cast<double>(b.y) + b.height;
    const double x1 = ax1 < bx1 ? ax1 : bx1;
    const double y1 = ay1 < by1 ? ay1 : by1;
    if (x1 <= x0 || y1 <= y0) {
        return 0.0;
    }
    const double inter = (x1 - x0) * (y1 - y0);
    const double uni = static_cast<double>(a.width) * a.height + static_cast<double>(b.width) * b.height - inter;
    return inter / uni;
}

}  // namespace

struct fer_tracker {
    fer_tracker_params params;
    int32_t next_id;
    track tracks[k_max_tracks];
    // Per-update scratch: whether a slot got a face this frame.
    uint8_t matched[k_max_tracks];
};

namespace {

// A slot for a new track: a free one, else the track unseen for longest among
// those not continued this frame (ties: the oldest id). -1 when every slot was
// matched this frame, i.e. more than k_max_tracks faces in one frame.
int32_t claim_slot(fer_tracker * t) {
    int32_t victim = -1;
    for (int32_t s = 0; s < k_max_tracks; ++s) {
        const track & tr = t->tracks[s];
        if (tr.id == 0) {
            return s;
        }
        if (t->matched[s]) {
            continue;
        }
        if (victim < 0 || tr.missed > t->tracks[victim].missed ||
            (tr.missed == t->tracks[victim].missed && tr.id < t->tracks[victim].id)) {
            victim = s;
        }
    }
    return victim;
}

void smooth_into(const fer_tracker_params & p, track & tr, fer_face & f) {
    for (int32_t c = 0; c < FER_N_CLASSES; ++c) {
        tr.smoothed[c] = p.ema_alpha * f.result.probabilities[c] + (1.0f - p.ema_alpha) * tr.smoothed[c];
        f.smoothed[c] = tr.smoothed[c];
    }
    f.smoothed_class = fer_rt::top_class(f.smoothed);
}

}  // namespace

extern "C" {

fer_tracker_params fer_tracker_default_params(void) {
    fer_tracker_params p;
    // Haar boxes of one face jitter by a few pixels and grow or shrink by a
    // pyramid step (10%) between frames: IoU stays above 0.5 for a still face,
    // and 0.3 still follows a face moving about a third of its width per frame.
    p.iou_threshold = 0.3f;
    // Time constant of about 1/alpha = 3 analysed frames: a single outlier
    // frame cannot flip a confident label, a real change shows within ~3 frames.
    p.ema_alpha = 0.3f;
    // The detector misses a face now and then (blink, turn); keep its id
    // through a short gap rather than issuing a new one.
    p.max_missed = 5;
    return p;
}

fer_tracker * fer_tracker_new(fer_tracker_params params) {
    // Written as negated ranges so that NaN fails them too.
    if (!(params.iou_threshold > 0.0f && params.iou_threshold <= 1.0f) ||
        !(params.ema_alpha > 0.0f && params.ema_alpha <= 1.0f) || params.max_missed < 0 ||
        params.max_missed > k_max_missed_limit) {
        return nullptr;
    }
    // calloc, not new: with -fno-exceptions a failed new aborts; this returns NULL.
    auto * t = static_cast<fer_tracker *>(std::calloc(1, sizeof(fer_tracker)));
    if (!t) {
        return nullptr;
    }
    t->params = params;
    t->next_id = 1;
    return t;
}

void fer_tracker_free(fer_tracker * tracker) {
    std::free(tracker);
}

int fer_tracker_update(fer_tracker * t, fer_face * faces, int32_t n_faces) {
    if (!t || n_faces < 0 || (n_faces > 0 && !faces)) {
        return FER_ERR_INVALID_ARGUMENT;
    }
    for (int32_t i = 0; i < n_faces; ++i) {
        faces[i].track_id = -1;
    }
    for (int32_t s = 0; s < k_max_tracks; ++s) {
        t->matched[s] = 0;
    }

    // Greedy matching, best pair first: repeatedly take the (track, face)
    // pair of largest IoU among those still free. Unlike matching faces in
    // order, a face cannot steal a track that overlaps another face better.
    // Each round is O(tracks x faces) and there are at most k_max_tracks rounds;
    // no pair list is stored, so nothing is allocated.
    for (;;) {
        double best = -1.0;
        int32_t best_slot = -1, best_face = -1;
        for (int32_t s = 0; s < k_max_tracks; ++s) {
            const track & tr = t->tracks[s];
            if (tr.id == 0 || t->matched[s]) {
                continue;
            }
            for (int32_t i = 0; i < n_faces; ++i) {
                if (faces[i].track_id != -1) {
                    continue;
                }
                const double iou = box_iou(tr.box, faces[i].box);
                // Ties go to the older track (smaller id), then the earlier
                // (larger) face, so the result does not depend on slot order.
                if (iou >= t->params.iou_threshold &&
                    (iou > best || (iou == best && (tr.id < t->tracks[best_slot].id ||
                                                    (tr.id == t->tracks[best_slot].id && i < best_face))))) {
                    best = iou;
                    best_slot = s;
                    best_face = i;
                }
            }
        }
        if (best_slot < 0) {
            break;
        }
        track & tr = t->tracks[best_slot];
        fer_face & f = faces[best_face];
        t->matched[best_slot] = 1;
        tr.box = f.box;
        tr.missed = 0;
        f.track_id = tr.id;
        smooth_into(t->params, tr, f);
    }

    // Age the tracks that found no face; drop those past max_missed. Done
    // before new tracks are made so their slots can be reused this frame.
    for (int32_t s = 0; s < k_max_tracks; ++s) {
        track & tr = t->tracks[s];
        if (tr.id != 0 && !t->matched[s] && ++tr.missed > t->params.max_missed) {
            tr.id = 0;
        }
    }

    // Faces left over start new tracks, initialised with their own
    // probabilities (an average with nothing would bias the first frames).
    for (int32_t i = 0; i < n_faces; ++i) {
        fer_face & f = faces[i];
        if (f.track_id != -1) {
            continue;
        }
        const int32_t s = claim_slot(t);
        if (s < 0) {
            // More faces in one frame than the table holds: report them
            // untracked, with their own probabilities.
            for (int32_t c = 0; c < FER_N_CLASSES; ++c) {
                f.smoothed[c] = f.result.probabilities[c];
            }
            f.smoothed_class = fer_rt::top_class(f.smoothed);
            continue;
        }
        track & tr = t->tracks[s];
        tr.id = t->next_id;
        // 2^31 - 1 new faces (two years of a new face every 30 ms) before ids wrap.
        t->next_id = t->next_id == INT32_MAX ? 1 : t->next_id + 1;
        tr.box = f.box;
        tr.missed = 0;
        t->matched[s] = 1;
        for (int32_t c = 0; c < FER_N_CLASSES; ++c) {
            tr.smoothed[c] = f.result.probabilities[c];
        }
        f.track_id = tr.id;
        for (int32_t c = 0; c < FER_N_CLASSES; ++c) {
            f.smoothed[c] = tr.smoothed[c];
        }
        f.smoothed_class = fer_rt::top_class(f.smoothed);
    }
    return FER_OK;
}

}  // extern "C"
