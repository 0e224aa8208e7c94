// multipart/form-data (RFC 7578) parsed from a complete body held in memory
// (the front has already bounded its size by --max-body).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace fer::serve {

struct multipart_part {
    std::string name, filename, content_type;  // content_type lower-case, without parameters
    size_t offset = 0, size = 0;               // the part's data within the body
};

// The boundary parameter of a multipart/form-data Content-Type; false when
// there is none or it is not a valid boundary (1..70 characters).
bool multipart_boundary(const std::string & content_type, std::string & boundary);

// Splits body into its parts; false with a reason for a malformed body.
bool parse_multipart(const std::string & body, const std::string & boundary, std::vector<multipart_part> & parts,
                     std::string & error);

}  // namespace fer::serve
