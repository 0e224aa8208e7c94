// The body of GET /v1/model: what a client needs to know about the model the
// server runs (class names, input spec, name/version, SHA-256 of the file),
// computed once at start-up.
#pragma once

#include "fer-detect.h"
#include "fer.h"

#include <string>

namespace fer::serve {

// Hex SHA-256 of a file's bytes; throws fer::error (input) when unreadable.
std::string file_sha256(const std::string & path);

std::string describe_model(const fer_model * model, const std::string & model_path, const fer_detector * det,
                           const std::string & detector_path);

}  // namespace fer::serve
