#include "http-errors.h"

#include "cli-common.h"

namespace fer::serve {

void send_error(httplib::Response & res, int status, const std::string & message) {
    res.status = status;
    res.set_content("{\"error\": {\"status\": " + std::to_string(status) + ", \"message\": \"" + json_escape(message) +
                        "\"}}\n",
                    "application/json");
}

std::string default_error_message(int status, const httplib::Request & req) {
    switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found: " + req.path;
    case 405: return "method " + req.method + " not allowed on " + req.path;
    case 413: return "request body too large";
    case 414: return "request URI too long";
    case 416: return "bad Range header";
    case 500: return "internal error";
    case 503: return "server busy, retry later";
    default: return "HTTP error " + std::to_string(status);
    }
}

}  // namespace fer::serve
