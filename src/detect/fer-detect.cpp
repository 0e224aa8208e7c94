// C API of the face detector (include/fer-detect.h).
#include "fer-detect.h"

#include "cascade.h"
#include "group.h"
#include "haar-cascade.h"
#include "yunet.h"
#include "fer-pipeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <new>
#include <numeric>
#include <string>

struct fer_detector {
    fer_detector_kind kind = FER_DETECTOR_HAAR;
    fer::detect::haar_detector haar;
    // YuNet instantiates its graph per input size and pools contexts: a
    // detector stays shareable across threads (the pool is locked).
    mutable fer::detect::yunet_detector yunet;
};

namespace {

constexpr size_t k_max_file = size_t(64) << 20;  // 64 MiB: the largest OpenCV cascade is 2.7 MB
constexpr double k_group_eps = 0.2;               // OpenCV's GROUP_EPS

void report(fer_detect_status * status, char * err, size_t err_size, fer_detect_status st, const std::string & msg) {
    if (status) {
        *status = st;
    }
    if (err && err_size > 0) {
        const size_t n = std::min(msg.size(), err_size - 1);
        std::memcpy(err, msg.data(), n);
        err[n] = 0;
    }
}

fer_detector * load(const void * data, size_t size, fer_detect_status * status, char * err, size_t err_size,
                    const char * origin) {
    std::string msg;
    fer_detector * det = new (std::nothrow) fer_detector;
    if (!det) {
        report(status, err, err_size, FER_DETECT_ERR_MEMORY, "out of memory");
        return nullptr;
    }
    bool ok;
    if (size >= 8 && std::memcmp(static_cast<const char *>(data) + 4, "TFL3", 4) == 0) {
        det->kind = FER_DETECTOR_YUNET;
        ok = fer::detect::yunet_load(det->yunet, static_cast<const uint8_t *>(data), size, msg);
        if (!ok) {
            msg = "not a usable YuNet face detector: " + msg;
        }
    } else if (fer::detect::is_binary(data, size)) {
        ok = fer::detect::read_binary(static_cast<const uint8_t *>(data), size, det->haar.model, msg);
    } else {
        ok = fer::detect::read_xml(static_cast<const char *>(data), size, det->haar.model, msg);
    }
    if (!ok) {
        delete det;
        report(status, err, err_size, FER_DETECT_ERR_FORMAT, std::string(origin) + ": " + msg);
        return nullptr;
    }
    if (det->kind == FER_DETECTOR_HAAR) {
        fer::detect::prepare(det->haar);
    }
    report(status, err, err_size, FER_DETECT_OK, "");
    return det;
}

}  // namespace

extern "C" {

fer_detect_params fer_detect_default_params(void) {
    fer_detect_params p;
    p.scale_factor = 1.1;
    p.min_neighbors = 3;
    p.min_size = 0;
    p.max_size = 0;
    p.score_threshold = 0.83f;
    p.small_face_score_threshold = 0.6f;
    p.nms_threshold = 0.3f;
    p.input_long_side = 0;
    p.max_pass_pixels = 0;
    return p;
}

const char * fer_detect_status_name(fer_detect_status status) { return fer_status_string(status); }

struct fer_detector_params fer_detector_default_params(void) {
    fer_detector_params p;
    p.log_callback = nullptr;
    p.log_user_data = nullptr;
    return p;
}

fer_detector * fer_detector_load_from_memory(const void * data, size_t size, fer_detect_status * status, char * err,
                                             size_t err_size) {
    if (!data || size == 0) {
        report(status, err, err_size, FER_DETECT_ERR_ARGUMENT, "cascade buffer is empty");
        return nullptr;
    }
    return load(data, size, status, err, err_size, "cascade");
}

fer_detector * fer_detector_load_from_file(const char * path, fer_detect_status * status, char * err,
                                           size_t err_size) {
    if (!path) {
        report(status, err, err_size, FER_DETECT_ERR_ARGUMENT, "cascade path is NULL");
        return nullptr;
    }
    std::FILE * f = std::fopen(path, "rb");
    if (!f) {
        report(status, err, err_size, FER_DETECT_ERR_IO, std::string(path) + ": cannot open the cascade file");
        return nullptr;
    }
    std::string buf;
    char chunk[65536];
    size_t n;
    bool too_big = false;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf.size() + n > k_max_file) {
            too_big = true;
            break;
        }
        buf.append(chunk, n);
    }
    const bool read_error = std::ferror(f) != 0;
    std::fclose(f);
    if (read_error) {
        report(status, err, err_size, FER_DETECT_ERR_IO, std::string(path) + ": read error");
        return nullptr;
    }
    if (too_big) {
        report(status, err, err_size, FER_DETECT_ERR_FORMAT, std::string(path) + ": larger than 64 MiB, not a cascade");
        return nullptr;
    }
    if (buf.empty()) {
        report(status, err, err_size, FER_DETECT_ERR_FORMAT, std::string(path) + ": empty file");
        return nullptr;
    }
    return load(buf.data(), buf.size(), status, err, err_size, path);
}

