#include "video-common.h"

#include "cli-common.h"
#include "error.h"
#include "face-json.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace fer {

namespace {

// Faces kept per frame. fer_analyze reports how many it found; a crowd
// beyond this is cut to the largest faces, which are also the trackable ones.
constexpr int32_t k_max_frame_faces = 64;

std::string fmt(const char * f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

}  // namespace

void add_video_options(arg_parser & a, const std::string & every_default) {
    a.option("model", "PATH", "TensorFlow Lite model (default: $FER_TFLITE_MODEL or the shipped models/fernet-int8.tflite)");
    a.option("detector", "NAME|FILE", "yunet (default: CNN with landmarks), haar (OpenCV's frontalface_alt2), or a file: YuNet .tflite, Haar cascade XML or FERHAAR1 ($FER_DETECTOR)");
    a.option("min-face", "PX", "smallest face side in pixels", "48");
    a.option("max-faces", "N", "classify at most N faces per frame, largest first (0: up to 64)", "0");
    a.option("min-confidence", "P", "faces below this confidence are marked uncertain (0..1)", "0");
    add_quality_options(a);
    a.option("every", "N", "analyse every Nth frame (the others show the last result)", every_default);
    a.option("smooth", "A|N",
             "label smoothing: EMA weight of a new frame in (0,1] (1: off), or a window of N >= 2 frames "
             "(alpha = 2/(N+1))",
             "0.3");
    a.option("iou", "T", "a face continues a track when boxes overlap by IoU >= T (0..1]", "0.3");
    a.option("max-missed", "N", "analysed frames a track survives without its face", "5");
}

video_options read_video_options(const arg_parser & a, const std::string & command) {
    video_options o;
    o.model = a.get("model").empty() ? default_tflite_model_path() : a.get("model");
    o.detector = resolve_detector_path(a.get("detector"));
    o.pipeline = fer_pipeline_default_params();
    o.tracker = fer_tracker_default_params();
    const std::string pre = command + ": ";

    const long long min_face = a.get_int("min-face");
    if (min_face < 0 || min_face > 100000) {
        throw usage_error(pre + "--min-face must be in 0..100000 pixels");
    }
    o.pipeline.detect.min_size = static_cast<int32_t>(min_face);
    const long long max_faces = a.get_int("max-faces");
    if (max_faces < 0 || max_faces > k_max_frame_faces) {
        throw usage_error(pre + "--max-faces must be in 0.." + std::to_string(k_max_frame_faces));
    }
    o.pipeline.max_faces = static_cast<int32_t>(max_faces);
    const double min_conf = a.get_double("min-confidence");
    if (!(min_conf >= 0 && min_conf <= 1)) {
        throw usage_error(pre + "--min-confidence must be in 0..1");
    }
    o.pipeline.min_confidence = static_cast<float>(min_conf);
    o.pipeline.tta = parse_tta_quality(a, command);
    const long long every = a.get_int("every");
    if (every < 1 || every > 100000) {
        throw usage_error(pre + "--every must be in 1..100000");
    }
    o.every = static_cast<int>(every);

    const double smooth = a.get_double("smooth");
    if (smooth > 0 && smooth <= 1) {
        o.tracker.ema_alpha = static_cast<float>(smooth);
    } else if (smooth >= 2 && smooth <= 10000 && smooth == std::floor(smooth)) {
        // An EMA whose weights have the same centre of mass as an N-frame moving average.
        o.tracker.ema_alpha = static_cast<float>(2.0 / (smooth + 1.0));
    } else {
        throw usage_error(pre + "--smooth must be an EMA weight in (0,1] or a window of 2..10000 frames");
    }
    const double iou = a.get_double("iou");
    if (!(iou > 0 && iou <= 1)) {
        throw usage_error(pre + "--iou must be in (0,1]");
    }
    o.tracker.iou_threshold = static_cast<float>(iou);
    const long long missed = a.get_int("max-missed");
    if (missed < 0 || missed > 100000) {
        throw usage_error(pre + "--max-missed must be in 0..100000");
    }
    o.tracker.max_missed = static_cast<int32_t>(missed);
    return o;
}

face_engine::face_engine(const video_options & o)
    : opt_(o), model_(load_runtime_model(o.model)), det_(load_face_detector(o.detector)) {
    ctx_ = fer_context_new(model_.get());
    if (!ctx_) {
        throw runtime_error(o.model + ": out of memory for the inference arena");
    }
    tracker_ = fer_tracker_new(o.tracker);
    if (!tracker_) {
        fer_context_free(ctx_);
        throw usage_error("tracker parameters out of range");
    }
    faces_.reserve(k_max_frame_faces);
}

face_engine::~face_engine() {
    fer_tracker_free(tracker_);
    fer_context_free(ctx_);
}

std::string face_engine::label(int cls) const {
    const char * l = fer_model_class_label(model_.get(), cls);
    return l ? l : "?";
}

const std::vector<fer_face> & face_engine::analyse(const cv::Mat & frame) {
    const int w = frame.cols, h = frame.rows;
    const int32_t stride = static_cast<int32_t>(frame.step[0]);
    // colour goes to the detector as it is (YuNet uses it); the pipeline makes the grey crops
    const fer_pixel_format format = frame.type() == CV_8UC3 ? FER_PIXEL_BGR : FER_PIXEL_GREY;
    if (frame.type() != CV_8UC3 && frame.type() != CV_8UC1) {
        throw input_error("frame of unsupported pixel type " + std::to_string(frame.type()) +
                          " (8-bit grey or BGR expected)");
    }
    faces_.resize(k_max_frame_faces);
    int32_t n = 0;
    fer_detect_status ds = FER_DETECT_OK;
    const int st = fer_analyze_image(ctx_, det_.get(), frame.data, w, h, stride, format, &opt_.pipeline, faces_.data(),
                                     k_max_frame_faces, &n, &ds);
    if (st != FER_OK) {
        if (ds == FER_DETECT_ERR_TOO_LARGE) {
            throw input_error("frame of " + std::to_string(w) + "x" + std::to_string(h) + " is too large for the detector");
        }
        throw runtime_error(std::string("face analysis failed: ") + fer_status_string(st) +
                            (ds != FER_DETECT_OK ? std::string(" (detector: ") + fer_detect_status_name(ds) + ")" : ""));
    }
    faces_.resize(static_cast<size_t>(std::min(n, k_max_frame_faces)));
    if (fer_tracker_update(tracker_, faces_.data(), static_cast<int32_t>(faces_.size())) != FER_OK) {
        throw runtime_error("face tracker update failed");
    }
    return faces_;
}

frame_source frame_source::open_file(const std::string & path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw input_error(path + ": no such file");
    }
    if (fs::is_directory(path, ec)) {
        throw input_error(path + ": is a folder, not a video file");
    }
    // FFmpeg only: other backends would take a still image or a name with
    // '%d' as an image sequence, and GStreamer prints its own warnings.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    frame_source s;
    s.name_ = path;
    if (!s.cap_.open(path, cv::CAP_FFMPEG) || !s.cap_.isOpened()) {
        throw input_error(path + ": not a video file OpenCV can read (FFmpeg could not open it)");
    }
    const double fps = s.cap_.get(cv::CAP_PROP_FPS);
    s.fps_ = std::isfinite(fps) && fps > 0 && fps < 1000 ? fps : 0;
    const double count = s.cap_.get(cv::CAP_PROP_FRAME_COUNT);
    s.count_ = std::isfinite(count) && count > 0 && count < 1e10 ? static_cast<int64_t>(count) : 0;
    return s;
}

