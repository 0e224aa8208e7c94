#include "face-draw.h"

#include "face-json.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
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

std::string face_caption(const fer_face & f) {
    const bool tracked = f.track_id > 0;
    const int cls = tracked ? f.smoothed_class : f.result.top_class;
    const float p = tracked ? f.smoothed[f.smoothed_class] : f.result.confidence;
    char text[64];
    if (tracked) {
        std::snprintf(text, sizeof text, "#%d %s %.0f%%", static_cast<int>(f.track_id), fer_class_name(cls), 100.0 * p);
    } else {
        std::snprintf(text, sizeof text, "%s %.0f%%", face_label(f), 100.0 * p);
    }
    return text;
}

cv::Scalar emotion_colour(int cls) {
    static const cv::Scalar k[FER_N_CLASSES] = {
        {40, 40, 230},    // angry: red
        {40, 160, 40},    // disgust: green
        {200, 60, 160},   // fear: purple
        {0, 210, 255},    // happy: yellow
        {220, 120, 30},   // sad: blue
        {0, 140, 255},    // surprise: orange
        {200, 200, 200},  // neutral: light grey
    };
    return cls >= 0 && cls < FER_N_CLASSES ? k[cls] : cv::Scalar(255, 255, 255);
}

void draw_faces(cv::Mat & bgr, const std::vector<fer_face> & faces, bool cam) {
    // Line and text sizes follow the picture, so captions stay readable on
    // both a 320 px video and a 4000 px photo.
    const double scale = std::max(0.4, std::max(bgr.cols, bgr.rows) / 1200.0);
    const int thick = std::max(1, static_cast<int>(std::lround(2 * scale)));
    if (cam) {
        // All maps first, so no heat overlay covers another face's caption.
        for (const fer_face & f : faces) {
            if (f.cam_h > 0) {
                blend_cam(bgr, f);
            }
        }
    }
    for (const fer_face & f : faces) {
        const cv::Rect r(f.box.x, f.box.y, f.box.width, f.box.height);
        const cv::Scalar colour = f.uncertain ? cv::Scalar(128, 128, 128)
                                              : emotion_colour(f.track_id > 0 ? f.smoothed_class : f.result.top_class);
        cv::rectangle(bgr, r, colour, thick);
        if (f.box.n_landmarks == 5) {
            // the detector's 5 points: eyes, nose tip, mouth corners
            const int radius = std::max(2, thick + 1);
            for (int k = 0; k < 5; ++k) {
                const cv::Point p(static_cast<int>(std::lround(f.box.landmarks[2 * k])),
                                  static_cast<int>(std::lround(f.box.landmarks[2 * k + 1])));
                cv::circle(bgr, p, radius, cv::Scalar(0, 0, 0), cv::FILLED, cv::LINE_AA);
                cv::circle(bgr, p, radius - 1, colour, cv::FILLED, cv::LINE_AA);
            }
        }
        const std::string text = face_caption(f);
        int base = 0;
        const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thick, &base);
        // Above the box, or inside its top when there is no room above.
        const int y = r.y - ts.height - base - 4 >= 0 ? r.y - base - 4 : r.y + ts.height + 4;
        cv::rectangle(bgr, cv::Point(r.x, y - ts.height - 2), cv::Point(r.x + ts.width + 4, y + base), colour,
                      cv::FILLED);
        cv::putText(bgr, text, cv::Point(r.x + 2, y), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(0, 0, 0), thick,
                    cv::LINE_AA);
    }
}

}  // namespace fer
