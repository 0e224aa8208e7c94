// fer video: faces, track ids and smoothed emotions through a video file,
// streamed frame by frame (memory does not grow with the video's length).
#include "args.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"
#include "face-draw.h"
#include "progress.h"
#include "video-common.h"

#include <opencv2/videoio.hpp>

#include <cstdio>
#include <memory>
#include <optional>

namespace fer {

int cmd_video(int argc, char ** argv) {
    arg_parser a("video", "INPUT [--out OUT.mp4] [--csv TIMELINE.csv | --json] [OPTIONS]",
                 "Find the faces of every frame (or every Nth, --every) of a video file, follow them\n"
                 "with stable track ids and smooth their emotion over time. Writes an annotated\n"
                 "video (--out: .mp4 MPEG-4 or .avi Motion JPEG), a timeline with one row per face\n"
                 "per analysed frame (--csv FILE, or --json on stdout with the track summary),\n"
                 "and prints a summary per track. Outputs appear only when complete.");
    a.positional("INPUT", "a video file FFmpeg can read");
    a.option("out", "OUT", "annotated video to write (.mp4 or .avi)");
    a.option("csv", "FILE", "timeline CSV: frame,time_ms,track_id,box,emotion,confidence,... one row per face");
    a.flag("json", "print the timeline and the track summary as one JSON object on stdout");
    a.flag("no-progress", "no progress bar on stderr");
    add_video_options(a, "1");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.positionals().size() != 1) {
        throw usage_error("video: expected one input video (see fer video --help)");
    }
    const video_options opt = read_video_options(a, "video");
    const std::string input = a.positionals()[0];
    const std::string out_path = a.get("out"), csv_path = a.get("csv");
    const bool json = a.enabled("json");
    const int fourcc = out_path.empty() ? 0 : video_fourcc_for(out_path);

    frame_source src = frame_source::open_file(input);
    face_engine engine(opt);
    cv::Mat frame;
    double t_ms = 0;
    if (!src.read(frame, t_ms)) {
        throw input_error(input + ": the video has no frames (empty, or no decodable video stream)");
    }
    // Unknown rate (some streams): 25 fps for the output and the timeline.
    const double fps = src.fps() > 0 ? src.fps() : 25.0;
    const double step_ms = 1000.0 * opt.every / fps;

    std::optional<atomic_output> video_file, csv_file;
    cv::VideoWriter writer;
    if (!out_path.empty()) {
        video_file.emplace(out_path);
        if (!writer.open(video_file->temp_path(), cv::CAP_FFMPEG, fourcc, fps, frame.size(), frame.channels() == 3)) {
            throw runtime_error(out_path + ": cannot open a video writer (FFmpeg) for this name and codec");
        }
    }
    std::unique_ptr<FILE, int (*)(FILE *)> csv(nullptr, std::fclose);
    if (!csv_path.empty()) {
        csv_file.emplace(csv_path);
        csv.reset(std::fopen(csv_file->temp_path().c_str(), "wb"));
        if (!csv) {
            throw runtime_error(csv_path + ": cannot create the file");
        }
        std::fputs(timeline_csv_header().c_str(), csv.get());
    }
    if (json) {
        std::printf("{\n  \"input\": \"%s\",\n  \"fps\": %.6g,\n  \"every\": %d,\n  \"timeline\": [", json_escape(input).c_str(),
                    fps, opt.every);
    }

    track_summary summary;
    std::optional<progress_bar> bar;
    if (!a.enabled("no-progress")) {
        bar.emplace("video", src.frame_count(), "frames");
    }
    int64_t index = 0, analysed = 0, face_rows = 0;
    do {
        if (index % opt.every == 0) {
            const std::vector<fer_face> & faces = engine.analyse(frame);
            summary.add(index, t_ms, faces);
            face_rows += static_cast<int64_t>(faces.size());
            if (csv) {
                std::fputs(timeline_csv_rows(index, t_ms, faces, engine).c_str(), csv.get());
            }
            if (json) {
                std::printf("%s\n    %s", analysed ? "," : "", frame_json(input, frame, index, t_ms, faces).c_str());
            }
            ++analysed;
        }
        if (writer.isOpened()) {
            // Frames between analyses show the last analysed faces.
            draw_faces(frame, engine.faces());
            writer.write(frame);
        }
        ++index;
        if (bar) {
            bar->update(index, std::to_string(summary.n_tracks()) + " tracks");
        }
    } while (src.read(frame, t_ms));
    if (bar) {
        bar->finish(std::to_string(index) + " frames, " + std::to_string(summary.n_tracks()) + " tracks");
    }

    if (writer.isOpened()) {
        writer.release();
        video_file->commit();
    }
    if (csv) {
        const bool ok = std::fflush(csv.get()) == 0 && !std::ferror(csv.get());
        if (std::fclose(csv.release()) != 0 || !ok) {
            throw runtime_error(csv_path + ": write failed (disk full?)");
        }
        csv_file->commit();
    }
    if (json) {
        std::printf("%s],\n  \"frames\": %lld,\n  \"frames_analysed\": %lld,\n  \"face_rows\": %lld,\n  \"tracks\": %s\n}\n",
                    analysed ? "\n  " : "", static_cast<long long>(index), static_cast<long long>(analysed),
                    static_cast<long long>(face_rows), summary.json(step_ms).c_str());
    } else {
        std::printf("%s: %lld frames (%lld analysed), %lld face rows, %zu tracks\n", input.c_str(),
                    static_cast<long long>(index), static_cast<long long>(analysed), static_cast<long long>(face_rows),
                    summary.n_tracks());
        summary.print_table(stdout, step_ms);
        if (!out_path.empty()) {
            std::printf("wrote %s\n", out_path.c_str());
        }
        if (!csv_path.empty()) {
            std::printf("wrote %s\n", csv_path.c_str());
        }
    }
    // A damaged or truncated file ends early: the container promised more
    // frames than the decoder gave. The results above cover the frames read;
    // say so, and exit 2 (bad input) so that scripts notice. Containers whose
    // count is an estimate (duration x rate) may be off by a frame or two.
    const int64_t expected = src.frame_count();
    if (expected > 0 && index + std::max<int64_t>(2, expected / 100) < expected) {
        std::fprintf(stderr, "warning: %s: %lld of %lld frames read; the file looks truncated or damaged\n",
                     terminal_safe(input).c_str(), static_cast<long long>(index), static_cast<long long>(expected));
        return 2;
    }
    return 0;
}

}  // namespace fer
