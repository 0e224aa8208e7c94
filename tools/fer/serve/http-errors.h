// Every error of `fer serve` is a small JSON object with a message:
//   {"error": {"status": 415, "message": "..."}}
#pragma once

#include "http-message.h"

#include <string>

namespace fer::serve {

// The JSON body of an error (message escaped, invalid UTF-8 replaced).
std::string error_body(int status, const std::string & message);

void send_error(http_response & res, int status, const std::string & message);

}  // namespace fer::serve
