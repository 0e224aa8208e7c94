// The class with the highest probability, the first one on ties: how the
// runtime picks every top class (fer_classify, flip TTA, the tracker's
// smoothed class), so they can never disagree on a tie.
#ifndef FER_TOP_CLASS_H
#define FER_TOP_CLASS_H

#include "fer.h"

namespace fer_rt {

inline int top_class(const float * p) {
    int best = 0;
    for (int c = 1; c < FER_N_CLASSES; ++c) {
        if (p[c] > p[best]) {
            best = c;
        }
    }
    return best;
}

}  // namespace fer_rt

#endif  // FER_TOP_CLASS_H
