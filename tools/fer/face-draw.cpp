#include "face-draw.h"

#include "face-json.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fer {

namespace {

// The face's map in the JET colours, side x side pixels.
cv::Mat heat_map(const fer_face & f, int side) {
    cv::Mat map(f.cam_h, f.cam_w, CV_32F, const_cast<float *>(f.cam));
    double lo, hi;
    cv::minMaxLoc(map, &lo, &hi);
    cv::Mat norm8;
    map.convertTo(norm8, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0.0, hi > lo ? -lo * 255.0 / (hi - lo) : 0.0);
    cv::Mat up, heat;
    cv::resize(norm8, up, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
    cv::applyColorMap(up, heat, cv::COLORMAP_JET);
    return heat;
}

void blend_cam(cv::Mat & bgr, const fer_face & f) {
    const cv::Mat heat = heat_map(f, f.crop_size);
    // The square may reach outside the picture: blend only the part inside.
    const cv::Rect square(f.crop_x, f.crop_y, f.crop_size, f.crop_size);
    const cv::Rect inside = square & cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (inside.empty()) {
        return;
    }
    cv::Mat dst = bgr(inside);
    cv::addWeighted(dst, 0.6, heat(inside - square.tl()), 0.4, 0.0, dst);
}

// An aligned face was classified from a turned square (the similarity
// transform of its landmarks onto the canonical frame): its map goes back
// through the inverse transform, so it lies over the pixels it describes.
bool blend_cam_aligned(cv::Mat & bgr, const fer_face & f) {
    float t[4];
    if (fer_landmark_transform(f.box.landmarks, 1, t) != FER_OK) {
        return false;
    }
    const double a = t[0], b = t[1];
    const double det = a * a + b * b;
    if (!(det > 0)) {
        return false;
    }
    // Image point of crop point (u, v): the inverse of (u, v) = [a -b; b a] (x, y) + (tx, ty).
    auto to_image = [&](double u, double v) {
        const double du = u - t[2], dv = v - t[3];
        return cv::Point2d((a * du + b * dv) / det, (-b * du + a * dv) / det);
    };
    const double n = FER_INPUT_SIZE;
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (const cv::Point2d & c : {to_image(0, 0), to_image(n, 0), to_image(0, n), to_image(n, n)}) {
        x0 = std::min(x0, c.x), y0 = std::min(y0, c.y), x1 = std::max(x1, c.x), y1 = std::max(y1, c.y);
    }
    const cv::Rect bound(cv::Point(static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0))),
                         cv::Point(static_cast<int>(std::ceil(x1)) + 1, static_cast<int>(std::ceil(y1)) + 1));
    const cv::Rect roi = bound & cv::Rect(0, 0, bgr.cols, bgr.rows);
    if (roi.empty()) {
        return true;
    }
    const cv::Mat heat = heat_map(f, FER_INPUT_SIZE);
    // warpAffine's inverse map for ROI pixel (X, Y), centre at (roi.x + X + 0.5,
    // roi.y + Y + 0.5) in continuous image coordinates, to crop pixel indices
    // (continuous crop coordinates minus 0.5).
    const double cx = roi.x + 0.5, cy = roi.y + 0.5;
    const cv::Matx23d m(a, -b, a * cx - b * cy + t[2] - 0.5, b, a, b * cx + a * cy + t[3] - 0.5);
    cv::Mat warped, mask;
    cv::warpAffine(heat, warped, m, roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT);
    cv::warpAffine(cv::Mat(FER_INPUT_SIZE, FER_INPUT_SIZE, CV_8U, cv::Scalar(255)), mask, m, roi.size(),
                   cv::INTER_NEAREST | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT);
    cv::Mat dst = bgr(roi), blended;
    cv::addWeighted(dst, 0.6, warped, 0.4, 0.0, blended);
    blended.copyTo(dst, mask);
    return true;
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

void draw_faces(cv::Mat & bgr, const std::vector<fer_face> & faces, bool cam, bool aligned) {
    // Line and text sizes follow the picture, so captions stay readable on
    // both a 320 px video and a 4000 px photo.
    const double scale = std::max(0.4, std::max(bgr.cols, bgr.rows) / 1200.0);
    const int thick = std::max(1, static_cast<int>(std::lround(2 * scale)));
    if (cam) {
        // All maps first, so no heat overlay covers another face's caption.
        for (const fer_face & f : faces) {
            if (f.cam_h > 0 && !(aligned && f.box.n_landmarks == 5 && blend_cam_aligned(bgr, f))) {
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
