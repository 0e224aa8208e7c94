// fer video: faces, track ids and smoothed emotions through a video file,
// streamed frame by frame (memory does not grow with the video's length).
#include "args.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"
#include "face-draw.h"
#include "progress.h"
#include "shard.h"
#include "video-common.h"

#include <opencv2/videoio.hpp>

#include <cstdio>
#include <memory>
#include <optional>

namespace fer {

namespace {

// The pretty JSON of the track summary on one line: newlines and their
// indentation only occur between tokens (strings escape theirs).
std::string one_line_json(const std::string & s) {
    std::string o;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n') {
            while (i + 1 < s.size() && s[i + 1] == ' ') {
                ++i;
            }
            continue;
        }
        o += s[i];
    }
    return o;
}

// One video as one JSON line (--jsonl): what --json prints, on one line, with
// a fresh engine (track ids start over for every video). Throws input_error
// for a file that is not a readable video.
std::string video_jsonl(const std::string & input, const video_options & opt) {
    std::string error;
    if (!check_regular_file(input, &error)) {
        throw input_error(error);
    }
    frame_source src = frame_source::open_file(input);
    face_engine engine(opt);
    cv::Mat frame;
    double t_ms = 0;
    if (!src.read(frame, t_ms)) {
        throw input_error("the video has no frames (empty, or no decodable video stream)");
    }
    const double fps = src.fps() > 0 ? src.fps() : 25.0;
    track_summary summary;
    std::string timeline;
    int64_t index = 0, analysed = 0, face_rows = 0;
    do {
        if (index % opt.every == 0) {
            const std::vector<fer_face> & faces = engine.analyse(frame);
            summary.add(index, t_ms, faces);
            face_rows += static_cast<int64_t>(faces.size());
            timeline += (analysed ? ", " : "") + frame_json(input, frame, index, t_ms, faces);
            ++analysed;
        }
        ++index;
    } while (src.read(frame, t_ms));
    char head[96];
    std::snprintf(head, sizeof head, ", \"fps\": %.6g, \"every\": %d, \"frames\": %lld", fps, opt.every,
                  static_cast<long long>(index));
    std::string line = "{\"input\": \"" + json_escape(input) + "\"" + head + ", \"frames_analysed\": " +
                       std::to_string(analysed) + ", \"face_rows\": " + std::to_string(face_rows);
    // As for one video: a file that ends early is reported, its frames kept.
    const int64_t expected = src.frame_count();
    if (expected > 0 && index + std::max<int64_t>(2, expected / 100) < expected) {
        line += ", \"truncated\": true, \"frames_expected\": " + std::to_string(expected);
    }
    return line + ", \"tracks\": " + one_line_json(summary.json(1000.0 * opt.every / fps)) + ", \"timeline\": [" +
           timeline + "]}\n";
}

// --jsonl: many videos (arguments, --from), one line each in input order,
// or one shard of them (--shard).
int video_batch(const arg_parser & a, const video_options & opt) {
    std::vector<std::string> inputs = a.positionals();
    if (a.has("from")) {
        const std::vector<std::string> listed = read_input_list(a.get("from"));
        inputs.insert(inputs.end(), listed.begin(), listed.end());
    }
    if (inputs.empty()) {
        throw usage_error("video: no input videos (see fer video --help)");
    }
    if (a.has("shard")) {
        std::string fingerprint = opt.model + "\n" + opt.detector + "\n";
        for (const char * o : {"min-face", "max-faces", "min-confidence", "tta", "quality", "every", "smooth", "iou",
                               "max-missed"}) {
            fingerprint += std::string(o) + "=" + a.get(o) + "\n";
        }
        shard_job sj = shard_job_from(a, "video", "jsonl", "", fingerprint, 1);
        sj.show_progress = !a.enabled("no-progress");
        return run_shard(sj, inputs, [&](int, size_t, const std::string & input) {
            shard_item_result r;
            r.text = video_jsonl(input, opt);
            r.ok = true;
            return r;
        });
    }
    if (a.has("shard-dir") || a.enabled("resume")) {
        throw usage_error("video: --shard-dir and --resume go with --shard K/N");
    }
    size_t failed = 0;
    for (const auto & input : inputs) {
        try {
            std::fputs(video_jsonl(input, opt).c_str(), stdout);
            std::fflush(stdout);
        } catch (const error & e) {
            if (e.kind() != error_kind::input) {
                throw;
            }
            std::fprintf(stderr, "error: %s: %s\n", terminal_safe(input).c_str(), terminal_safe(e.what()).c_str());
            ++failed;
        }
    }
    if (failed) {
        std::fprintf(stderr, "%zu of %zu videos could not be read\n", failed, inputs.size());
        return 2;
    }
    return 0;
}

}  // namespace

int cmd_video(int argc, char ** argv) {
    arg_parser a("video", "INPUT [--out OUT.mp4] [--csv TIMELINE.csv | --json] [OPTIONS]\n"
                          "       fer video --jsonl INPUT ... [--from LIST] [--shard K/N --shard-dir DIR [--resume]]",
                 "Find the faces of every frame (or every Nth, --every) of a video file, follow them\n"
                 "with stable track ids and smooth their emotion over time. Writes an annotated\n"
                 "video (--out: .mp4 MPEG-4 or .avi Motion JPEG), a timeline with one row per face\n"
                 "per analysed frame (--csv FILE, or --json on stdout with the track summary),\n"
                 "and prints a summary per track. Outputs appear only when complete.");
    a.positional("INPUT", "a video file FFmpeg can read (with --jsonl: any number)", true);
    a.option("out", "OUT", "annotated video to write (.mp4 or .avi)");
    a.option("csv", "FILE", "timeline CSV: frame,time_ms,track_id,box,emotion,confidence,... one row per face");
    a.flag("json", "print the timeline and the track summary as one JSON object on stdout");
    a.flag("jsonl", "many videos (INPUT ..., --from): one JSON object per video and line, as --json\n"
                    "prints for one; the only output of --shard runs");
    a.flag("no-progress", "no progress bar on stderr");
    add_video_options(a, "1");
    add_shard_options(a);
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.enabled("jsonl")) {
        if (a.has("out") || a.has("csv") || a.enabled("json")) {
            throw usage_error("video: --jsonl writes one line per video; it takes no --out, --csv or --json");
        }
        return video_batch(a, read_video_options(a, "video"));
    }
    if (a.has("shard") || a.has("from")) {
        throw usage_error("video: --shard and --from take many videos: add --jsonl");
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
