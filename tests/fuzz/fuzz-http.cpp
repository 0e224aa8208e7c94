// libFuzzer target for fer serve's request parsing (tools/fer/serve/): the
// request head, chunked bodies and multipart bodies, fed arbitrary bytes.
// Each must return a result or an error, never crash, hang or read out of
// bounds; consumed byte counts must stay inside the input.
#include "http-parser.h"
#include "multipart.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t * data, size_t size) {
    const std::string in(reinterpret_cast<const char *>(data), size);
    fer::serve::http_request req;
    const fer::serve::head_result h = fer::serve::parse_head(in, fer::serve::http_limits(), req);
    if (h.consumed > in.size()) {
        std::abort();
    }
    // The same bytes as a chunked body, fed in two pieces.
    fer::serve::chunked_decoder dec(1u << 20);
    std::string body;
    size_t pos = 0;
    const std::string first = in.substr(0, in.size() / 2);
    auto r = dec.feed(first, &pos, body);
    if (pos > first.size()) {
        std::abort();
    }
    if (r == fer::serve::chunked_decoder::more) {
        const std::string rest = in.substr(in.size() / 2);
        pos = 0;
        r = dec.feed(rest, &pos, body);
        if (pos > rest.size()) {
            std::abort();
        }
    }
    if (body.size() > (1u << 20)) {
        std::abort();
    }
    // And as a multipart body with a fixed boundary.
    std::vector<fer::serve::multipart_part> parts;
    std::string err;
    if (fer::serve::parse_multipart(in, "b0undary", parts, err)) {
        for (const auto & p : parts) {
            if (p.offset > in.size() || p.size > in.size() - p.offset) {
                std::abort();
            }
        }
    }
    std::string boundary;
    fer::serve::multipart_boundary(in.substr(0, 200), boundary);
    return 0;
}
