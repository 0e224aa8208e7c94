#include "predict-request.h"

#include "image-header.h"
#include "multipart.h"

#include <opencv2/imgcodecs.hpp>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

namespace fer::serve {

namespace {

// "Image/JPEG; charset=x" -> "image/jpeg".
std::string media_type(const std::string & content_type) {
    std::string t;
    for (char c : content_type) {
        if (c == ';') {
            break;
        }
        if (c != ' ' && c != '\t') {
            t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
    }
    return t;
}

// OpenCV decodes WebP only when built with libwebp; ask it once.
bool webp_supported() {
    static const bool yes = [] {
        try {
            std::vector<uchar> out;
            return cv::imencode(".webp", cv::Mat(8, 8, CV_8UC1, cv::Scalar(0)), out) && !out.empty();
        } catch (const cv::Exception &) {
            return false;
        }
    }();
    return yes;
}

bool decodable_type(const std::string & t) {
    return t == "image/jpeg" || t == "image/jpg" || t == "image/png" || (t == "image/webp" && webp_supported());
}

bool parse_int(const std::string & s, long lo, long hi, long & out) {
    char * end = nullptr;
    errno = 0;
    const long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

}  // namespace

std::string accepted_image_types() {
    return webp_supported() ? "image/jpeg, image/png, image/webp" : "image/jpeg, image/png";
}

const char * sniff_decodable(const std::string & b) {
    const auto * d = reinterpret_cast<const unsigned char *>(b.data());
    if (b.size() >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        return "JPEG";
    }
    if (b.size() >= 8 && b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) {
        return "PNG";
    }
    if (webp_supported() && b.size() >= 12 && b.compare(0, 4, "RIFF") == 0 && b.compare(8, 4, "WEBP") == 0) {
        return "WebP";
    }
    return "";
}

request_error check_predict_content_type(const http_request & req) {
    const std::string content_type = req.header_value("content-type");
    std::string boundary;
    if (multipart_boundary(content_type, boundary)) {
        return {};
    }
    const std::string t = media_type(content_type);
    if (t == "multipart/form-data") {
        return {400, "multipart/form-data without a valid boundary parameter"};
    }
    if (!decodable_type(t)) {
        return {415, "unsupported Content-Type '" + t + "': send " + accepted_image_types() +
                         " as the body, or multipart/form-data with a field 'image'"};
    }
    return {};
}

request_error read_image_body(const http_request & req, std::string & image, std::string & file_name) {
    image.clear();
    file_name.clear();
    std::string boundary;
    if (multipart_boundary(req.header_value("content-type"), boundary)) {
        std::vector<multipart_part> parts;
        std::string err;
        if (!parse_multipart(req.body, boundary, parts, err)) {
            return {400, "malformed multipart/form-data: " + err};
        }
        const multipart_part * found = nullptr;
        for (const auto & p : parts) {
            if (p.name == "image") {
                found = &p;
                break;
            }
        }
        if (!found) {
            return {400, "multipart/form-data without a field named 'image'"};
        }
        // Browsers and curl name the part's type from the file name; accept
        // an unnamed or generic one: the bytes decide below.
        if (!found->content_type.empty() && found->content_type != "application/octet-stream" &&
            !decodable_type(found->content_type)) {
            return {415, "unsupported image type '" + found->content_type + "' in field 'image': send " +
                             accepted_image_types()};
        }
        file_name = found->filename;
        image = req.body.substr(found->offset, found->size);
    } else {
        image = req.body;
    }
    if (image.empty()) {
        return {400, "empty image"};
    }
    // The label is only a hint: what reaches a decoder is decided by the bytes.
    if (!*sniff_decodable(image)) {
        image_header h;
        std::string err;
        if (read_image_header(reinterpret_cast<const uint8_t *>(image.data()), image.size(), &h, &err) ||
            *h.format || image.compare(0, 4, "GIF8") == 0) {
            const std::string format = *h.format ? h.format : "GIF";
            return {415, format + " images are not accepted: send " + accepted_image_types()};
        }
        return {400, "undecodable image: not a JPEG, PNG or WebP file"};
    }
    return {};
}

request_error parse_pipeline_query(const http_request & req, int32_t max_faces_limit, fer_pipeline_params & p) {
    for (const auto & [key, value] : req.query) {
        long v = 0;
        if (key == "min_face") {
            if (!parse_int(value, 0, 32768, v)) {
                return {400, "min_face must be an integer in 0..32768 (pixels), got '" + value + "'"};
            }
            p.detect.min_size = static_cast<int32_t>(v);
        } else if (key == "max_faces") {
            if (!parse_int(value, 0, max_faces_limit, v)) {
                return {400, "max_faces must be an integer in 0.." + std::to_string(max_faces_limit) + " (0: all), got '" +
                                 value + "'"};
            }
            p.max_faces = static_cast<int32_t>(v);
        } else if (key == "min_confidence") {
            char * end = nullptr;
            const double c = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || !std::isfinite(c) || c < 0 || c > 1) {
                return {400, "min_confidence must be a number in 0..1, got '" + value + "'"};
            }
            p.min_confidence = static_cast<float>(c);
        } else if (key == "cam") {
            if (value == "1" || value == "true") {
                p.cam = 1;
            } else if (value == "0" || value == "false") {
                p.cam = 0;
            } else {
                return {400, "cam must be 0, 1, true or false, got '" + value + "'"};
            }
        } else if (key == "tta") {
            if (value == "none" || value == "flip" || value == "ten-crop") {
                p.tta = value == "none" ? FER_TTA_NONE : value == "flip" ? FER_TTA_FLIP : FER_TTA_TEN_CROP;
            } else {
                return {400, "tta must be none, flip or ten-crop, got '" + value + "'"};
            }
        } else if (key == "quality") {
            if (value == "best" || value == "fast") {
                p.tta = value == "best" ? FER_TTA_TEN_CROP : FER_TTA_NONE;
            } else {
                return {400, "quality must be fast or best, got '" + value + "'"};
            }
        } else {
            return {400, "unknown query parameter '" + key +
                             "' (known: min_face, max_faces, min_confidence, cam, tta, quality)"};
        }
    }
    return {};
}

}  // namespace fer::serve
