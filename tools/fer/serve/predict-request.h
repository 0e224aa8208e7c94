// Reading a /v1/predict request: the checks its head allows before the body
// is read (Content-Type, query), then the image bytes (raw body or multipart
// field `image`), sniffed from their first bytes.
#pragma once

#include "fer-pipeline.h"
#include "http-message.h"

#include <string>

namespace fer::serve {

// What went wrong, as the HTTP status and message to answer with.
struct request_error {
    int status = 0;  // 0: no error
    std::string message;
};

// From the head alone: 415 for a Content-Type that is neither an image we
// decode nor multipart/form-data (with a boundary).
request_error check_predict_content_type(const http_request & req);

// The image bytes of the complete request: 400 for a multipart body without
// an `image` field or malformed, 415 for a declared part type we do not
// decode, 415 for bytes of another image format (BMP, TIFF, PNM, GIF, ...),
// 400 for bytes of no image format. Only JPEG, PNG and WebP (when OpenCV has
// it) pass, whatever the label said. file_name: the multipart file name.
request_error read_image_body(const http_request & req, std::string & image, std::string & file_name);

// Applies min_face, max_faces, min_confidence, cam and tta from the query to
// params; 400 for an unknown parameter or a bad value.
request_error parse_pipeline_query(const http_request & req, int32_t max_faces_limit, fer_pipeline_params & params);

// "image/jpeg, image/png[, image/webp]": what this build decodes.
std::string accepted_image_types();

// "JPEG", "PNG" or "WebP" when the bytes start like one we decode, else "".
const char * sniff_decodable(const std::string & bytes);

}  // namespace fer::serve
