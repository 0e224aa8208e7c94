#include "static-site.h"

#include "error.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace fer::serve {

namespace {

// Larger files are not part of a web app; refusing them bounds the memory a
// request can take (each response is read whole into memory).
constexpr uintmax_t k_max_file_bytes = 64u << 20;

bool ends_with(const std::string & s, const char * suffix) {
    const size_t n = std::strlen(suffix);
    return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

const char * content_type_of(const std::string & name) {
    static const std::pair<const char *, const char *> k_types[] = {
        {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".wasm", "application/wasm"},          {".json", "application/json"},
        {".webmanifest", "application/manifest+json"}, {".svg", "image/svg+xml"},
        {".png", "image/png"},                  {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},                {".webp", "image/webp"},
        {".ico", "image/x-icon"},               {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},           {".xml", "application/xml"},
        {".tflite", "application/octet-stream"},
    };
    for (const auto & [ext, type] : k_types) {
        if (ends_with(name, ext)) {
            return type;
        }
    }
    return "application/octet-stream";
}

static_site::static_site(const std::string & root) {
    std::error_code ec;
    root_ = fs::canonical(root, ec);
    if (ec || !fs::is_directory(root_, ec)) {
        throw input_error("serve: --site " + root + " is not a folder");
    }
}

std::optional<fs::path> static_site::resolve(const std::string & url_path) const {
    if (url_path.empty() || url_path[0] != '/' || url_path.find('\0') != std::string::npos ||
        url_path.find('\\') != std::string::npos) {
        return std::nullopt;
    }
    // Reject ".." outright instead of normalising it away: no legitimate
    // asset URL has one, and the canonical-prefix check below is the second fence.
    fs::path p = root_;
    std::stringstream segments(url_path.substr(1));
    std::string seg;
    while (std::getline(segments, seg, '/')) {
        if (seg == "..") {
            return std::nullopt;
        }
        if (!seg.empty() && seg != ".") {
            p /= seg;
        }
    }
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
        p /= "index.html";
    }
    const fs::path real = fs::canonical(p, ec);  // resolves symlinks
    if (ec) {
        return std::nullopt;
    }
    const std::string r = real.string(), base = root_.string() + "/";
    if (r.compare(0, base.size(), base) != 0 || !fs::is_regular_file(real, ec)) {
        return std::nullopt;
    }
    return real;
}

bool static_site::serve(const http_request & req, http_response & res) const {
    const auto file = resolve(req.path);
    if (!file) {
        return false;
    }
    struct stat st {};
    if (::stat(file->c_str(), &st) != 0 || static_cast<uintmax_t>(st.st_size) > k_max_file_bytes) {
        return false;
    }
    // Size and modification time identify a version well enough for static
    // files replaced by a deploy.
    const std::string etag = "\"" + std::to_string(static_cast<long long>(st.st_size)) + "-" +
                             std::to_string(static_cast<long long>(st.st_mtime)) + "\"";
    res.set_header("ETag", etag);
    // Pages revalidate on every load so a deploy shows at once; other assets
    // (scripts, wasm, the model) may be reused for an hour, then revalidated.
    const bool page = ends_with(file->string(), ".html");
    res.set_header("Cache-Control", page ? "no-cache" : "public, max-age=3600");
    res.set_header("X-Content-Type-Options", "nosniff");
    if (req.header_value("if-none-match") == etag) {
        res.status = 304;
        return true;
    }
    std::ifstream in(*file, std::ios::binary);
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        return false;
    }
    res.set_content(std::move(body), content_type_of(file->filename().string()));
    return true;
}

}  // namespace fer::serve
