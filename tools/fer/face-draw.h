// Faces drawn on pictures, the same way by every runtime command: fer
// predict's annotated images (--out), fer video's annotated video and fer
// live's window. At each face: its box and caption in the colour of its
// emotion (grey when uncertain), and optionally its class activation map
// blended over the square that was classified.
#pragma once

#include "fer-pipeline.h"

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace fer {

// "happy 87%" or "uncertain 41%" for a face of one picture; a tracked face
// (track_id > 0) shows its smoothed emotion instead, after its id: "#3 happy
// 87%", so labels in a video do not flicker from frame to frame.
std::string face_caption(const fer_face & face);

// BGR colour of an emotion (FER2013 class index), bright on dark and light
// pictures alike; white for an index out of range.
cv::Scalar emotion_colour(int cls);

// Draws on bgr (8-bit, 3 channels). With cam, faces that carry a map
// (cam_h > 0) get it as a heat overlay over their classified square; with
// aligned (fer_pipeline_params.align, the default) a face with landmarks was
// classified from a turned square, and its map is turned back with it.
void draw_faces(cv::Mat & bgr, const std::vector<fer_face> & faces, bool cam = false, bool aligned = true);

}  // namespace fer
