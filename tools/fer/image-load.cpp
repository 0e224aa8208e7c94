#include "image-load.h"

#include "fer-pipeline.h"
#include "image-header.h"

#include <opencv2/imgcodecs.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace fer {

namespace {

// libjpeg and libpng decode a cut-off file into a partly grey picture with
// only a warning; a missing end marker tells us the file is incomplete.
bool looks_truncated(const uint8_t * d, size_t n, const std::string & format, std::string * error) {
    if (format == "JPEG") {
        // The end-of-image marker, allowing for the padding some writers append.
        const size_t from = n > 4096 ? n - 4096 : 0;
        for (size_t i = n - 1; i > from; --i) {
            if (d[i - 1] == 0xFF && d[i] == 0xD9) {
                return false;
            }
        }
        *error = "truncated JPEG (no end-of-image marker)";
        return true;
    }
    if (format == "PNG") {
        const size_t from = n > 4096 ? n - 4096 : 0;
        for (size_t i = n >= 4 ? n - 4 : 0; i > from; --i) {
            if (std::memcmp(d + i, "IEND", 4) == 0) {
                return false;
            }
        }
        *error = "truncated PNG (no IEND chunk)";
        return true;
    }
    return false;
}

}  // namespace

bool load_image_buffer(const void * data, size_t size, loaded_image * out, std::string * error) {
    *out = loaded_image();
    const auto * d = static_cast<const uint8_t *>(data);
    image_header h;
    if (size == 0) {
        *error = "empty file";
        return false;
    }
    if (!data || !read_image_header(d, size, &h, error)) {
        return false;
    }
    if (h.width <= 0 || h.height <= 0) {
        *error = std::string(h.format) + " header gives a zero-size image (" + std::to_string(h.width) + "x" +
                 std::to_string(h.height) + ")";
        return false;
    }
    if (h.width * h.height > k_max_image_pixels) {
        *error = std::string(h.format) + " image of " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                 " pixels is above the limit of " + std::to_string(k_max_image_pixels / 1000000) +
                 " megapixels (refused before decoding)";
        return false;
    }
    if (looks_truncated(d, size, h.format, error)) {
        return false;
    }
    const cv::Mat raw(1, static_cast<int>(size), CV_8U, const_cast<uint8_t *>(d));
    // IMREAD_COLOR applies the EXIF orientation (IMREAD_IGNORE_ORIENTATION is not set).
    cv::Mat bgr;
    try {
        bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
    } catch (const cv::Exception & e) {
        *error = std::string("cannot decode ") + h.format + ": " + e.what();
        return false;
    }
    if (bgr.empty()) {
        *error = std::string("cannot decode ") + h.format + " (corrupt or unsupported)";
        return false;
    }
    out->format = h.format;
    out->width = bgr.cols;
    out->height = bgr.rows;
    out->grey.create(bgr.rows, bgr.cols, CV_8U);
    fer_bgr_to_grey(bgr.data, bgr.cols, bgr.rows, static_cast<int32_t>(bgr.step), out->grey.data,
                    static_cast<int32_t>(out->grey.step));
    out->bgr = bgr;
    return true;
}

bool load_image_file(const std::string & path, loaded_image * out, std::string * error, size_t max_file_bytes) {
    std::FILE * f = std::fopen(path.c_str(), "rb");
    if (!f) {
        *error = std::string("cannot open file: ") + std::strerror(errno);
        return false;
    }
    std::vector<uint8_t> bytes;
    bool ok = std::fseek(f, 0, SEEK_END) == 0;
    const long size = ok ? std::ftell(f) : -1;
    ok = ok && size >= 0 && std::fseek(f, 0, SEEK_SET) == 0;
    if (ok && static_cast<unsigned long>(size) > max_file_bytes) {
        std::fclose(f);
        *error = "file of " + std::to_string(size) + " bytes is above the limit of " +
                 std::to_string(max_file_bytes) + " bytes";
        return false;
    }
    if (ok) {
        bytes.resize(static_cast<size_t>(size));
        ok = bytes.empty() || std::fread(bytes.data(), 1, bytes.size(), f) == bytes.size();
    }
    std::fclose(f);
    if (!ok) {
        *error = "cannot read file";
        return false;
    }
    return load_image_buffer(bytes.data(), bytes.size(), out, error);
}

}  // namespace fer
