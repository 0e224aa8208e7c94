// What `fer video` and `fer live` share: their command-line options, the face
// engine (runtime model + detector + tracker) run on BGR frames, the frame
// source (file or camera), the live view's banner, per-track summaries and
// output files that appear only when complete. Faces are drawn by face-draw.h.
#pragma once

#include "args.h"
#include "cli-common.h"
#include "fer-pipeline.h"

#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace fer {

struct video_options {
    std::string model, detector;
    fer_pipeline_params pipeline;
    fer_tracker_params tracker;
    int every = 1;  // analyse frames 0, N, 2N, ...
};

// Declares --model --detector --min-face --max-faces --min-confidence --every
// --smooth --iou --max-missed; `every_default` differs between video and live.
void add_video_options(arg_parser & a, const std::string & every_default);
// Reads and range-checks them; throws a usage error naming the option.
video_options read_video_options(const arg_parser & a, const std::string & command);

// The runtime model, its context, the cascade and a tracker; one per stream.
class face_engine {
public:
    explicit face_engine(const video_options & o);  // throws input_error naming the file
    ~face_engine();
    face_engine(const face_engine &) = delete;
    face_engine & operator=(const face_engine &) = delete;

    // Detects, classifies and tracks the faces of one BGR frame (largest first).
    const std::vector<fer_face> & analyse(const cv::Mat & bgr);
    const std::vector<fer_face> & faces() const { return faces_; }
    std::string label(int cls) const;

private:
    video_options opt_;
    runtime_model model_;
    fer_context * ctx_ = nullptr;
    face_detector det_;
    fer_tracker * tracker_ = nullptr;
    std::vector<fer_face> faces_;
};

// A video file or a camera, read one frame at a time (never the whole file).
class frame_source {
public:
    static frame_source open_file(const std::string & path);  // throws input_error
    static frame_source open_camera(int index);                // throws input_error
    // The next frame and its timestamp in ms (frame index / fps for files, so
    // timestamps are exact and increasing; wall time for cameras).
    bool read(cv::Mat & frame, double & time_ms);
    double fps() const { return fps_; }          // 0 when unknown
    int64_t frame_count() const { return count_; }  // estimate from the container; 0 when unknown
    const std::string & name() const { return name_; }

private:
    cv::VideoCapture cap_;
    std::string name_;
    bool camera_ = false;
    double fps_ = 0;
    int64_t count_ = 0, index_ = 0;
    double start_ = 0;
};

// A file written under a temporary name beside its destination and renamed
// over it by commit(); removed if commit() is never reached. The temporary
// name keeps the extension, which picks the container for cv::VideoWriter.
class atomic_output {
public:
    explicit atomic_output(std::string path);
    ~atomic_output();
    atomic_output(const atomic_output &) = delete;
    atomic_output & operator=(const atomic_output &) = delete;
    const std::string & temp_path() const { return temp_; }
    const std::string & path() const { return path_; }
    void commit();  // throws runtime_error naming the file

private:
    std::string path_, temp_;
    bool done_ = false;
};

// FOURCC for an output video name: mp4v for .mp4/.m4v/.mov, MJPG for .avi,
// (both in Debian's OpenCV through FFmpeg); throws a usage error otherwise.
int video_fourcc_for(const std::string & path);

// A band across the bottom of the view with `text` in large letters (the
// original phone app's label), `corner` (e.g. FPS) small at the top left.
void draw_banner(cv::Mat & frame, const std::string & text, const std::string & corner);

// One frame as the picture object of tools/fer/face-json.h (file, frame,
// time, size, faces with track ids and smoothed probabilities) plus
// "time_ms" and `extra_fields` (", \"key\": value" text, may be empty).
std::string frame_json(const std::string & source, const cv::Mat & frame, int64_t index, double time_ms,
                       const std::vector<fer_face> & faces, const std::string & extra_fields = "");
// The timeline CSV: one row per face of an analysed frame.
std::string timeline_csv_header();
std::string timeline_csv_rows(int64_t frame, double time_ms, const std::vector<fer_face> & faces,
                              const face_engine & engine);

// Per-track statistics over a stream: first/last sighting, and how many
// analysed frames showed each smoothed label.
class track_summary {
public:
    void add(int64_t frame, double time_ms, const std::vector<fer_face> & faces);
    // `step_ms`: time one analysed frame stands for (every / fps), added to
    // each track's span so a face seen in a single frame lasts one step.
    void print_table(FILE * out, double step_ms) const;
    std::string json(double step_ms) const;
    size_t n_tracks() const { return tracks_.size(); }

private:
    struct stats {
        int64_t first_frame = 0, last_frame = 0, n_frames = 0;
        double first_ms = 0, last_ms = 0;
        int64_t per_class[FER_N_CLASSES] = {};
    };
    std::map<int32_t, stats> tracks_;  // by id: ids only grow, a few bytes per face ever seen
};

}  // namespace fer
