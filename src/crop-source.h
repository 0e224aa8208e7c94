// The pixels a face crop samples (src/pipeline.cpp), so that a colour frame
// is converted to grey only at the samples the crops read. Internal.
#pragma once

#include "fer-pipeline.h"

namespace fer::pipeline {

// An image as a crop reads it: grey bytes, or BGR / RGBA converted to grey
// per sample with fer_bgr_to_grey's weights (so a crop of the colour image
// equals, byte for byte, the crop of its grey conversion).
struct sample_source {
    const uint8_t * pixels;
    int32_t width, height, stride;  // stride in bytes
    int32_t bytes_per_pixel;        // 1 (grey), 3 (BGR) or 4 (RGBA)
    int32_t blue, red;              // byte offsets in a colour pixel (green is byte 1)
    uint32_t at(int32_t x, int32_t y) const;  // the grey value of pixel (x, y), inside the image
};

// fer_crop_face on any sample_source (fer_crop_face is this on grey pixels).
int crop_face(const sample_source & src, const fer_box * box, const fer_pipeline_params * params,
              uint8_t out[FER_INPUT_SIZE * FER_INPUT_SIZE], int32_t * crop_x, int32_t * crop_y, int32_t * crop_size);

}  // namespace fer::pipeline
