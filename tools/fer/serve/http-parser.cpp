#include "http-parser.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace fer::serve {

namespace {

// RFC 9110 token characters (method and header names).
bool is_tchar(unsigned char c) {
    return std::isalnum(c) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string lower(std::string s) {
    for (char & c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

head_result fail(int status, std::string message) {
    head_result r;
    r.status = status;
    r.message = std::move(message);
    return r;
}

bool known_method(const std::string & m) {
    static const char * const k[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    for (const char * x : k) {
        if (m == x) {
            return true;
        }
    }
    return false;
}

// Does the comma-separated header value hold this token (case-insensitive)?
bool has_token(const std::string & value, const char * token) {
    size_t i = 0;
    while (i <= value.size()) {
        size_t j = value.find(',', i);
        if (j == std::string::npos) {
            j = value.size();
        }
        size_t a = i, b = j;
        while (a < b && (value[a] == ' ' || value[a] == '\t')) ++a;
        while (b > a && (value[b - 1] == ' ' || value[b - 1] == '\t')) --b;
        if (lower(value.substr(a, b - a)) == token) {
            return true;
        }
        i = j + 1;
    }
    return false;
}

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Request line: METHOD SP target SP HTTP/1.x, single spaces, nothing else.
head_result parse_request_line(const std::string & line, http_request & req) {
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp2 == std::string::npos || line.find(' ', sp2 + 1) != std::string::npos) {
        return fail(400, "malformed request line (expected METHOD TARGET HTTP/1.1)");
    }
    req.method = line.substr(0, sp1);
    req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string version = line.substr(sp2 + 1);
    for (unsigned char c : req.method) {
        if (!is_tchar(c)) {
            return fail(400, "malformed request line (bad method)");
        }
    }
    if (!known_method(req.method)) {
        return fail(400, "unsupported method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)");
    }
    if (version == "HTTP/1.1" || version == "HTTP/1.0") {
        req.minor_version = version[7] - '0';
    } else if (version.size() == 8 && version.compare(0, 5, "HTTP/") == 0) {
        return fail(505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
    } else {
        return fail(400, "malformed request line (bad HTTP version)");
    }
    if (req.target.empty() || (req.target[0] != '/' && !(req.target == "*" && req.method == "OPTIONS"))) {
        return fail(400, "request target must be a path beginning with '/'");
    }
    for (unsigned char c : req.target) {
        if (c <= 0x20 || c == 0x7F) {
            return fail(400, "control character in the request target");
        }
    }
    const size_t q = req.target.find('?');
    req.path = percent_decode(req.target.substr(0, q), false);
    req.query.clear();
    if (q != std::string::npos) {
        const std::string qs = req.target.substr(q + 1);
        size_t i = 0;
        while (i < qs.size()) {
            size_t amp = qs.find('&', i);
            if (amp == std::string::npos) {
                amp = qs.size();
            }
            const std::string kv = qs.substr(i, amp - i);
            if (!kv.empty()) {
                const size_t eq = kv.find('=');
                req.query.emplace_back(percent_decode(kv.substr(0, eq), true),
                                       eq == std::string::npos ? "" : percent_decode(kv.substr(eq + 1), true));
            }
            i = amp + 1;
        }
    }
    return {};
}

}  // namespace

std::string percent_decode(const std::string & s, bool plus_is_space) {
    std::string o;
    o.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(static_cast<unsigned char>(s[i + 1]));
            const int lo = hex_value(static_cast<unsigned char>(s[i + 2]));
            if (hi >= 0 && lo >= 0) {
                o += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        o += (plus_is_space && c == '+') ? ' ' : c;
    }
    return o;
}

head_result parse_head(const std::string & in, const http_limits & limits, http_request & req) {
    // The request line first: it can be refused before the headers arrive.
    const size_t eol = in.find('\n');
    if (eol == std::string::npos) {
        return in.size() > limits.max_request_line ? fail(414, "request line longer than " +
                                                                    std::to_string(limits.max_request_line) + " bytes")
                                                   : head_result{};
    }
    if (eol + 1 > limits.max_request_line) {
        return fail(414, "request line longer than " + std::to_string(limits.max_request_line) + " bytes");
    }
    if (eol == 0 || in[eol - 1] != '\r') {
        return fail(400, "request line must end with CRLF");
    }
    req.headers.clear();
    head_result r = parse_request_line(in.substr(0, eol - 1), req);
    if (r.status) {
        return r;
    }
    size_t pos = eol + 1;
    for (;;) {
        const size_t e = in.find('\n', pos);
        if ((e == std::string::npos ? in.size() : e) - pos > limits.max_header_line) {
            return fail(431, "header field longer than " + std::to_string(limits.max_header_line) + " bytes");
        }
        if (e == std::string::npos || e + 1 > limits.max_head_bytes) {
            if ((e == std::string::npos ? in.size() : e + 1) > limits.max_head_bytes) {
                return fail(431, "request head larger than " + std::to_string(limits.max_head_bytes) + " bytes");
            }
            return {};  // incomplete
        }
        if (e == pos || in[e - 1] != '\r') {
            return fail(400, "header line must end with CRLF");
        }
        const std::string line = in.substr(pos, e - 1 - pos);
        pos = e + 1;
        if (line.empty()) {
            break;  // end of the head
        }
        if (line[0] == ' ' || line[0] == '\t') {
            return fail(400, "folded header line (obsolete line folding is not accepted)");
        }
        const size_t colon = line.find(':');
        if (colon == std::string::npos) {
            return fail(400, "header line without a colon");
        }
        if (colon == 0) {
            return fail(400, "header line with an empty name");
        }
        for (size_t i = 0; i < colon; ++i) {
            if (!is_tchar(static_cast<unsigned char>(line[i]))) {
                return fail(400, "invalid character in a header name (white space before the colon?)");
            }
        }
        size_t a = colon + 1, b = line.size();
        while (a < b && (line[a] == ' ' || line[a] == '\t')) ++a;
        while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t')) --b;
        for (size_t i = a; i < b; ++i) {
            const unsigned char c = static_cast<unsigned char>(line[i]);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return fail(400, "control character in a header value");
            }
        }
        if (req.headers.size() >= limits.max_headers) {
            return fail(431, "more than " + std::to_string(limits.max_headers) + " header fields");
        }
        req.headers.emplace_back(lower(line.substr(0, colon)), line.substr(a, b - a));
    }
    r.consumed = pos;

    // Framing: exactly one way to find the end of the body, or 400.
    bool have_length = false, have_te = false;
    int hosts = 0;
    for (const auto & [name, value] : req.headers) {
        if (name == "content-length") {
            if (value.empty() || value.find_first_not_of("0123456789") != std::string::npos) {
                return fail(400, "invalid Content-Length '" + value + "'");
            }
            // 20 digits and more cannot be a size we take; saturate instead of overflowing.
            const uint64_t v = value.size() > 18 ? UINT64_MAX : std::stoull(value);
            if (have_length && v != r.content_length) {
                return fail(400, "conflicting Content-Length headers");
            }
            have_length = true;
            r.content_length = v;
        } else if (name == "transfer-encoding") {
            if (have_te || lower(value) != "chunked") {
                return fail(400, "unsupported Transfer-Encoding '" + value + "' (only chunked is)");
            }
            have_te = true;
        } else if (name == "host") {
            ++hosts;
        } else if (name == "connection") {
            if (has_token(value, "close")) {
                r.keep_alive = false;
            } else if (has_token(value, "keep-alive") && req.minor_version == 0) {
                r.keep_alive = true;
            }
        } else if (name == "expect") {
            if (lower(value) != "100-continue") {
                return fail(417, "unsupported Expect '" + value + "'");
            }
            r.expect_continue = true;
        }
    }
    if (req.minor_version == 0 && !(req.header("connection") && has_token(*req.header("connection"), "keep-alive"))) {
        r.keep_alive = false;
    }
    if (hosts > 1) {
        return fail(400, "more than one Host header");
    }
    if (have_te && have_length) {
        return fail(400, "both Content-Length and Transfer-Encoding: the body's end is ambiguous");
    }
    if (have_te && req.minor_version == 0) {
        return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (have_te) {
        r.framing = body_framing::chunked;
    } else if (have_length && r.content_length > 0) {
        r.framing = body_framing::length;
    } else if (!have_length && (req.method == "POST" || req.method == "PUT" || req.method == "PATCH")) {
        return fail(411, req.method + " without Content-Length or Transfer-Encoding: chunked");
    }
    return r;
}

chunked_decoder::result chunked_decoder::feed(const std::string & in, size_t * pos, std::string & body) {
    while (*pos < in.size()) {
        if (state_ == data) {
            const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, in.size() - *pos));
            body.append(in, *pos, n);
            *pos += n;
            left_ -= n;
            if (left_ == 0) {
                state_ = data_crlf;
            }
            continue;
        }
        // The other states read lines.
        const size_t e = in.find('\n', *pos);
        const size_t take = (e == std::string::npos ? in.size() : e + 1) - *pos;
        if (line_.size() + take > max_line_) {
            message_ = "chunk line longer than " + std::to_string(max_line_) + " bytes";
            return error;
        }
        line_.append(in, *pos, take);
        *pos += take;
        if (e == std::string::npos) {
            return more;
        }
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') {
            message_ = "chunk line must end with CRLF";
            return error;
        }
        const std::string line = line_.substr(0, line_.size() - 2);
        line_.clear();
        if (state_ == data_crlf) {
            if (!line.empty()) {
                message_ = "chunk data longer than its size";
                return error;
            }
            state_ = size_line;
        } else if (state_ == size_line) {
            const size_t end = line.find(';');  // chunk extensions are ignored
            const std::string hex = line.substr(0, end);
            if (hex.empty() || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
                message_ = "invalid chunk size '" + hex.substr(0, 32) + "'";
                return error;
            }
            if (hex.size() > 15) {  // 2^60 and more: cannot be summed safely, and far above any limit
                message_ = "chunk size too large";
                return too_large;
            }
            uint64_t size = 0;
            for (unsigned char c : hex) {
                size = size * 16 + static_cast<uint64_t>(hex_value(c));
            }
            if (size > max_body_ || body.size() + size > max_body_) {
                message_ = "chunked body larger than the limit";
                return too_large;
            }
            left_ = size;
            state_ = size == 0 ? trailer : data;
        } else {  // trailer fields, dropped; an empty line ends the body
            if (line.empty()) {
                return done;
            }
            trailer_bytes_ += line.size();
            if (trailer_bytes_ > max_line_) {
                message_ = "trailer fields too large";
                return error;
            }
        }
    }
    return more;
}

}  // namespace fer::serve
