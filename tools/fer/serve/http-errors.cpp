#include "http-errors.h"

#include "cli-common.h"

namespace fer::serve {

std::string error_body(int status, const std::string & message) {
    return "{\"error\": {\"status\": " + std::to_string(status) + ", \"message\": \"" + json_escape(message) + "\"}}\n";
}

void send_error(http_response & res, int status, const std::string & message) {
    res.status = status;
    res.set_content(error_body(status, message), "application/json");
}

const char * reason_phrase(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

}  // namespace fer::serve
