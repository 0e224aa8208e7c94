#include "predict-request.h"

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

request_error read_image_body(const httplib::Request & req, const httplib::ContentReader & reader, size_t max_bytes,
                              std::string & image, std::string & file_name) {
    image.clear();
    file_name.clear();
    size_t received = 0;
    bool too_large = false;
    bool ok = false;
    const bool multipart = req.is_multipart_form_data();
    bool in_image = false, found_image = false;
    std::string declared_type;
    if (multipart) {
        ok = reader(
            [&](const httplib::MultipartFormData & part) {
                in_image = part.name == "image" && !found_image;
                if (in_image) {
                    found_image = true;
                    declared_type = media_type(part.content_type);
                    file_name = part.filename;
                }
                return true;
            },
            [&](const char * data, size_t n) {
                received += n;  // every part counts against the limit, not only the image
                if (received > max_bytes) {
                    too_large = true;
                    return false;
                }
                if (in_image) {
                    image.append(data, n);
                }
                return true;
            });
    } else {
        // An unsupported body is still read (and dropped): closing on unread
        // data makes TCP reset the connection, and the client could lose the
        // answer that says what was wrong.
        declared_type = media_type(req.get_header_value("Content-Type"));
        const bool keep = decodable_type(declared_type);
        ok = reader([&](const char * data, size_t n) {
            received += n;
            if (received > max_bytes) {
                too_large = true;
                return false;
            }
            if (keep) {
                image.append(data, n);
            }
            return true;
        });
    }
    // httplib refuses a Content-Length above the limit itself (its status 413).
    const std::string limit = std::to_string(max_bytes >> 20) + " MB";
    if (too_large || (!ok && req.has_header("Content-Length") &&
                      req.get_header_value<uint64_t>("Content-Length") > max_bytes)) {
        return {413, "request body larger than the limit of " + limit + " (--max-body)"};
    }
    if (!ok) {
        return {400, "could not read the request body"};
    }
    if (!multipart && !decodable_type(declared_type)) {
        return {415, "unsupported Content-Type '" + declared_type + "': send " + accepted_image_types() +
                         " as the body, or multipart/form-data with a field 'image'"};
    }
    if (multipart) {
        if (!found_image) {
            return {400, "multipart/form-data without a field named 'image'"};
        }
        // Browsers and curl name the part's type from the file name; accept
        // an unnamed or generic one and let the decoder decide.
        if (!declared_type.empty() && declared_type != "application/octet-stream" && !decodable_type(declared_type)) {
            return {415, "unsupported image type '" + declared_type + "' in field 'image': send " + accepted_image_types()};
        }
    }
    if (image.empty()) {
        return {400, "empty image"};
    }
    return {};
}

request_error parse_pipeline_query(const httplib::Request & req, int32_t max_faces_limit, fer_pipeline_params & p) {
    for (const auto & [key, value] : req.params) {
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
            if (value == "flip" || value == "none") {
                p.tta_flip = value == "flip" ? 1 : 0;
            } else {
                return {400, "tta must be none or flip, got '" + value + "'"};
            }
        } else {
            return {400, "unknown query parameter '" + key + "' (known: min_face, max_faces, min_confidence, cam, tta)"};
        }
    }
    return {};
}

}  // namespace fer::serve
