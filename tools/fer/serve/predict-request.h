// Reading a /v1/predict request: the image bytes (raw body or multipart
// field `image`, never more than the body limit in memory, chunked or not)
// and the pipeline options of its query string.
#pragma once

#include "fer-pipeline.h"

#include <httplib.h>

#include <string>

namespace fer::serve {

// What went wrong, as the HTTP status and message to answer with.
struct request_error {
    int status = 0;  // 0: no error
    std::string message;
};

// The image bytes of the request, or an error: 413 over max_bytes, 415 for a
// Content-Type that is not an image we decode, 400 for a multipart body
// without an `image` field or a body that could not be read. file_name: the
// multipart part's file name, else empty.
request_error read_image_body(const httplib::Request & req, const httplib::ContentReader & reader, size_t max_bytes,
                              std::string & image, std::string & file_name);

// Applies min_face, max_faces, min_confidence and cam from the query to
// params; 400 for an unknown parameter or a bad value.
request_error parse_pipeline_query(const httplib::Request & req, int32_t max_faces_limit, fer_pipeline_params & params);

// "image/jpeg, image/png[, image/webp]": what this build decodes.
std::string accepted_image_types();

}  // namespace fer::serve
