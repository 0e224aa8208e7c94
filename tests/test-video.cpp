// End-to-end tests of `fer video` and `fer live --headless`: the real
// executable on a short video the test builds from samples/ faces (two faces
// drifting across a canvas, one frame with a different face in place of the
// first), then bad inputs. Needs the shipped TFLite model and OpenCV's
// cascades; skips with a message when either is absent.
#include "test-util.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string k_source_dir = FER_SOURCE_DIR;
const std::string k_cascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
const std::string k_model = k_source_dir + "/models/fernet.tflite";

constexpr int k_frames = 24;
constexpr double k_fps = 12.0;
constexpr int k_outlier_frame = 12;  // the first face is replaced by another person's for this frame

using fer_test::run_command;
using run_result = fer_test::command_result;  // stdout (and stderr when asked)

// Runs fer with `args`; stderr joins stdout unless with_stderr is false.
run_result run(const std::string & args, bool with_stderr = true) {
    return run_command(std::string(FER_EXE) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null"));
}

cv::Mat sample(const std::string & name) { return cv::imread(k_source_dir + "/samples/" + name, cv::IMREAD_COLOR); }

// Two FER2013 faces, upscaled, moving 3 px per frame in opposite directions
// (the detector's boxes move with them), written as Motion JPEG.
bool write_clip(const std::string & path, int n_frames) {
    const cv::Mat happy = sample("happy-PublicTest_10245799.jpg");
    const cv::Mat surprise = sample("surprise-PublicTest_10780425.jpg");
    const cv::Mat other = sample("neutral-PublicTest_10549803.jpg");
    if (happy.empty() || surprise.empty() || other.empty()) {
        return false;
    }
    cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), k_fps, cv::Size(640, 360));
    if (!w.isOpened()) {
        return false;
    }
    for (int i = 0; i < n_frames; ++i) {
        cv::Mat canvas(360, 640, CV_8UC3, cv::Scalar(110, 120, 130));
        const cv::Rect a(40 + 3 * i, 60, 144, 144), b(440 - 3 * i, 120, 120, 120);
        cv::Mat big;
        cv::resize(i == k_outlier_frame ? other : happy, big, a.size(), 0, 0, cv::INTER_LINEAR);
        big.copyTo(canvas(a));
        cv::resize(surprise, big, b.size(), 0, 0, cv::INTER_LINEAR);
        big.copyTo(canvas(b));
        w.write(canvas);
    }
    return true;
}

std::vector<std::string> split(const std::string & s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string f;
    while (std::getline(ss, f, sep)) out.push_back(f);
    return out;
}

// The timeline CSV as rows of named fields.
struct csv_table {
    std::vector<std::string> header;
    std::vector<std::map<std::string, std::string>> rows;
};

csv_table read_csv(const std::string & path) {
    csv_table t;
    std::ifstream in(path);
    std::string line;
    if (!std::getline(in, line)) return t;
    t.header = split(line, ',');
    while (std::getline(in, line)) {
        const auto f = split(line, ',');
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < t.header.size() && i < f.size(); ++i) row[t.header[i]] = f[i];
        t.rows.push_back(row);
    }
    return t;
}

int count(const std::string & s, const std::string & needle) {
    int n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
    return n;
}

class Video : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new fer_test::temp_dir("fer-video");
        clip_ = *dir_ / "clip.avi";
        clip_ok_ = write_clip(clip_, k_frames);
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (!fs::exists(k_cascade)) GTEST_SKIP() << "OpenCV cascades not installed (" << k_cascade << "; Debian: opencv-data)";
        if (!fs::exists(k_model)) GTEST_SKIP() << "shipped TFLite model missing: " << k_model;
        ASSERT_TRUE(clip_ok_) << "could not build the test video from samples/ (MJPG writer or samples missing)";
    }
    static std::string path(const std::string & name) { return *dir_ / name; }
    static fer_test::temp_dir * dir_;
    static std::string clip_;
    static bool clip_ok_;
};
fer_test::temp_dir * Video::dir_ = nullptr;
std::string Video::clip_;
bool Video::clip_ok_ = false;