void fer_detector_free(fer_detector * det) { delete det; }

fer_detector_kind fer_detector_get_kind(const fer_detector * det) { return det ? det->kind : FER_DETECTOR_HAAR; }

const char * fer_detector_kind_name(const fer_detector * det) {
    return det && det->kind == FER_DETECTOR_YUNET ? "yunet" : "haar";
}

int32_t fer_detector_window_width(const fer_detector * det) { return det ? det->haar.model.win_w : 0; }
int32_t fer_detector_window_height(const fer_detector * det) { return det ? det->haar.model.win_h : 0; }
int32_t fer_detector_n_stages(const fer_detector * det) {
    return det ? int32_t(det->haar.model.stages.size()) : 0;
}

fer_detect_status fer_detector_save_binary(const fer_detector * det, void * out, size_t * size) {
    if (!det || !size || det->kind != FER_DETECTOR_HAAR) {
        return FER_DETECT_ERR_ARGUMENT;
    }
    const std::vector<uint8_t> bin = fer::detect::write_binary(det->haar.model);
    if (!out) {
        *size = bin.size();
        return FER_DETECT_OK;
    }
    if (*size < bin.size()) {
        *size = bin.size();
        return FER_DETECT_ERR_ARGUMENT;
    }
    std::memcpy(out, bin.data(), bin.size());
    *size = bin.size();
    return FER_DETECT_OK;
}

}  // extern "C"

