#include "plots.h"

#include "error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fer {

namespace {

const cv::Scalar k_white(255, 255, 255), k_black(0, 0, 0), k_grey(120, 120, 120);

void text(cv::Mat & img, const std::string & s, cv::Point p, double scale = 0.5, cv::Scalar c = k_black,
          int thickness = 1) {
    cv::putText(img, s, p, cv::FONT_HERSHEY_SIMPLEX, scale, c, thickness, cv::LINE_AA);
}

}  // namespace

cv::Mat draw_confusion(const metrics & m, const std::vector<std::string> & names, const std::string & title) {
    const int k = static_cast<int>(names.size()), cell = 70, left = 110, top = 70;
    cv::Mat img(top + k * cell + 60, left + k * cell + 20, CV_8UC3, k_white);
    text(img, title, {10, 25}, 0.6, k_black, 1);
    text(img, "rows: true class, columns: predicted; colour = row %, text = count", {10, 50}, 0.42, k_grey);
    for (int i = 0; i < k; ++i) {
        int64_t row = 0;
        for (int64_t v : m.confusion[static_cast<size_t>(i)]) row += v;
        for (int j = 0; j < k; ++j) {
            const int64_t v = m.confusion[static_cast<size_t>(i)][static_cast<size_t>(j)];
            const double frac = row ? static_cast<double>(v) / static_cast<double>(row) : 0.0;
            cv::Mat one(1, 1, CV_8UC1, cv::Scalar(static_cast<int>(255 * frac)));
            cv::Mat colour;
            cv::applyColorMap(one, colour, cv::COLORMAP_VIRIDIS);
            const cv::Rect r(left + j * cell, top + i * cell, cell - 2, cell - 2);
            cv::rectangle(img, r, colour.at<cv::Vec3b>(0, 0), cv::FILLED);
            const cv::Scalar tc = frac > 0.55 ? k_black : k_white;
            text(img, std::to_string(v), {r.x + 8, r.y + 30}, 0.5, tc);
            char pct[16];
            std::snprintf(pct, sizeof pct, "%.0f%%", 100 * frac);
            text(img, pct, {r.x + 8, r.y + 52}, 0.4, tc);
        }
        text(img, names[static_cast<size_t>(i)], {8, top + i * cell + 38}, 0.5);
        text(img, names[static_cast<size_t>(i)].substr(0, 7), {left + i * cell + 4, top + k * cell + 20}, 0.42);
    }
    char summary[96];
    std::snprintf(summary, sizeof summary, "accuracy %.2f%%   macro-F1 %.4f   n = %lld", 100 * m.accuracy, m.macro_f1,
                  static_cast<long long>(m.n));
    text(img, summary, {10, top + k * cell + 48}, 0.5);
    return img;
}

cv::Mat draw_training_curves(const std::string & csv) {
    std::ifstream in(csv);
    std::string line;
    if (!std::getline(in, line)) {
        return {};
    }
    std::vector<double> ep, tl, vl, ta, va;
    while (std::getline(in, line)) {
        double e, lr, a, b, c, d, f;
        if (std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &e, &lr, &a, &b, &c, &d, &f) == 7) {
            ep.push_back(e);
            tl.push_back(a);
            ta.push_back(b);
            vl.push_back(c);
            va.push_back(d);
        }
    }
    if (ep.empty()) {
        return {};
    }
    const int w = 420, h = 300, pad = 50;
    cv::Mat img(h + 40, 2 * w, CV_8UC3, k_white);
    auto panel = [&](int x0, const std::string & title, const std::vector<double> & a, const std::vector<double> & b,
                     bool percent) {
        double lo = 1e9, hi = -1e9;
        for (double v : a) lo = std::min(lo, v), hi = std::max(hi, v);
        for (double v : b) lo = std::min(lo, v), hi = std::max(hi, v);
        if (hi - lo < 1e-9) hi = lo + 1;
        const double span = hi - lo;
        lo -= 0.05 * span;
        hi += 0.05 * span;
        const double emax = std::max(1.0, ep.back());
        auto pt = [&](double e, double v) {
            return cv::Point(x0 + pad + static_cast<int>((w - pad - 20) * (e - 1) / std::max(1.0, emax - 1)),
                             30 + static_cast<int>((h - pad) * (1 - (v - lo) / (hi - lo))));
        };
        cv::rectangle(img, {x0 + pad, 30}, {x0 + w - 20, 30 + h - pad}, k_grey);
        for (int t = 0; t <= 4; ++t) {
            const double v = lo + (hi - lo) * t / 4.0;
            char lab[32];
            std::snprintf(lab, sizeof lab, percent ? "%.0f%%" : "%.2f", percent ? 100 * v : v);
            text(img, lab, {x0 + 4, pt(1, v).y + 4}, 0.38, k_grey);
        }
        const std::vector<const std::vector<double> *> series{&a, &b};
        const cv::Scalar colours[2] = {cv::Scalar(200, 120, 30), cv::Scalar(30, 90, 220)};
        for (size_t s = 0; s < 2; ++s) {
            for (size_t i = 1; i < ep.size(); ++i) {
                cv::line(img, pt(ep[i - 1], (*series[s])[i - 1]), pt(ep[i], (*series[s])[i]), colours[s], 2,
                         cv::LINE_AA);
            }
            if (ep.size() == 1) cv::circle(img, pt(ep[0], (*series[s])[0]), 3, colours[s], cv::FILLED);
        }
        text(img, title, {x0 + pad, 22}, 0.5);
        text(img, "train", {x0 + w - 150, 22}, 0.45, colours[0]);
        text(img, "validation", {x0 + w - 100, 22}, 0.45, colours[1]);
        text(img, "epoch 1.." + std::to_string(static_cast<int>(ep.back())), {x0 + pad, h + 10}, 0.42, k_grey);
    };
    panel(0, "loss", tl, vl, false);
    panel(w, "accuracy", ta, va, true);
    return img;
}

