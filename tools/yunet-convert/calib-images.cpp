#include "calib-images.h"

#include "error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fer {

namespace fs = std::filesystem;

std::vector<float> letterbox_bgr(const unsigned char * bgr, int rows, int cols, size_t step, int height, int width) {
    const cv::Mat img(rows, cols, CV_8UC3, const_cast<unsigned char *>(bgr), step);
    const double s = std::min(static_cast<double>(height) / rows, static_cast<double>(width) / cols);
    const int h = std::max(1, static_cast<int>(std::lround(rows * s))), w = std::max(1, static_cast<int>(std::lround(cols * s)));
    cv::Mat small;
    cv::resize(img, small, cv::Size(std::min(w, width), std::min(h, height)), 0, 0, s < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    std::vector<float> out(static_cast<size_t>(height) * static_cast<size_t>(width) * 3, 0.0f);
    for (int y = 0; y < small.rows; ++y) {
        const unsigned char * p = small.ptr<unsigned char>(y);
        float * q = out.data() + static_cast<size_t>(y) * static_cast<size_t>(width) * 3;
        for (int k = 0; k < small.cols * 3; ++k) {
            q[k] = p[k];
        }
    }
    return out;
}

std::vector<std::vector<float>> load_calibration_inputs(const std::vector<std::string> & paths, int height, int width) {
    std::vector<std::string> files;
    for (const auto & p : paths) {
        std::error_code ec;
        if (fs::is_directory(p, ec)) {
            std::vector<std::string> in_dir;
            for (const auto & e : fs::directory_iterator(p, ec)) {
                std::string ext = e.path().extension().string();
                std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png")) {
                    in_dir.push_back(e.path().string());
                }
            }
            if (in_dir.empty()) {
                throw input_error(p + ": no .jpg/.jpeg/.png photo in this folder");
            }
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            throw input_error(p + ": no such photo or folder");
        }
    }
    std::vector<std::vector<float>> inputs;
    for (const auto & f : files) {
        const cv::Mat img = cv::imread(f, cv::IMREAD_COLOR);
        if (img.empty()) {
            throw input_error(f + ": not a photo OpenCV can decode");
        }
        inputs.push_back(letterbox_bgr(img.data, img.rows, img.cols, img.step, height, width));
        // and its centre square filling the input: the same faces larger, as
        // at bigger input sizes (the whole photos alone left the int8 boxes of
        // large faces measurably worse: models/README.md)
        const int side = std::min(img.rows, img.cols);
        const cv::Mat centre = img(cv::Rect((img.cols - side) / 2, (img.rows - side) / 2, side, side)).clone();
        inputs.push_back(letterbox_bgr(centre.data, centre.rows, centre.cols, centre.step, height, width));
    }
    return inputs;
}

}  // namespace fer