frame_source frame_source::open_camera(int index) {
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    const std::string name = "camera " + std::to_string(index);
#ifdef __linux__
    // Camera N is /dev/videoN on Linux; say so plainly instead of OpenCV's backend probing messages.
    std::error_code ec;
    const std::string dev = "/dev/video" + std::to_string(index);
    if (!fs::exists(dev, ec)) {
        throw input_error(name + ": no such camera (" + dev + " does not exist); use --input VIDEO for a file");
    }
#endif
    frame_source s;
    s.name_ = name;
    s.camera_ = true;
    if (!s.cap_.open(index) || !s.cap_.isOpened()) {
        throw input_error(name + ": cannot open the camera (busy, or no permission?)");
    }
    const double fps = s.cap_.get(cv::CAP_PROP_FPS);
    s.fps_ = std::isfinite(fps) && fps > 0 && fps < 1000 ? fps : 0;
    s.start_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return s;
}

bool frame_source::read(cv::Mat & frame, double & time_ms) {
    if (!cap_.read(frame) || frame.empty()) {
        return false;
    }
    if (camera_) {
        time_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count() -
                  start_;
    } else if (fps_ > 0) {
        // From the index, not CAP_PROP_POS_MSEC: container timestamps may
        // repeat or jump; a constant-rate timeline is what the output video gets.
        time_ms = static_cast<double>(index_) * 1000.0 / fps_;
    } else {
        time_ms = std::max(cap_.get(cv::CAP_PROP_POS_MSEC), 0.0);
    }
    ++index_;
    return true;
}