namespace {

void sort_and_copy(std::vector<fer_box> & out, fer_box * boxes, int32_t max_boxes, int32_t * n_boxes) {
    // largest first, then top to bottom, left to right; equal keys keep the detector's order
    // (std::sort on indices with the index as the last key: the order std::stable_sort gives,
    // without the merge code it adds to the web app's download)
    std::vector<size_t> order(out.size());
    std::iota(order.begin(), order.end(), size_t(0));
    std::sort(order.begin(), order.end(), [&](size_t i, size_t j) {
        const fer_box &a = out[i], &b = out[j];
        const int64_t aa = int64_t(a.width) * a.height, ba = int64_t(b.width) * b.height;
        if (aa != ba) {
            return aa > ba;
        }
        if (a.y != b.y) {
            return a.y < b.y;
        }
        return a.x != b.x ? a.x < b.x : i < j;
    });
    std::vector<fer_box> sorted(out.size());
    for (size_t k = 0; k < order.size(); ++k) {
        sorted[k] = out[order[k]];
    }
    out.swap(sorted);
    const size_t n_out = std::min(out.size(), size_t(max_boxes));
    for (size_t i = 0; i < n_out; ++i) {
        boxes[i] = out[i];
    }
    *n_boxes = int32_t(out.size());
}

// Arguments every detector checks the same way; FER_DETECT_OK and *empty for a 0-size image.
fer_detect_status check_call(const fer_detector * det, const uint8_t * px, int32_t width, int32_t height,
                             int32_t stride, int32_t bytes_per_pixel, const fer_detect_params * params,
                             fer_box * boxes, int32_t max_boxes, int32_t * n_boxes, bool * empty) {
    *empty = false;
    if (n_boxes) {
        *n_boxes = 0;
    }
    if (!det || !params || !n_boxes || width < 0 || height < 0 || max_boxes < 0 || (max_boxes > 0 && !boxes)) {
        return FER_DETECT_ERR_ARGUMENT;
    }
    const double sf = params->scale_factor;
    if (!(sf >= 1.001 && sf <= 100.0) || params->min_neighbors < 0 || params->min_size < 0 || params->max_size < 0 ||
        !(params->score_threshold >= 0.0f && params->score_threshold <= 1.0f) ||
        !(params->small_face_score_threshold >= 0.0f && params->small_face_score_threshold <= 1.0f) ||
        !(params->nms_threshold >= 0.0f && params->nms_threshold <= 1.0f) || params->input_long_side < 0 ||
        params->input_long_side > 8192 || params->max_pass_pixels < 0 ||
        (params->max_pass_pixels > 0 && params->max_pass_pixels < FER_YUNET_MIN_PASS_PIXELS)) {
        return FER_DETECT_ERR_ARGUMENT;
    }
    if (width > FER_DETECT_MAX_SIDE || height > FER_DETECT_MAX_SIDE ||
        int64_t(width) * int64_t(height) > int64_t(FER_DETECT_MAX_PIXELS)) {
        return FER_DETECT_ERR_TOO_LARGE;
    }
    if (width == 0 || height == 0) {
        *empty = true;
        return FER_DETECT_OK;
    }
    if (!px || int64_t(stride) < int64_t(width) * bytes_per_pixel) {
        return FER_DETECT_ERR_ARGUMENT;
    }
    return FER_DETECT_OK;
}

fer_detect_status detect_yunet(const fer_detector * det, const uint8_t * px, int32_t width, int32_t height,
                               int32_t stride, fer::detect::pixel_format format, const fer_detect_params * params,
                               fer_box * boxes, int32_t max_boxes, int32_t * n_boxes) {
    std::vector<fer::detect::yunet_face> faces;
    const fer_detect_status st =
        fer::detect::yunet_detect(det->yunet, px, width, height, size_t(stride), format, *params, faces);
    if (st != FER_DETECT_OK) {
        return st;
    }
    std::vector<fer_box> out;
    for (const auto & f : faces) {
        // clipped to the image, as the Haar boxes are
        const int x0 = std::max(0, int(std::lround(f.x))), y0 = std::max(0, int(std::lround(f.y)));
        const int x1 = std::min(int(width), int(std::lround(f.x + f.w)));
        const int y1 = std::min(int(height), int(std::lround(f.y + f.h)));
        if (x1 <= x0 || y1 <= y0) {
            continue;
        }
        fer_box b{x0, y0, x1 - x0, y1 - y0, 0, f.score, 5, {}};
        std::memcpy(b.landmarks, f.landmarks, sizeof b.landmarks);
        out.push_back(b);
    }
    sort_and_copy(out, boxes, max_boxes, n_boxes);
    return FER_DETECT_OK;
}

}  // namespace

