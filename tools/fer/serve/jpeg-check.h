// Is a JPEG's entropy-coded data complete? libjpeg (and so OpenCV) decodes a
// truncated or damaged JPEG anyway, filling the missing rows with grey and
// printing a warning nobody reads; a file cut short with an end marker
// appended looks whole to a header check. This runs libjpeg's entropy
// decoder over every scan (no IDCT, no colour conversion) and counts its
// warnings ("premature end of data segment", "corrupt data").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace fer::serve {

// False with a reason when the JPEG's scans are cut short or corrupt. Memory:
// the DCT coefficients, 2 bytes per pixel and component (bounded by the
// caller's pixel limit, checked before).
bool jpeg_scans_complete(const uint8_t * data, size_t size, std::string * why);

}  // namespace fer::serve