atomic_output::atomic_output(std::string path) : path_(std::move(path)) {
    const fs::path p(path_);
    temp_ = (p.parent_path() / (p.stem().string() + ".tmp-" + std::to_string(::getpid()) + p.extension().string()))
                .string();
}

atomic_output::~atomic_output() {
    if (!done_) {
        std::error_code ec;
        fs::remove(temp_, ec);
    }
}

void atomic_output::commit() {
    std::error_code ec;
    fs::rename(temp_, path_, ec);
    if (ec) {
        throw runtime_error(path_ + ": cannot write (" + ec.message() + ")");
    }
    done_ = true;
}

int video_fourcc_for(const std::string & path) {
    std::string ext = fs::path(path).extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".mp4" || ext == ".m4v" || ext == ".mov") {
        return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
    }
    if (ext == ".avi") {
        return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
    }
    throw usage_error(path + ": output video must end in .mp4, .m4v, .mov (MPEG-4) or .avi (Motion JPEG)");
}

void draw_banner(cv::Mat & frame, const std::string & text, const std::string & corner) {
    const int band = std::max(36, frame.rows / 8);
    cv::Mat roi = frame(cv::Rect(0, frame.rows - band, frame.cols, band));
    cv::Mat dark(roi.size(), roi.type(), cv::Scalar::all(0));
    cv::addWeighted(roi, 0.35, dark, 0.65, 0, roi);
    if (!text.empty()) {
        const double scale = band / 40.0;
        const int thick = std::max(1, band / 18);
        int base = 0;
        const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thick, &base);
        cv::putText(frame, text, cv::Point((frame.cols - ts.width) / 2, frame.rows - (band - ts.height) / 2),
                    cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar(255, 255, 255), thick, cv::LINE_AA);
    }
    if (!corner.empty()) {
        const double scale = std::max(0.5, frame.rows / 960.0);
        cv::putText(frame, corner, cv::Point(8, static_cast<int>(24 * scale) + 4), cv::FONT_HERSHEY_SIMPLEX, scale,
                    cv::Scalar(0, 255, 0), std::max(1, static_cast<int>(2 * scale)), cv::LINE_AA);
    }
}

std::string frame_json(const std::string & source, const cv::Mat & frame, int64_t index, double time_ms,
                       const std::vector<fer_face> & faces, const std::string & extra_fields) {
    face_json_options o;
    o.frame = static_cast<int>(index);
    o.time_s = time_ms / 1000.0;
    std::string s = faces_to_json(source, frame.cols, frame.rows, faces, o);
    // The picture object of every runtime command, plus the timeline's fields.
    s.pop_back();
    return s + ", \"time_ms\": " + fmt("%.3f", time_ms) + extra_fields + "}";
}

std::string timeline_csv_header() {
    std::string h = "frame,time_ms,track_id,x,y,width,height,emotion,confidence,frame_emotion,frame_confidence,uncertain";
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        h += std::string(",") + fer_class_name(c);
    }
    return h + "\n";
}

