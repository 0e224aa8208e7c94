#include "multipart.h"

#include <cctype>

namespace fer::serve {

namespace {

constexpr size_t k_max_parts = 64;
constexpr size_t k_max_part_head = 8192;

std::string lower(std::string s) {
    for (char & c : s) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return s;
}

std::string trim(const std::string & s) {
    size_t a = 0, b = s.size();
    while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
    return s.substr(a, b - a);
}

// The value of parameter `key` in "type; a=1; key=\"v\"" (quotes and
// backslash escapes removed); false when absent.
bool parameter(const std::string & header, const std::string & key, std::string & value) {
    size_t i = header.find(';');
    while (i != std::string::npos && i < header.size()) {
        ++i;
        while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
        const size_t eq = header.find('=', i);
        if (eq == std::string::npos) {
            return false;
        }
        const std::string k = lower(trim(header.substr(i, eq - i)));
        std::string v;
        size_t j = eq + 1;
        if (j < header.size() && header[j] == '"') {
            for (++j; j < header.size() && header[j] != '"'; ++j) {
                if (header[j] == '\\' && j + 1 < header.size()) {
                    ++j;
                }
                v += header[j];
            }
            j = header.find(';', j);
        } else {
            const size_t semi = header.find(';', j);
            v = trim(header.substr(j, semi == std::string::npos ? std::string::npos : semi - j));
            j = semi;
        }
        if (k == key) {
            value = v;
            return true;
        }
        i = j;
    }
    return false;
}

}  // namespace

bool multipart_boundary(const std::string & content_type, std::string & boundary) {
    const std::string type = lower(trim(content_type.substr(0, content_type.find(';'))));
    return type == "multipart/form-data" && parameter(content_type, "boundary", boundary) && !boundary.empty() &&
           boundary.size() <= 70;
}

bool parse_multipart(const std::string & body, const std::string & boundary, std::vector<multipart_part> & parts,
                     std::string & error) {
    parts.clear();
    const std::string delim = "--" + boundary;
    size_t pos = body.find(delim);  // a preamble before the first boundary is allowed and ignored
    if (pos == std::string::npos) {
        error = "multipart body without its boundary";
        return false;
    }
    for (;;) {
        pos += delim.size();
        if (body.compare(pos, 2, "--") == 0) {
            return true;  // closing boundary; an epilogue after it is ignored
        }
        if (body.compare(pos, 2, "\r\n") != 0) {
            error = "multipart boundary not followed by CRLF";
            return false;
        }
        pos += 2;
        const size_t head_end = body.find("\r\n\r\n", pos);
        if (head_end == std::string::npos || head_end - pos > k_max_part_head) {
            error = "multipart part without a complete header";
            return false;
        }
        multipart_part part;
        size_t line = pos;
        while (line < head_end + 2) {
            const size_t e = body.find("\r\n", line);
            const std::string h = body.substr(line, e - line);
            line = e + 2;
            const size_t colon = h.find(':');
            if (colon == std::string::npos) {
                error = "multipart part header line without a colon";
                return false;
            }
            const std::string name = lower(trim(h.substr(0, colon))), value = trim(h.substr(colon + 1));
            if (name == "content-disposition") {
                parameter(value, "name", part.name);
                parameter(value, "filename", part.filename);
            } else if (name == "content-type") {
                part.content_type = lower(trim(value.substr(0, value.find(';'))));
            }
        }
        part.offset = head_end + 4;
        const size_t next = body.find("\r\n" + delim, part.offset);
        if (next == std::string::npos) {
            error = "multipart body cut short (no closing boundary)";
            return false;
        }
        part.size = next - part.offset;
        if (parts.size() == k_max_parts) {
            error = "more than " + std::to_string(k_max_parts) + " multipart parts";
            return false;
        }
        parts.push_back(std::move(part));
        pos = next + 2;
    }
}

}  // namespace fer::serve