cv::Mat draw_cam_panel(const cv::Mat & face_grey, const cv::Mat & cam01, const std::vector<float> & probs,
                       const std::vector<std::string> & names, int explained) {
    const int s = 192;
    cv::Mat face, face_bgr, heat8, heat, overlay;
    cv::resize(face_grey, face, {s, s}, 0, 0, cv::INTER_CUBIC);
    cv::cvtColor(face, face_bgr, cv::COLOR_GRAY2BGR);
    cv::Mat cam;
    cv::resize(cam01, cam, {s, s}, 0, 0, cv::INTER_LINEAR);
    cam.convertTo(heat8, CV_8U, 255.0);
    cv::applyColorMap(heat8, heat, cv::COLORMAP_JET);
    cv::addWeighted(face_bgr, 0.55, heat, 0.45, 0, overlay);
    const int bars_w = 260;
    cv::Mat img(s + 30, 2 * s + bars_w + 30, CV_8UC3, k_white);
    face_bgr.copyTo(img(cv::Rect(5, 25, s, s)));
    overlay.copyTo(img(cv::Rect(s + 15, 25, s, s)));
    text(img, "face", {5, 18}, 0.5);
    text(img, "Grad-CAM: " + names[static_cast<size_t>(explained)], {s + 15, 18}, 0.5);
    const int x0 = 2 * s + 25;
    for (size_t c = 0; c < names.size() && c < probs.size(); ++c) {
        const int y = 30 + static_cast<int>(c) * 26;
        const int len = static_cast<int>((bars_w - 120) * std::clamp(probs[c], 0.0f, 1.0f));
        const bool hot = static_cast<int>(c) == explained;
        text(img, names[c], {x0, y + 14}, 0.45, hot ? cv::Scalar(30, 30, 200) : k_black);
        cv::rectangle(img, {x0 + 75, y + 2}, {x0 + 75 + std::max(1, len), y + 18},
                      hot ? cv::Scalar(30, 30, 200) : cv::Scalar(160, 160, 160), cv::FILLED);
        char p[16];
        std::snprintf(p, sizeof p, "%.1f%%", 100 * probs[c]);
        text(img, p, {x0 + 80 + std::max(1, len), y + 15}, 0.4);
    }
    return img;
}

void write_png(const std::string & path, const cv::Mat & img) {
    const std::string tmp = path + ".tmp.png";
    bool ok = false;
    try {
        ok = cv::imwrite(tmp, img);
    } catch (const cv::Exception &) {
        ok = false;
    }
    std::error_code ec;
    if (!ok) {
        std::filesystem::remove(tmp, ec);
        throw runtime_error(path + ": cannot write image");
    }
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        throw runtime_error(path + ": cannot write image (" + ec.message() + ")");
    }
}

}  // namespace fer