std::string timeline_csv_rows(int64_t frame, double time_ms, const std::vector<fer_face> & faces,
                              const face_engine & engine) {
    std::string o;
    for (const fer_face & f : faces) {
        o += std::to_string(frame) + "," + fmt("%.3f", time_ms) + "," + std::to_string(f.track_id) + "," +
             std::to_string(f.box.x) + "," + std::to_string(f.box.y) + "," + std::to_string(f.box.width) + "," +
             std::to_string(f.box.height) + "," + engine.label(f.smoothed_class) + "," +
             fmt("%.6f", f.smoothed[f.smoothed_class]) + "," + engine.label(f.result.top_class) + "," +
             fmt("%.6f", f.result.confidence) + "," + (f.uncertain ? "1" : "0");
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            o += "," + fmt("%.6f", f.smoothed[c]);
        }
        o += "\n";
    }
    return o;
}

void track_summary::add(int64_t frame, double time_ms, const std::vector<fer_face> & faces) {
    for (const fer_face & f : faces) {
        if (f.track_id <= 0) {
            continue;  // untracked (a crowd beyond the tracker's table)
        }
        auto [it, fresh] = tracks_.try_emplace(f.track_id);
        stats & s = it->second;
        if (fresh) {
            s.first_frame = frame;
            s.first_ms = time_ms;
        }
        s.last_frame = frame;
        s.last_ms = time_ms;
        ++s.n_frames;
        ++s.per_class[f.smoothed_class];
    }
}

namespace {

int dominant(const int64_t * per_class) {
    return static_cast<int>(std::max_element(per_class, per_class + FER_N_CLASSES) - per_class);
}

}  // namespace

void track_summary::print_table(FILE * out, double step_ms) const {
    std::fprintf(out, "%-6s %8s %10s %10s %10s  %-9s %s\n", "track", "frames", "start_s", "end_s", "duration_s",
                 "dominant", "share of time");
    for (const auto & [id, s] : tracks_) {
        std::string share;
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            if (s.per_class[c]) {
                share += std::string(share.empty() ? "" : ", ") + fer_class_name(c) +
                         fmt(" %.0f%%", 100.0 * static_cast<double>(s.per_class[c]) / static_cast<double>(s.n_frames));
            }
        }
        std::fprintf(out, "%-6d %8lld %10.2f %10.2f %10.2f  %-9s %s\n", id, static_cast<long long>(s.n_frames),
                     s.first_ms / 1000, s.last_ms / 1000, (s.last_ms - s.first_ms + step_ms) / 1000,
                     fer_class_name(dominant(s.per_class)), share.c_str());
    }
    if (tracks_.empty()) {
        std::fprintf(out, "(no face found)\n");
    }
}

std::string track_summary::json(double step_ms) const {
    std::string o = "[";
    bool first = true;
    for (const auto & [id, s] : tracks_) {
        o += first ? "\n    " : ",\n    ";
        first = false;
        o += "{\"track_id\": " + std::to_string(id) + ", \"first_frame\": " + std::to_string(s.first_frame) +
             ", \"last_frame\": " + std::to_string(s.last_frame) + ", \"frames_analysed\": " +
             std::to_string(s.n_frames) + ", \"start_ms\": " + fmt("%.3f", s.first_ms) + ", \"end_ms\": " +
             fmt("%.3f", s.last_ms) + ", \"duration_ms\": " + fmt("%.3f", s.last_ms - s.first_ms + step_ms) +
             ", \"dominant_emotion\": \"" + fer_class_name(dominant(s.per_class)) + "\", \"share\": {";
        for (int c = 0; c < FER_N_CLASSES; ++c) {
            o += (c ? ", \"" : "\"") + std::string(fer_class_name(c)) + "\": " +
                 fmt("%.6f", static_cast<double>(s.per_class[c]) / static_cast<double>(s.n_frames));
        }
        o += "}}";
    }
    return o + (first ? "]" : "\n  ]");
}

}  // namespace fer