TEST_F(Video, TimelineHasStableIdsMonotonicTimesAndSmoothedLabels) {
    const std::string out = path("annotated.avi"), csv = path("timeline.csv");
    const run_result r = run("video " + clip_ + " --out " + out + " --csv " + csv + " --no-progress");
    ASSERT_EQ(r.code, 0) << r.out;

    const csv_table t = read_csv(csv);
    ASSERT_FALSE(t.header.empty()) << csv;
    for (const char * col : {"frame", "time_ms", "track_id", "x", "y", "width", "height", "emotion", "confidence",
                             "frame_emotion", "angry", "neutral"}) {
        EXPECT_NE(std::find(t.header.begin(), t.header.end(), col), t.header.end()) << "column " << col;
    }
    // Two faces in each of the 24 frames.
    ASSERT_EQ(t.rows.size(), size_t(2 * k_frames)) << r.out;

    std::map<int, int> faces_per_frame;
    std::map<int, std::vector<std::map<std::string, std::string>>> by_track;
    double last_time = -1;
    int last_frame = -1;
    for (const auto & row : t.rows) {
        const int frame = std::stoi(row.at("frame"));
        const double time = std::stod(row.at("time_ms"));
        EXPECT_GE(frame, last_frame);
        EXPECT_GE(time, last_time);
        if (frame > last_frame) {
            EXPECT_GT(time, last_time);
        }
        EXPECT_NEAR(time, frame * 1000.0 / k_fps, 1e-3) << "frame " << frame;
        last_time = time;
        last_frame = frame;
        ++faces_per_frame[frame];
        by_track[std::stoi(row.at("track_id"))].push_back(row);
    }
    EXPECT_EQ(faces_per_frame.size(), size_t(k_frames));
    for (const auto & [frame, n] : faces_per_frame) EXPECT_EQ(n, 2) << "frame " << frame;

    // Exactly two tracks, ids 1 and 2, each following one face: the left face
    // moves right, the right one left, and neither jumps to the other's place.
    ASSERT_EQ(by_track.size(), 2u);
    ASSERT_TRUE(by_track.count(1) && by_track.count(2));
    for (const auto & [id, rows] : by_track) {
        EXPECT_EQ(rows.size(), size_t(k_frames)) << "track " << id;
        // 3 px per frame, plus the detector's box jitter (its size varies by a pyramid step).
        const bool left = std::stoi(rows.front().at("x")) < 320;
        int prev_x = std::stoi(rows.front().at("x"));
        for (const auto & row : rows) {
            const int x = std::stoi(row.at("x"));
            EXPECT_EQ(x < 320, left) << "track " << id << " frame " << row.at("frame");
            EXPECT_LE(std::abs(x - prev_x), 20) << "track " << id << " frame " << row.at("frame");
            prev_x = x;
        }
    }

    // The left track: the frame with another person's face has its own raw
    // label, but the smoothed label holds through it.
    const int left_id = std::stoi(by_track[1].front().at("x")) < 320 ? 1 : 2;
    const auto & left = by_track[left_id];
    const std::string label = left.front().at("emotion");
    const auto & outlier = left[k_outlier_frame];
    ASSERT_EQ(std::stoi(outlier.at("frame")), k_outlier_frame);
    ASSERT_NE(outlier.at("frame_emotion"), left.front().at("frame_emotion"))
        << "precondition: the model must label the outlier face differently, or this test proves nothing";
    for (const auto & row : left) EXPECT_EQ(row.at("emotion"), label) << "frame " << row.at("frame");
    // Smoothed confidence drops on the outlier frame but stays the top class.
    EXPECT_LT(std::stod(outlier.at("confidence")), std::stod(left[k_outlier_frame - 1].at("confidence")));

    // The summary table: one line per track with its dominant emotion.
    EXPECT_NE(r.out.find("2 tracks"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("dominant"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(label + " 100%"), std::string::npos) << r.out;

    // The annotated video: all frames, and no temporary file left behind.
    cv::VideoCapture cap(out);
    ASSERT_TRUE(cap.isOpened()) << out;
    int n = 0;
    cv::Mat f;
    while (cap.read(f)) ++n;
    EXPECT_EQ(n, k_frames);
    for (const auto & e : fs::directory_iterator(dir_->path())) {
        EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    }
}

TEST_F(Video, WithoutSmoothingTheOutlierFrameFlipsTheLabel) {
    // The control for the test above: with --smooth 1 the label follows each frame.
    const std::string csv = path("raw.csv");
    const run_result r = run("video " + clip_ + " --smooth 1 --csv " + csv + " --no-progress");
    ASSERT_EQ(r.code, 0) << r.out;
    const csv_table t = read_csv(csv);
    std::set<std::string> labels;
    for (const auto & row : t.rows) {
        EXPECT_EQ(row.at("emotion"), row.at("frame_emotion"));
        if (std::stoi(row.at("x")) < 320) labels.insert(row.at("emotion"));
    }
    EXPECT_GE(labels.size(), 2u);
}

TEST_F(Video, JsonHasTimelineAndTrackSummary) {
    const run_result r = run("video " + clip_ + " --json --every 3 --no-progress", false);
    ASSERT_EQ(r.code, 0) << r.out;
    // Frames 0, 3, ..., 21: 8 analysed frames of 2 faces.
    EXPECT_NE(r.out.find("\"frames\": 24"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"frames_analysed\": 8"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"face_rows\": 16"), std::string::npos) << r.out;
    EXPECT_EQ(count(r.out, "\"frame\": "), 8);
    EXPECT_NE(r.out.find("\"frame\": 21,"), std::string::npos);
    EXPECT_EQ(r.out.find("\"frame\": 22,"), std::string::npos);
    EXPECT_EQ(count(r.out, "\"dominant_emotion\""), 2);
    // Each track was seen from frame 0 to 21: 8 analysed frames, lasting
    // (21 - 0) / 12 s plus one analysis step (3 frames) = 2000 ms.
    EXPECT_EQ(count(r.out, "\"frames_analysed\": 8, \"start_ms\": 0.000"), 2) << r.out;
    EXPECT_EQ(count(r.out, "\"duration_ms\": 2000.000"), 2) << r.out;
    EXPECT_EQ(r.out.front(), '{');
    EXPECT_EQ(r.out.substr(r.out.size() - 2), "}\n");
}

TEST_F(Video, LiveHeadlessPrintsOneJsonLinePerFrame) {
    const run_result r = run("live --headless --input " + clip_, false);
    ASSERT_EQ(r.code, 0) << r.out;
    const auto lines = split(r.out, '\n');
    ASSERT_EQ(lines.size(), size_t(k_frames)) << r.out;
    // The picture object of the runtime commands (tools/fer/face-json.h) plus the live fields.
    const std::regex head_re("^\\{\"file\": \"[^\"]*clip.avi\", \"frame\": (\\d+), \"time\": [0-9.]+, \"width\": 640, "
                             "\"height\": 360, \"faces\": \\[");
    const std::regex tail_re("\"time_ms\": ([0-9.]+), \"fps\": [0-9.]+, \"analysed\": true\\}$");
    double last = -1;
    for (int i = 0; i < k_frames; ++i) {
        const std::string & line = lines[size_t(i)];
        std::smatch m;
        ASSERT_TRUE(std::regex_search(line, m, head_re)) << line;
        EXPECT_EQ(std::stoi(m[1]), i);
        ASSERT_TRUE(std::regex_search(line, m, tail_re)) << line;
        EXPECT_GT(std::stod(m[1]), last);
        last = std::stod(m[1]);
        EXPECT_EQ(count(line, "\"track_id\": 1,"), 1) << line;
        EXPECT_EQ(count(line, "\"track_id\": 2,"), 1) << line;
        EXPECT_EQ(count(line, "\"smoothed_emotion\""), 2) << line;
    }
    // --max-frames stops early.
    const run_result some = run("live --headless --max-frames 5 --input " + clip_, false);
    ASSERT_EQ(some.code, 0);
    EXPECT_EQ(split(some.out, '\n').size(), 5u);
    // Flip test-time augmentation: the same faces, one line per frame.
    const run_result flipped = run("live --headless --max-frames 5 --tta flip --input " + clip_, false);
    ASSERT_EQ(flipped.code, 0);
    EXPECT_EQ(split(flipped.out, '\n').size(), 5u);
    EXPECT_EQ(count(flipped.out, "\"track_id\": 1,"), count(some.out, "\"track_id\": 1,")) << flipped.out;
}

TEST_F(Video, BadInputsGiveClearMessages) {
    // A text file named like a video.
    const std::string text = path("notes.avi");
    std::ofstream(text) << "this is not a video\n";
    run_result r = run("video " + text + " --no-progress");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(text), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not a video"), std::string::npos) << r.out;

    // A video container with no frame: written and closed without a frame.
    const std::string empty = path("empty.avi");
    { cv::VideoWriter w(empty, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), k_fps, cv::Size(64, 64)); }
    r = run("video " + empty + " --out " + path("never.mp4") + " --no-progress");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(empty), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(path("never.mp4")));

    r = run("video " + path("missing.mp4"));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;

    r = run("live --headless --input " + text);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("not a video"), std::string::npos) << r.out;

    r = run("live --camera 99 --headless");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("camera 99"), std::string::npos) << r.out;

    r = run("video " + clip_ + " --model " + text);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(text), std::string::npos) << r.out;
}

