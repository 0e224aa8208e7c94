// The web app's static files, served read-only from one folder. A URL path
// maps to a file only if it stays inside that folder after every symlink is
// resolved; everything else is "not found".
#pragma once

#include "http-message.h"

#include <filesystem>
#include <optional>
#include <string>

namespace fer::serve {

class static_site {
public:
    // Throws fer::error (input) when `root` is not a readable folder.
    explicit static_site(const std::string & root);

    // The file a (percent-decoded) URL path names, "/" and folders meaning
    // their index.html; nullopt when there is none inside the site.
    std::optional<std::filesystem::path> resolve(const std::string & url_path) const;

    // Answers GET/HEAD for the file: content type, cache headers, ETag with
    // 304 on If-None-Match. False when resolve() finds nothing.
    bool serve(const http_request & req, http_response & res) const;

    const std::filesystem::path & root() const { return root_; }

private:
    std::filesystem::path root_;  // canonical
};

// Content type of a file name by its extension (application/octet-stream when unknown).
const char * content_type_of(const std::string & file_name);

}  // namespace fer::serve
