// Test pictures with faces at known places: the project's own samples/
// (48x48 FER2013 PublicTest crops) scaled and pasted onto a canvas. Shared by
// the detector, pipeline and predict tests (OpenCV, no libtorch).
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>
#include <vector>

namespace fer_test {

// The sample face `file` (a name in samples/) scaled to each rectangle of
// `where` in turn and pasted onto `canvas` (grey or colour, like the canvas).
// False when a sample cannot be read.
inline bool paste_sample_faces(cv::Mat & canvas, const std::vector<std::string> & files,
                               const std::vector<cv::Rect> & where,
                               int interpolation = cv::INTER_LINEAR) {
    for (size_t i = 0; i < where.size(); ++i) {
        const std::string path = std::string(FER_SOURCE_DIR) + "/samples/" + files[i % files.size()];
        cv::Mat f = cv::imread(path, canvas.channels() == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
        if (f.empty()) {
            return false;
        }
        cv::Mat big;
        cv::resize(f, big, where[i].size(), 0, 0, interpolation);
        big.copyTo(canvas(where[i]));
    }
    return true;
}

}  // namespace fer_test