TEST_F(Video, NoDisplayIsSaidClearly) {
    // Whatever the test's own environment has, run without a display.
    const run_result r =
        run_command("env -u DISPLAY -u WAYLAND_DISPLAY " + std::string(FER_EXE) + " live --input " + clip_ + " 2>&1");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("no display"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("--headless"), std::string::npos) << r.out;
}

TEST_F(Video, UsageErrors) {
    for (const std::string & args : std::vector<std::string>{"video", "video " + clip_ + " --every 0", "video " + clip_ + " --smooth 1.5",
                                     "video " + clip_ + " --out x.xyz", "video " + clip_ + " --iou 0",
                                     "video " + clip_ + " --tta mirror",
                                     "live --camera 0 --input " + clip_}) {
        const run_result r = run(args);
        EXPECT_EQ(r.code, 1) << args << "\n" << r.out;
    }
}

}  // namespace

// A clip cut short (the AVI header still promises every frame): the frames
// that are there are analysed, then a warning names the file and the frames
// read against those expected, and the exit code is 2.
TEST_F(Video, TruncatedFileIsReported) {
    const std::string cut = path("cut.avi");
    {
        std::ifstream in(clip_, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    run_result r = run("video " + cut + " --no-progress");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("warning: " + cut + ": "), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(" of " + std::to_string(k_frames) + " frames read"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
    // The whole clip: no warning, exit 0.
    r = run("video " + clip_ + " --no-progress");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(r.out.find("truncated"), std::string::npos) << r.out;
}
