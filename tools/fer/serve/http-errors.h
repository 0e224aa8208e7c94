// Every error of `fer serve` is a small JSON object with a message:
//   {"error": {"status": 415, "message": "..."}}
#pragma once

#include <httplib.h>

#include <string>

namespace fer::serve {

void send_error(httplib::Response & res, int status, const std::string & message);

// For errors httplib raises itself (malformed request, unknown route, URI
// too long, ...), which reach the error handler with an empty body.
std::string default_error_message(int status, const httplib::Request & req);

}  // namespace fer::serve
