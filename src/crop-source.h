// The grey pixels a face crop reads (fer_crop_face), so that a colour frame
// is converted to grey only where faces are (src/pipeline.cpp). Internal.
#pragma once

#include "fer-pipeline.h"

namespace fer::pipeline {

// [x0, x1) x [y0, y1), inside the image.
struct pixel_rect {
    int32_t x0, y0, x1, y1;
};

// Every pixel fer_crop_face(grey, width, height, ..., &box, &params, ...) can
// read lies in this rectangle: the same geometry (landmark transform or the
// box rule), widened by two pixels for the bilinear taps.
pixel_rect crop_source_rect(const fer_box & box, const fer_pipeline_params & params, int32_t width, int32_t height);

}  // namespace fer::pipeline
