// The request and response of fer's own HTTP/1.1 server (http-server.h):
// plain values, so that the API and the static site are written against
// them and not against the socket code.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace fer::serve {

struct http_request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: "/v1/predict?max_faces=3"
    std::string path;    // target before '?', percent-decoded once ("%2e%2e" is "..")
    std::vector<std::pair<std::string, std::string>> query;    // decoded, in order ('+' is a space)
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, values trimmed
    int minor_version = 1;                                     // HTTP/1.<minor>
    std::string body;                                          // complete (de-chunked) body
    std::string remote_addr;

    // The value of the first header with this (lower-case) name, or nullptr.
    const std::string * header(const char * lower_name) const {
        for (const auto & h : headers) {
            if (h.first == lower_name) {
                return &h.second;
            }
        }
        return nullptr;
    }
    std::string header_value(const char * lower_name) const {
        const std::string * v = header(lower_name);
        return v ? *v : std::string();
    }
};

struct http_response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type/Length and Connection
    std::string content_type;
    std::string body;
    bool close = false;  // send Connection: close and close after writing

    void set_header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
    void set_content(std::string b, std::string type) {
        body = std::move(b);
        content_type = std::move(type);
    }
};

const char * reason_phrase(int status);

}  // namespace fer::serve
