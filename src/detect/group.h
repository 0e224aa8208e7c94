// Grouping of raw detections, as OpenCV's cv::groupRectangles(rects,
// groupThreshold, eps): rectangles are partitioned into classes of "similar"
// ones (transitive closure of: every edge within eps * mean of the smaller
// sides / 2), each class is averaged, classes with <= group_threshold members
// are dropped, and so are classes lying inside a bigger, better supported one.
#ifndef FER_DETECT_GROUP_H
#define FER_DETECT_GROUP_H

#include <vector>

namespace fer::detect {

struct rect {
    int x = 0, y = 0, w = 0, h = 0;
};

// Replaces rects by the groups; weights[i] receives the members of group i.
// group_threshold <= 0 leaves rects as they are (weights all 1).
void group_rectangles(std::vector<rect> & rects, std::vector<int> & weights, int group_threshold, double eps);

}  // namespace fer::detect

#endif  // FER_DETECT_GROUP_H
