// Picture dimensions read from the file header, without decoding: lets the
// apps refuse absurd inputs (a 20000x20000 PNG is 1.2 GB of pixels) before a
// decoder allocates anything. PNG, JPEG, BMP, WebP, PNM (PBM/PGM/PPM) and TIFF.
// Sides above 2^24 are refused, so width * height never overflows int64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fer {

struct image_header {
    const char * format = "";  // "PNG", "JPEG", ...
    int64_t width = 0, height = 0;
};

// False with a reason in *error when the bytes are not one of the formats
// above or their header is cut short or inconsistent.
bool read_image_header(const uint8_t * data, size_t size, image_header * out, std::string * error);

}  // namespace fer
