#include "face-draw.h"

#include "face-json.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>

namespace fer {

namespace {

void blend_cam(cv::Mat & bgr, const fer_face & f) {
    cv::Mat map(f.cam_h, f.cam_w, CV_32F, const_cast<float *>(f.cam));
    double lo, hi;
    cv::minMaxLoc(map, &lo, &hi);
    cv::Mat norm8;
    map.convertTo(norm8, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0.0, hi > lo ? -lo * 255.0 / (hi - lo) : 0.0);
    cv::Mat up, heat;
    cv::resize(norm8, up, cv::Size(f.crop_size, f.crop_size), 0, 0, cv::INTER_LINEAR);
    cv::applyColorMap(up, heat, cv::COLORMAP_JET);
    // The square may reach outside the picture: blend only the part inside.
    const cv::Rect square(f.crop_x, f.crop_y, f.crop_size, f.crop_size);
    const cv::Rect inside = square & cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (inside.empty()) {
        return;
    }
    cv::Mat dst = bgr(inside);
    cv::addWeighted(dst, 0.6, heat(inside - square.tl()), 0.4, 0.0, dst);
}

}  // namespace

void draw_face_annotations(cv::Mat & bgr, const std::vector<fer_face> & faces, bool cam) {
    // Line and text sizes follow the picture, so labels stay readable on
    // both a 320 px thumbnail and a 4000 px photo.
    const int side = std::max(bgr.cols, bgr.rows);
    const int thick = std::max(1, side / 400);
    const double font = std::max(0.4, side / 1400.0);
    for (const fer_face & f : faces) {
        if (cam && f.cam_h > 0) {
            blend_cam(bgr, f);
        }
    }
    for (const fer_face & f : faces) {
        const cv::Scalar colour = f.uncertain ? cv::Scalar(160, 160, 160) : cv::Scalar(0, 220, 0);
        cv::rectangle(bgr, cv::Rect(f.box.x, f.box.y, f.box.width, f.box.height), colour, thick);
        char text[64];
        std::snprintf(text, sizeof text, "%s %.0f%%", face_label(f), 100.0 * f.result.confidence);
        int base = 0;
        const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, thick, &base);
        // Above the box, or inside its top when there is no room above.
        const int y = f.box.y - ts.height - base - 2 >= 0 ? f.box.y - base - 2 : f.box.y + ts.height + 2;
        cv::rectangle(bgr, cv::Rect(f.box.x, y - ts.height - 2, ts.width + 4, ts.height + base + 4), colour,
                      cv::FILLED);
        cv::putText(bgr, text, cv::Point(f.box.x + 2, y), cv::FONT_HERSHEY_SIMPLEX, font, cv::Scalar(0, 0, 0), thick,
                    cv::LINE_AA);
    }
}

}  // namespace fer
