// Loading a photo for the face pipeline, shared by the runtime commands
// (fer predict, fer video/live, fer serve): decode with OpenCV in colour,
// upright (EXIF orientation applied), after checking the header dimensions
// so that a huge picture is refused before anything is decoded; then grey
// with fer_bgr_to_grey (the same pixels the web app gets from RGBA).
//
//   fer::loaded_image img;  std::string err;
//   if (!fer::load_image_file(path, &img, &err)) report(path + ": " + err);
//   fer_analyze(ctx, det, img.grey.data, img.width, img.height, img.grey.step, ...);
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace fer {

// Largest picture accepted: 100 megapixels (the detector's own limit).
constexpr int64_t k_max_image_pixels = 100000000;

struct loaded_image {
    cv::Mat bgr;   // 8-bit BGR, upright
    cv::Mat grey;  // 8-bit grey of bgr, same size, continuous
    int width = 0, height = 0;
    const char * format = "";  // "PNG", "JPEG", ... (from the header)
};

// Both return false with a reason in *error (without the file name: the
// caller names the file or request). Files above max_file_bytes are refused
// unread.
bool load_image_buffer(const void * data, size_t size, loaded_image * out, std::string * error);
bool load_image_file(const std::string & path, loaded_image * out, std::string * error,
                     size_t max_file_bytes = size_t(1) << 30);

}  // namespace fer
