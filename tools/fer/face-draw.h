// Annotated pictures for fer predict: each face's box with its label and
// confidence, and optionally its class activation map blended over the crop.
#pragma once

#include "fer-pipeline.h"

#include <opencv2/core.hpp>

#include <vector>

namespace fer {

// Draws on bgr (8-bit, 3 channels). With cam, faces that carry a map
// (cam_h > 0) get it as a heat overlay over their classified square.
void draw_face_annotations(cv::Mat & bgr, const std::vector<fer_face> & faces, bool cam);

}  // namespace fer