extern "C" {

fer_detect_status fer_detector_detect_image(const fer_detector * det, const uint8_t * pixels, int32_t width,
                                            int32_t height, int32_t stride, fer_pixel_format format,
                                            const fer_detect_params * params, fer_box * boxes, int32_t max_boxes,
                                            int32_t * n_boxes) {
    const int32_t bpp = format == FER_PIXEL_GREY ? 1 : (format == FER_PIXEL_BGR ? 3 : 4);
    if (format != FER_PIXEL_GREY && format != FER_PIXEL_BGR && format != FER_PIXEL_RGBA) {
        return FER_DETECT_ERR_ARGUMENT;
    }
    bool empty;
    fer_detect_status st = check_call(det, pixels, width, height, stride, bpp, params, boxes, max_boxes, n_boxes, &empty);
    if (st != FER_DETECT_OK || empty) {
        return st;
    }
    if (det->kind == FER_DETECTOR_YUNET) {
        const auto f = format == FER_PIXEL_GREY ? fer::detect::pixel_format::grey
                       : format == FER_PIXEL_BGR ? fer::detect::pixel_format::bgr
                                                 : fer::detect::pixel_format::rgba;
        return detect_yunet(det, pixels, width, height, stride, f, params, boxes, max_boxes, n_boxes);
    }
    if (format == FER_PIXEL_GREY) {
        return fer_detector_detect(det, pixels, width, height, stride, params, boxes, max_boxes, n_boxes);
    }
    std::vector<uint8_t> grey(size_t(width) * size_t(height));
    if (format == FER_PIXEL_BGR) {
        fer_bgr_to_grey(pixels, width, height, stride, grey.data(), width);
    } else {
        fer_rgba_to_grey(pixels, width, height, stride, grey.data(), width);
    }
    return fer_detector_detect(det, grey.data(), width, height, width, params, boxes, max_boxes, n_boxes);
}

fer_detect_status fer_detector_detect(const fer_detector * det, const uint8_t * grey, int32_t width, int32_t height,
                                      int32_t stride, const fer_detect_params * params, fer_box * boxes,
                                      int32_t max_boxes, int32_t * n_boxes) {
    bool empty;
    fer_detect_status st = check_call(det, grey, width, height, stride, 1, params, boxes, max_boxes, n_boxes, &empty);
    if (st != FER_DETECT_OK || empty) {
        return st;
    }
    if (det->kind == FER_DETECTOR_YUNET) {
        return detect_yunet(det, grey, width, height, stride, fer::detect::pixel_format::grey, params, boxes,
                            max_boxes, n_boxes);
    }
    const double sf = params->scale_factor;
    fer::detect::scan_options o;
    o.scale_factor = sf;
    o.min_w = o.min_h = params->min_size;
    o.max_w = o.max_h = params->max_size;
    fer::detect::scan_scratch scratch;
    std::vector<fer::detect::rect> rects;
    fer::detect::detect_raw(det->haar, grey, width, height, size_t(stride), o, rects, scratch);
    std::vector<int> weights;
    fer::detect::group_rectangles(rects, weights, params->min_neighbors, k_group_eps);

    // Clip to the image, as cv::CascadeClassifier::detectMultiScale does (a
    // window's rounded position plus rounded size can pass the border by a pixel or so).
    std::vector<fer_box> out;
    out.reserve(rects.size());
    for (size_t i = 0; i < rects.size(); ++i) {
        const int x0 = std::max(rects[i].x, 0), y0 = std::max(rects[i].y, 0);
        const int x1 = std::min(rects[i].x + rects[i].w, int(width));
        const int y1 = std::min(rects[i].y + rects[i].h, int(height));
        if (x1 > x0 && y1 > y0) {
            out.push_back(fer_box{x0, y0, x1 - x0, y1 - y0, params->min_neighbors > 0 ? int32_t(weights[i]) : 0, 0.0f,
                                  0, {}});
        }
    }
    sort_and_copy(out, boxes, max_boxes, n_boxes);
    return FER_DETECT_OK;
}

}  // extern "C"

namespace {

// The one error style of the public headers: NULL and the reason to the log
// callback (the err-buffer loaders above are the older style, kept).
fer_detector * logged(fer_detector * d, const char * err, const fer_detector_params & params) {
    if (!d) {
        const std::string msg = std::string("cannot load detector: ") + err;
        if (params.log_callback) {
            params.log_callback(FER_LOG_ERROR, msg.c_str(), params.log_user_data);
        } else {
            std::fprintf(stderr, "fer: error: %s\n", msg.c_str());
        }
    }
    return d;
}

}  // namespace

fer_detector * fer_detector_load(const char * path, struct fer_detector_params params) {
    char err[512] = "";
    return logged(fer_detector_load_from_file(path, nullptr, err, sizeof err), err, params);
}

fer_detector * fer_detector_load_from_buffer(const void * data, size_t size, struct fer_detector_params params) {
    char err[512] = "";
    return logged(fer_detector_load_from_memory(data, size, nullptr, err, sizeof err), err, params);
}
