// Calibration photos for the detector's int8 file: each photo twice, whole
// and its centre square, letterboxed (scaled to fit, aspect kept, padded with
// black at the right and bottom) into the model input, as float BGR 0..255
// NHWC. OpenCV decodes them.
#pragma once

#include <string>
#include <vector>

namespace fer {

// `paths`: photos or folders (their .jpg/.jpeg/.png files, sorted, not
// recursive). Throws fer::input_error naming a photo that does not decode or
// a path that holds none.
std::vector<std::vector<float>> load_calibration_inputs(const std::vector<std::string> & paths, int height, int width);

// One photo (BGR, 8-bit, 3 channels) letterboxed into height x width, as floats.
std::vector<float> letterbox_bgr(const unsigned char * bgr, int rows, int cols, size_t step, int height, int width);

}  // namespace fer
