#include "model-info.h"

#include "cli-common.h"
#include "error.h"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

namespace fer::serve {

std::string file_sha256(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot read");
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!md || EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) != 1) {
        throw runtime_error("SHA-256 unavailable");
    }
    std::vector<char> buf(1 << 16);
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        EVP_DigestUpdate(md.get(), buf.data(), static_cast<size_t>(in.gcount()));
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(md.get(), digest, &n);
    std::string hex;
    for (unsigned int i = 0; i < n; ++i) {
        char b[3];
        std::snprintf(b, sizeof b, "%02x", digest[i]);
        hex += b;
    }
    return hex;
}

namespace {

std::string meta_or_null(const fer_model * model, const char * key) {
    const char * v = fer_model_meta(model, key);
    return v ? "\"" + json_escape(v) + "\"" : "null";
}

// The model's own preprocessing constants (checked to be numbers at load), else the FER2013 ones.
std::string number_meta(const fer_model * model, const char * key, float fallback) {
    const char * v = fer_model_meta(model, key);
    std::ostringstream o;
    if (v) {
        o << std::strtod(v, nullptr);
    } else {
        o << fallback;
    }
    return o.str();
}

}  // namespace

std::string describe_model(const fer_model * model, const std::string & model_path, const fer_detector * det,
                           const std::string & detector_path) {
    namespace fs = std::filesystem;
    std::ostringstream o;
    o << "{\"model\": {\"name\": " << meta_or_null(model, "model") << ", \"version\": " << meta_or_null(model, "version")
      << ", \"architecture\": " << meta_or_null(model, "architecture")
      << ", \"precision\": " << meta_or_null(model, "precision") << ", \"file\": \""
      << json_escape(fs::path(model_path).filename().string()) << "\", \"sha256\": \"" << file_sha256(model_path)
      << "\", \"kernels\": \"" << json_escape(fer_model_kernels(model)) << "\"},\n";
    o << " \"classes\": [";
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        o << (c ? ", " : "") << "\"" << json_escape(fer_model_class_label(model, c)) << "\"";
    }
    o << "],\n \"input\": {\"width\": " << FER_INPUT_SIZE << ", \"height\": " << FER_INPUT_SIZE
      << ", \"channels\": 1, \"pixel_mean\": " << number_meta(model, "pixel_mean", FER_PIXEL_MEAN)
      << ", \"pixel_std\": " << number_meta(model, "pixel_std", FER_PIXEL_STD) << "},\n";
    int cam_h = 0, cam_w = 0;
    if (fer_model_has_cam(model, &cam_h, &cam_w)) {
        o << " \"cam\": {\"height\": " << cam_h << ", \"width\": " << cam_w << "},\n";
    } else {
        o << " \"cam\": null,\n";
    }
    o << " \"detector\": {\"file\": \"" << json_escape(fs::path(detector_path).filename().string())
      << "\", \"sha256\": \"" << file_sha256(detector_path) << "\", \"window\": [" << fer_detector_window_width(det)
      << ", " << fer_detector_window_height(det) << "], \"stages\": " << fer_detector_n_stages(det) << "}}\n";
    return o.str();
}

}  // namespace fer::serve
