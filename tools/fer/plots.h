// Pictures for people: confusion-matrix heatmaps, training curves and CAM
// overlays, drawn with OpenCV and written as PNG (atomically).
#pragma once

#include "metrics.h"

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace fer {

cv::Mat draw_confusion(const metrics & m, const std::vector<std::string> & names, const std::string & title);

// Loss and accuracy per epoch from a run's metrics.csv; empty Mat when unreadable.
cv::Mat draw_training_curves(const std::string & metrics_csv);

// The face, its heatmap overlay and the class probabilities as bars.
cv::Mat draw_cam_panel(const cv::Mat & face_grey, const cv::Mat & cam01, const std::vector<float> & probs,
                       const std::vector<std::string> & names, int explained_class);

// Writes a PNG via a temporary file and rename; throws fer::error on failure.
void write_png(const std::string & path, const cv::Mat & img);

}  // namespace fer
