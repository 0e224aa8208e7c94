// Strict HTTP/1.1 request parsing for fer serve: the request head (request
// line and header fields) and chunked bodies. Strict on purpose: every
// ambiguity that lets two parsers disagree about where a request ends
// (request smuggling) is refused with 400 instead of being guessed.
#pragma once

#include "http-message.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace fer::serve {

struct http_limits {
    size_t max_request_line = 8192;  // beyond: 414
    size_t max_header_line = 8192;   // one header field; beyond: 431
    size_t max_head_bytes = 32768;   // request line + header fields; beyond: 431
    size_t max_headers = 100;        // header fields; beyond: 431
};

enum class body_framing { none, length, chunked };

// Result of parse_head. status 0 and consumed 0: the head is not complete yet.
struct head_result {
    int status = 0;          // 0: fine (or incomplete); else the error status to answer (400, 411, 414, 431, 505, ...)
    std::string message;     // the error's message
    size_t consumed = 0;     // bytes of the head, CRLFCRLF included, when complete
    body_framing framing = body_framing::none;
    uint64_t content_length = 0;  // with body_framing::length
    bool keep_alive = true;       // what the client asked (HTTP version and Connection)
    bool expect_continue = false;
};

// Parses the head at the start of `in` into `req` (method, target, path,
// query, version, headers). Errors are found as early as possible: a bad
// request line is refused before its headers arrive, a head over the limits
// as soon as the limit is passed.
head_result parse_head(const std::string & in, const http_limits & limits, http_request & req);

// Incremental decoder of a chunked body; trailers are read and dropped.
class chunked_decoder {
public:
    explicit chunked_decoder(size_t max_body, size_t max_line = 4096) : max_body_(max_body), max_line_(max_line) {}
    enum result { more, done, error, too_large };
    // Consumes bytes from in[*pos..], appends data to body; *pos advances.
    result feed(const std::string & in, size_t * pos, std::string & body);
    const std::string & message() const { return message_; }

private:
    enum state { size_line, data, data_crlf, trailer };
    state state_ = size_line;
    uint64_t left_ = 0;
    size_t max_body_, max_line_;
    size_t trailer_bytes_ = 0;
    std::string line_;
    std::string message_;
};

// %XX decoded once; '+' kept (in paths) or turned into a space (in query
// values). Malformed escapes are kept as they are.
std::string percent_decode(const std::string & s, bool plus_is_space);

}  // namespace fer::serve
