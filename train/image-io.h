// Reading and writing pictures (OpenCV's codecs), kept out of the rest of the
// training library so only this file and the apps see OpenCV headers.
#pragma once

#include <cstdint>
#include <string>

namespace fer {

// Decodes an image file to a 48x48 grey face (area-resampled when it has
// another size). Returns false with a reason when the file is not a readable
// image or is absurdly large.
bool read_face_image(const std::string & path, uint8_t * out48x48, std::string * error);

// Whether a file name has an image extension the decoder reads (case-insensitive).
bool is_image_file_name(const std::string & path);

}  // namespace fer
