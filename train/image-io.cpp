#include "image-io.h"

#include "dataset.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

namespace fer {

namespace {
constexpr long long k_max_pixels = 100LL * 1000 * 1000;  // refuse > 100 megapixels
}

bool is_image_file_name(const std::string & path) {
    std::string ext = std::filesystem::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".pgm" ||
           ext == ".ppm" || ext == ".tif" || ext == ".tiff" || ext == ".webp";
}

bool read_face_image(const std::string & path, uint8_t * out, std::string * error) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
        *error = "cannot open file";
        return false;
    }
    std::streamsize size = in.tellg();
    if (size <= 0) {
        *error = "empty file";
        return false;
    }
    std::vector<uint8_t> bytes(static_cast<size_t>(size));
    in.seekg(0);
    if (!in.read(reinterpret_cast<char *>(bytes.data()), size)) {
        *error = "read error";
        return false;
    }
    cv::Mat img;
    try {
        img = cv::imdecode(bytes, cv::IMREAD_GRAYSCALE);
    } catch (const cv::Exception & e) {
        *error = std::string("cannot decode image: ") + e.what();
        return false;
    }
    if (img.empty()) {
        *error = "not a readable image (corrupt or unsupported format)";
        return false;
    }
    if (static_cast<long long>(img.cols) * img.rows > k_max_pixels) {
        *error = "image too large";
        return false;
    }
    if (img.cols != k_image_side || img.rows != k_image_side) {
        cv::resize(img, img, cv::Size(k_image_side, k_image_side), 0, 0, cv::INTER_AREA);
    }
    if (!img.isContinuous()) {
        img = img.clone();
    }
    std::copy(img.data, img.data + k_image_pixels, out);
    return true;
}

}  // namespace fer
