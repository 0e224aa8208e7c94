// fer live: the camera (or a video file) in a window with face boxes and the
// main face's smoothed emotion in large letters at the bottom, as the
// original phone app showed it. --headless prints one JSON line per frame
// instead, for machines without a display (and for the tests).
#include "args.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"
#include "face-draw.h"
#include "plots.h"
#include "video-common.h"

#include <opencv2/highgui.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace fer {

namespace {

bool have_display() {
    const char * x = std::getenv("DISPLAY");
    const char * wl = std::getenv("WAYLAND_DISPLAY");
    return (x && *x) || (wl && *wl);
}

// Frames per second over about the last second, updated every frame.
class fps_meter {
public:
    double tick() {
        const auto now = std::chrono::steady_clock::now();
        if (n_ > 0) {
            const double dt = std::chrono::duration<double>(now - last_).count();
            // EMA of the frame interval; weight 0.1 is about a 10-frame memory.
            interval_ = n_ == 1 ? dt : 0.9 * interval_ + 0.1 * dt;
        }
        last_ = now;
        ++n_;
        return interval_ > 0 ? 1.0 / interval_ : 0.0;
    }

private:
    std::chrono::steady_clock::time_point last_;
    double interval_ = 0;
    int64_t n_ = 0;
};

std::string snapshot_name(const std::string & dir, int64_t frame) {
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    return (std::filesystem::path(dir) / ("fer-snapshot-" + std::string(stamp) + "-" + std::to_string(frame) + ".png"))
        .string();
}

}  // namespace

int cmd_live(int argc, char ** argv) {
    arg_parser a("live", "[--camera N | --input VIDEO] [--headless] [OPTIONS]",
                 "Show the camera with face boxes and the smoothed emotion of the main (largest)\n"
                 "face at the bottom of the view, with the frame rate. Keys: q or Esc quits, s saves\n"
                 "a snapshot (PNG) into --snapshots. Needs a display; --headless prints one JSON\n"
                 "line per frame on stdout instead: the picture object of fer predict --json with\n"
                 "\"frame\", \"time\", \"time_ms\", \"fps\" and \"analysed\" (faces carry track ids).");
    a.option("camera", "N", "camera index (/dev/videoN)", "0");
    a.option("input", "VIDEO", "read a video file instead of a camera");
    a.flag("headless", "no window: one JSON line per frame on stdout");
    a.option("max-frames", "N", "stop after N frames (0: until the input ends or q)", "0");
    a.option("snapshots", "DIR", "folder for the snapshots saved with s", ".");
    add_video_options(a, "1");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.positionals().empty()) {
        throw usage_error("live: unexpected argument '" + a.positionals()[0] + "' (use --input VIDEO for a file)");
    }
    if (a.has("camera") && a.has("input")) {
        throw usage_error("live: --camera and --input exclude each other");
    }
    const video_options opt = read_video_options(a, "live");
    const long long camera = a.get_int("camera");
    if (camera < 0 || camera > 1000) {
        throw usage_error("live: --camera must be in 0..1000");
    }
    const long long max_frames = a.get_int("max-frames");
    if (max_frames < 0) {
        throw usage_error("live: --max-frames must be >= 0");
    }
    const bool headless = a.enabled("headless");
    if (!headless && !have_display()) {
        throw input_error("live: no display (DISPLAY and WAYLAND_DISPLAY are not set); run with --headless "
                          "for JSON lines, or use fer video for files");
    }

    frame_source src = a.has("input") ? frame_source::open_file(a.get("input"))
                                      : frame_source::open_camera(static_cast<int>(camera));
    face_engine engine(opt);
    cv::Mat frame;
    double t_ms = 0;
    if (!src.read(frame, t_ms)) {
        throw input_error(src.name() + (a.has("input") ? ": the video has no frames" : ": the camera gives no frames"));
    }
    const char * window = "fer live";
    if (!headless) {
        cv::namedWindow(window, cv::WINDOW_AUTOSIZE);
    }
    // A file shown in a window plays at its own rate; a camera paces itself.
    const double file_period_ms = a.has("input") && src.fps() > 0 ? 1000.0 / src.fps() : 0.0;
    fps_meter meter;
    int64_t index = 0;
    do {
        const auto started = std::chrono::steady_clock::now();
        const bool analyse = index % opt.every == 0;
        if (analyse) {
            engine.analyse(frame);
        }
        const double fps = meter.tick();
        const std::vector<fer_face> & faces = engine.faces();
        if (headless) {
            char extra[64];
            std::snprintf(extra, sizeof extra, ", \"fps\": %.2f, \"analysed\": %s", fps, analyse ? "true" : "false");
            std::printf("%s\n", frame_json(src.name(), frame, index, t_ms, faces, extra).c_str());
            std::fflush(stdout);
        } else {
            draw_faces(frame, faces);
            char corner[32];
            std::snprintf(corner, sizeof corner, "%.1f FPS", fps);
            // faces[0] is the largest: the person in front of the camera.
            const std::string label = faces.empty() ? "no face" : engine.label(faces[0].smoothed_class);
            draw_banner(frame, label, corner);
            cv::imshow(window, frame);
            const double spent =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
            const int key = cv::waitKey(std::max(1, static_cast<int>(file_period_ms - spent))) & 0xff;
            if (key == 'q' || key == 27) {
                break;
            }
            if (key == 's') {
                const std::string path = snapshot_name(a.get("snapshots"), index);
                write_png(path, frame);
                std::fprintf(stderr, "saved %s\n", path.c_str());
            }
            if (cv::getWindowProperty(window, cv::WND_PROP_VISIBLE) < 1) {
                break;  // the window was closed
            }
        }
        ++index;
    } while ((max_frames == 0 || index < max_frames) && src.read(frame, t_ms));
    if (!headless) {
        cv::destroyAllWindows();
    }
    return 0;
}

}  // namespace fer
