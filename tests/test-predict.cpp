// `fer predict` and the pieces the runtime commands share: photo loading
// (tools/fer/image-load, image-header: header checks before decoding, EXIF
// orientation, broken files) and the JSON/CSV form of a picture's faces
// (tools/fer/face-json), faces drawn on pictures (tools/fer/face-draw); then
// end-to-end runs of the real executable.
#include "cli-common.h"
#include "face-draw.h"
#include "face-json.h"
#include "image-header.h"
#include "image-load.h"

#include "fer-pipeline.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sample-faces.h"
#include "test-util.h"

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> encode(const cv::Mat & img, const std::string & ext) {
    std::vector<uint8_t> b;
    EXPECT_TRUE(cv::imencode(ext, img, b)) << ext;
    return b;
}

cv::Mat test_picture(int w, int h) {
    cv::Mat m(h, w, CV_8UC3);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            m.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(x * 5), uint8_t(y * 3), uint8_t((x + y) * 2));
        }
    }
    return m;
}

// A PNG signature and IHDR chunk claiming w x h, with no pixel data: what a
// hostile upload looks like.
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
    std::vector<uint8_t> b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    for (uint32_t v : {w, h}) {
        for (int s = 24; s >= 0; s -= 8) {
            b.push_back(uint8_t(v >> s));
        }
    }
    for (uint8_t v : {8, 2, 0, 0, 0, 0, 0, 0, 0}) {  // depth, colour type, methods, CRC (unchecked here)
        b.push_back(v);
    }
    return b;
}

TEST(ImageHeader, SizesOfEveryFormatMatchTheEncodedPicture) {
    const cv::Mat img = test_picture(37, 23);
    for (const char * ext : {".png", ".jpg", ".bmp", ".webp", ".ppm", ".pgm", ".tiff"}) {
        cv::Mat src = img;
        if (std::string(ext) == ".pgm") {
            cv::cvtColor(img, src, cv::COLOR_BGR2GRAY);
        }
        const std::vector<uint8_t> b = encode(src, ext);
        fer::image_header h;
        std::string err;
        ASSERT_TRUE(fer::read_image_header(b.data(), b.size(), &h, &err)) << ext << ": " << err;
        EXPECT_EQ(h.width, 37) << ext;
        EXPECT_EQ(h.height, 23) << ext;
    }
    // Lossless WebP has its own header layout.
    std::vector<uint8_t> b;
    ASSERT_TRUE(cv::imencode(".webp", img, b, {cv::IMWRITE_WEBP_QUALITY, 101}));
    fer::image_header h;
    std::string err;
    ASSERT_TRUE(fer::read_image_header(b.data(), b.size(), &h, &err)) << err;
    EXPECT_EQ(h.width, 37);
    EXPECT_EQ(h.height, 23);
}

TEST(ImageLoad, HugeHeaderIsRefusedBeforeDecoding) {
    const std::vector<uint8_t> b = png_header(20000, 20000);
    fer::loaded_image img;
    std::string err;
    EXPECT_FALSE(fer::load_image_buffer(b.data(), b.size(), &img, &err));
    EXPECT_NE(err.find("20000x20000"), std::string::npos) << err;
    EXPECT_NE(err.find("100 megapixels"), std::string::npos) << err;
    EXPECT_NE(err.find("before decoding"), std::string::npos) << err;
    // Just under the limit passes the header check and fails on the missing data.
    const std::vector<uint8_t> ok = png_header(10000, 10000);
    EXPECT_FALSE(fer::load_image_buffer(ok.data(), ok.size(), &img, &err));
    EXPECT_EQ(err.find("megapixels"), std::string::npos) << err;
}

TEST(ImageLoad, BrokenInputsGiveClearReasons) {
    fer::loaded_image img;
    std::string err;
    struct bad {
        std::vector<uint8_t> bytes;
        const char * needle;
    };
    std::vector<uint8_t> png = encode(test_picture(64, 64), ".png");
    std::vector<uint8_t> jpg = encode(test_picture(64, 64), ".jpg");
    const std::string text = "this is not an image at all";
    const std::vector<bad> cases = {
        {{}, "empty file"},
        {std::vector<uint8_t>(text.begin(), text.end()), "not an image"},
        {std::vector<uint8_t>(png.begin(), png.begin() + long(png.size() / 2)), "truncated PNG"},
        {std::vector<uint8_t>(jpg.begin(), jpg.begin() + long(jpg.size() / 2)), "truncated JPEG"},
        {std::vector<uint8_t>(jpg.begin(), jpg.begin() + 10), "truncated JPEG"},
        {std::vector<uint8_t>(png.begin(), png.begin() + 12), "truncated PNG"},
        {png_header(0, 10), "zero-size"},
    };
    for (const bad & c : cases) {
        err.clear();
        EXPECT_FALSE(fer::load_image_buffer(c.bytes.data(), c.bytes.size(), &img, &err)) << c.needle;
        EXPECT_NE(err.find(c.needle), std::string::npos) << "'" << err << "' should say " << c.needle;
    }
    EXPECT_FALSE(fer::load_image_file("/nonexistent/x.png", &img, &err));
    EXPECT_NE(err.find("cannot open"), std::string::npos) << err;
}

TEST(ImageLoad, DecodesColourAndGreyLikeOpenCV) {
    for (auto [w, h] : std::vector<std::pair<int, int>>{{1, 1}, {64, 48}}) {
        const cv::Mat src = test_picture(w, h);
        const std::vector<uint8_t> b = encode(src, ".png");
        fer::loaded_image img;
        std::string err;
        ASSERT_TRUE(fer::load_image_buffer(b.data(), b.size(), &img, &err)) << err;
        EXPECT_EQ(img.width, w);
        EXPECT_EQ(img.height, h);
        EXPECT_STREQ(img.format, "PNG");
        EXPECT_EQ(cv::norm(img.bgr, src, cv::NORM_INF), 0);
        cv::Mat grey;
        cv::cvtColor(src, grey, cv::COLOR_BGR2GRAY);
        EXPECT_EQ(cv::norm(img.grey, grey, cv::NORM_INF), 0);
    }
}

// A JPEG with an APP1 Exif segment saying "rotate 90 degrees clockwise to
// display" (orientation 6), inserted after the SOI marker.
std::vector<uint8_t> jpeg_with_orientation(const cv::Mat & img, uint16_t orientation) {
    std::vector<uint8_t> j = encode(img, ".jpg");
    std::vector<uint8_t> tiff = {'I', 'I', 42, 0, 8, 0, 0, 0,               // little-endian, IFD at 8
                                 1, 0,                                      // one entry
                                 0x12, 0x01, 3, 0, 1, 0, 0, 0,              // Orientation, SHORT, count 1
                                 uint8_t(orientation), 0, 0, 0, 0, 0, 0, 0};  // value, next IFD 0
    std::vector<uint8_t> app1 = {0xFF, 0xE1, 0, 0, 'E', 'x', 'i', 'f', 0, 0};
    app1.insert(app1.end(), tiff.begin(), tiff.end());
    const size_t len = app1.size() - 2;
    app1[2] = uint8_t(len >> 8);
    app1[3] = uint8_t(len);
    j.insert(j.begin() + 2, app1.begin(), app1.end());
    return j;
}

TEST(ImageLoad, ExifOrientationIsApplied) {
    cv::Mat src(20, 40, CV_8UC3, cv::Scalar(40, 40, 40));
    src(cv::Rect(0, 0, 10, 20)).setTo(cv::Scalar(250, 250, 250));  // a bright left edge
    const std::vector<uint8_t> b = jpeg_with_orientation(src, 6);
    fer::loaded_image img;
    std::string err;
    ASSERT_TRUE(fer::load_image_buffer(b.data(), b.size(), &img, &err)) << err;
    EXPECT_EQ(img.width, 20);
    EXPECT_EQ(img.height, 40);
    // Rotated clockwise, the left edge is on top.
    EXPECT_GT(img.grey.at<uint8_t>(2, 10), 200);
    EXPECT_LT(img.grey.at<uint8_t>(37, 10), 100);
}

fer_face make_face(int cls, float conf, int uncertain, int track) {
    fer_face f;
    std::memset(&f, 0, sizeof f);
    f.box = {10, 20, 30, 40, 5};
    f.crop_x = 7;
    f.crop_y = 18;
    f.crop_size = 36;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        f.result.probabilities[c] = c == cls ? conf : (1 - conf) / 6;
        f.smoothed[c] = f.result.probabilities[c];
    }
    f.result.top_class = cls;
    f.result.confidence = conf;
    f.uncertain = uncertain;
    f.track_id = track;
    f.smoothed_class = cls;
    return f;
}

TEST(FaceJson, ObjectHasEveryField) {
    const std::vector<fer_face> faces = {make_face(FER_HAPPY, 0.75f, 0, -1), make_face(FER_SAD, 0.25f, 1, -1)};
    const std::string j = fer::faces_to_json("dir/a \"b\".jpg", 640, 480, faces);
    EXPECT_EQ(j.rfind("{\"file\": \"dir/a \\\"b\\\".jpg\", \"width\": 640, \"height\": 480, \"faces\": [{\"box\": "
                      "[10, 20, 30, 40], \"emotion\": \"happy\", \"confidence\": 0.750000, \"uncertain\": false, "
                      "\"probabilities\": {\"angry\": 0.041667, \"disgust\": 0.041667, \"fear\": 0.041667, "
                      "\"happy\": 0.750000,",
                      0),
              0u)
        << j;
    EXPECT_NE(j.find("\"emotion\": \"uncertain\", \"confidence\": 0.250000, \"uncertain\": true"), std::string::npos)
        << j;
    EXPECT_EQ(j.find("track_id"), std::string::npos) << "untracked faces have no track_id";
    EXPECT_EQ(j.find("crop"), std::string::npos);
    EXPECT_EQ(j.substr(j.size() - 3), "}]}");

    fer::face_json_options o;
    o.crop = true;
    const std::string t = fer::faces_to_json("v.mp4", 8, 8, {make_face(FER_ANGRY, 0.5f, 0, 3)}, o);
    EXPECT_NE(t.find("\"track_id\": 3, \"smoothed\": {\"angry\": 0.500000"), std::string::npos) << t;
    EXPECT_NE(t.find("\"smoothed_emotion\": \"angry\""), std::string::npos) << t;
    EXPECT_NE(t.find("\"crop\": [7, 18, 36]"), std::string::npos) << t;
    EXPECT_EQ(fer::faces_to_json("x.png", 1, 1, {}), "{\"file\": \"x.png\", \"width\": 1, \"height\": 1, \"faces\": []}");
}

size_t count_char(const std::string & s, char c) {
    size_t n = 0;
    for (char x : s) {
        n += x == c;
    }
    return n;
}

TEST(FaceJson, CsvRowsHaveTheHeadersColumns) {
    const std::string head = fer::face_csv_header();
    const size_t commas = count_char(head, ',');
    EXPECT_EQ(commas, 28u) << head;  // 18 columns, the detector's score and 5 landmarks (x, y)
    EXPECT_NE(head.find(",score,right_eye_x,right_eye_y,left_eye_x,"), std::string::npos) << head;
    EXPECT_NE(head.find(",mouth_left_x,mouth_left_y\n"), std::string::npos) << head;
    const std::string rows = fer::faces_to_csv("a,b.jpg", 64, 32, {make_face(FER_FEAR, 0.6f, 0, -1), make_face(FER_SAD, 0.2f, 1, -1)});
    EXPECT_EQ(count_char(rows, '\n'), 2u);
    EXPECT_EQ(rows.rfind("\"a,b.jpg\",64,32,0,10,20,30,40,fear,0.600000,0,", 0), 0u) << rows;
    EXPECT_NE(rows.find("\n\"a,b.jpg\",64,32,1,10,20,30,40,uncertain,0.200000,1,"), std::string::npos) << rows;
    const std::string none = fer::faces_to_csv("n.jpg", 5, 5, {});
    EXPECT_EQ(count_char(none, ','), commas) << none;
    EXPECT_EQ(count_char(rows, ','), 2 * commas + 2) << "the quoted file name holds one comma per row";
    // A YuNet face: score and landmarks fill the last 11 columns, in the header's order.
    fer_face y = make_face(FER_HAPPY, 0.9f, 0, -1);
    y.box.score = 0.875f;
    y.box.n_landmarks = 5;
    for (int k = 0; k < 10; ++k) {
        y.box.landmarks[k] = 100.0f + static_cast<float>(k);
    }
    const std::string yr = fer::faces_to_csv("y.jpg", 64, 32, {y});
    EXPECT_EQ(count_char(yr, ','), commas) << yr;
    EXPECT_NE(yr.find(",0.875000,100.000000,101.000000,102.000000,103.000000,104.000000,105.000000,106.000000,"
                      "107.000000,108.000000,109.000000\n"), std::string::npos) << yr;
    const std::string yj = fer::faces_to_json("y.jpg", 64, 32, {y});
    EXPECT_NE(yj.find("\"score\": 0.875000, \"landmarks\": [[100.000000, 101.000000], [102.000000, 103.000000]"),
              std::string::npos) << yj;
    EXPECT_EQ(fer::faces_to_json("h.jpg", 64, 32, {make_face(FER_SAD, 0.5f, 0, -1)}).find("landmarks"), std::string::npos)
        << "a Haar face has no landmarks field";
}

// Issue 16: a CSV cell that a spreadsheet would run as a formula gets a
// leading quote; JSON stays valid UTF-8 whatever bytes a name holds.
TEST(FaceJson, CsvNeutralisesFormulasAndJsonReplacesInvalidUtf8) {
    for (const char * name : {"=1+2.jpg", "+x.jpg", "-2.jpg", "@s.jpg"}) {
        EXPECT_EQ(fer::faces_to_csv(name, 10, 10, {}).rfind(std::string("'") + name + ",", 0), 0u) << name;
    }
    EXPECT_EQ(fer::faces_to_csv("a=b.jpg", 10, 10, {}).rfind("a=b.jpg,", 0), 0u);
    EXPECT_EQ(fer::faces_to_csv("=a,b.jpg", 10, 10, {}).rfind("\"'=a,b.jpg\",", 0), 0u);
    const std::string fffd = "\xEF\xBF\xBD";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"caf\xc3\xa9", "caf\xc3\xa9"},                 // valid 2-byte: kept
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},       // valid 4-byte: kept
        {"\xff", fffd},                                  // never valid
        {"\xc0\x80", fffd + fffd},                       // overlong NUL
        {"\xed\xa0\x80", fffd + fffd + fffd},            // UTF-16 surrogate
        {"\xf4\x90\x80\x80", fffd + fffd + fffd + fffd}, // above U+10FFFF
        {"a\xe2\x82", "a" + fffd + fffd},                 // cut short
        {"\x80x", fffd + "x"},                           // stray continuation byte
        {"\"\\\n\x7f", "\\\"\\\\\\u000a\\u007f"},          // escapes
    };
    for (const auto & [in, want] : cases) {
        EXPECT_EQ(fer::json_escape(in), want);
    }
    EXPECT_NE(fer::faces_to_json("\xff.jpg", 1, 1, {}).find("\"file\": \"" + fffd + ".jpg\""), std::string::npos);
}

TEST(ImageHeader, SidesThatWouldOverflowAPixelCountAreRefused) {
    // A little-endian TIFF whose width and length tags claim 0xFFFFFFFF.
    const std::string tiff("II*\0\x08\0\0\0\x02\0"
                           "\x00\x01\x04\0\x01\0\0\0\xff\xff\xff\xff"
                           "\x01\x01\x04\0\x01\0\0\0\xff\xff\xff\xff"
                           "\0\0\0\0",
                           38);
    fer::image_header h;
    std::string err;
    EXPECT_FALSE(fer::read_image_header(reinterpret_cast<const uint8_t *>(tiff.data()), tiff.size(), &h, &err));
    EXPECT_NE(err.find("absurd size"), std::string::npos) << err;
    EXPECT_NE(err.find("4294967295x4294967295"), std::string::npos) << err;
}

TEST(FaceDraw, CaptionsFollowTrackingAndUncertainty) {
    EXPECT_EQ(fer::face_caption(make_face(FER_HAPPY, 0.874f, 0, -1)), "happy 87%");
    EXPECT_EQ(fer::face_caption(make_face(FER_SAD, 0.41f, 1, -1)), "uncertain 41%");
    // Tracked: the smoothed emotion, even when this frame's result differs.
    fer_face t = make_face(FER_ANGRY, 0.6f, 1, 3);
    t.smoothed_class = FER_FEAR;
    t.smoothed[FER_FEAR] = 0.55f;
    EXPECT_EQ(fer::face_caption(t), "#3 fear 55%");
}

TEST(FaceDraw, BoxInTheEmotionsColourAndCamOnlyInsideItsSquare) {
    const cv::Mat blank(120, 160, CV_8UC3, cv::Scalar(0, 0, 0));
    fer_face f = make_face(FER_HAPPY, 0.9f, 0, -1);
    f.box = {60, 60, 40, 40, 5};  // room above for the caption
    f.crop_x = 50;
    f.crop_y = 50;
    f.crop_size = 60;
    cv::Mat img = blank.clone();
    fer::draw_faces(img, {f});
    const cv::Scalar happy = fer::emotion_colour(FER_HAPPY);
    EXPECT_EQ(img.at<cv::Vec3b>(80, 60), cv::Vec3b(uint8_t(happy[0]), uint8_t(happy[1]), uint8_t(happy[2])))
        << "left edge of the box";
    EXPECT_EQ(img.at<cv::Vec3b>(80, 80), cv::Vec3b(0, 0, 0)) << "inside of the box untouched";
    EXPECT_GT(cv::norm(img(cv::Rect(60, 30, 100, 29)), cv::NORM_L1), 0) << "caption above the box";

    f.uncertain = 1;
    img = blank.clone();
    fer::draw_faces(img, {f});
    EXPECT_EQ(img.at<cv::Vec3b>(80, 60), cv::Vec3b(128, 128, 128)) << "uncertain faces are grey";

    // A map over a square that reaches outside the picture: blended inside
    // the square only, and asked for only with cam.
    f.uncertain = 0;
    f.crop_x = -20;
    f.crop_y = 70;
    f.crop_size = 70;
    f.cam_h = f.cam_w = 6;
    for (int i = 0; i < 36; ++i) {
        f.cam[i] = float(i);
    }
    img = blank.clone();
    fer::draw_faces(img, {f}, false);
    EXPECT_EQ(cv::norm(img(cv::Rect(0, 100, 40, 20)), cv::NORM_L1), 0) << "no map without cam";
    img = blank.clone();
    fer::draw_faces(img, {f}, true);
    EXPECT_GT(cv::norm(img(cv::Rect(0, 101, 40, 19)), cv::NORM_L1), 0) << "map below the box, inside the square";
    EXPECT_EQ(cv::norm(img(cv::Rect(0, 0, 50, 55)), cv::NORM_L1), 0) << "nothing outside the square and the box";
}

// A face with landmarks was classified from a turned square: its map is drawn
// turned the same way (the hot corner of the map lands where the crop's
// corner is in the picture), covering the turned square and nothing of the
// upright square's corners.
TEST(FaceDraw, AlignedFacesMapFollowsTheTurnedCrop) {
    const double deg = 30, scale = 3, cx = 200, cy = 160;
    const double r = deg * 3.14159265358979323846 / 180.0, co = std::cos(r), si = std::sin(r);
    auto to_image = [&](double u, double v) {  // crop point -> picture point
        const double du = (u - 24) * scale, dv = (v - 24) * scale;
        return cv::Point2d(cx + co * du - si * dv, cy + si * du + co * dv);
    };
    fer_face f = make_face(FER_HAPPY, 0.9f, 1, -1);  // uncertain: a grey box and caption, no red or blue
    f.box = {150, 110, 100, 100, 0, 0.9f};
    f.box.n_landmarks = 5;
    for (int k = 0; k < 5; ++k) {
        const cv::Point2d p = to_image(FER_CANONICAL_LANDMARKS[2 * k], FER_CANONICAL_LANDMARKS[2 * k + 1]);
        f.box.landmarks[2 * k] = static_cast<float>(p.x);
        f.box.landmarks[2 * k + 1] = static_cast<float>(p.y);
    }
    f.crop_size = 144;
    f.crop_x = 128;
    f.crop_y = 88;
    f.cam_h = f.cam_w = 6;
    for (int i = 0; i < 36; ++i) {
        f.cam[i] = i == 35 ? 100.0f : 0.0f;  // hot only in the bottom-right cell
    }
    cv::Mat img(320, 400, CV_8UC3, cv::Scalar(0, 0, 0));
    fer::draw_faces(img, {f}, true);
    // The map's pixels are told from the grey box and caption by colour.
    int covered = 0;
    cv::Point hottest(0, 0);
    int best = -1;
    for (int y = 0; y < img.rows; ++y) {
        for (int x = 0; x < img.cols; ++x) {
            const cv::Vec3b v = img.at<cv::Vec3b>(y, x);
            covered += v[0] > 20 && v[1] < 10;  // JET's cold blue, blended at 0.4
            if (v[2] - v[0] > best) {
                best = v[2] - v[0];
                hottest = {x, y};
            }
        }
    }
    const cv::Point2d want = to_image(44, 44);  // the hot cell's centre region in the crop
    EXPECT_LT(cv::norm(cv::Point2d(hottest) - want), 20.0) << "hottest at " << hottest << ", crop corner at " << want;
    const double area = (48 * scale) * (48 * scale);
    EXPECT_GT(covered, 0.6 * area) << "the turned square is covered";
    EXPECT_LT(covered, 1.05 * area);
    // A corner of the upright bounding square lies outside the turned one.
    const cv::Point2d c0 = to_image(0, 0), c1 = to_image(48, 0), c2 = to_image(0, 48);
    const int left = static_cast<int>(std::min({c0.x, c1.x, c2.x})), top = static_cast<int>(std::min({c0.y, c1.y, c2.y}));
    EXPECT_EQ(img.at<cv::Vec3b>(top + 2, left + 2), cv::Vec3b(0, 0, 0)) << "upright corner untouched";
    // Not aligned (upright landmark crops): the upright square, as before.
    cv::Mat upright(320, 400, CV_8UC3, cv::Scalar(0, 0, 0));
    fer::draw_faces(upright, {f}, true, false);
    EXPECT_NE(upright.at<cv::Vec3b>(f.crop_y + 2, f.crop_x + 2), cv::Vec3b(0, 0, 0));
}

// ---------------------------------------------------------------------------
// End to end: the real fer executable
// ---------------------------------------------------------------------------

#ifdef FER_EXE
struct run_result {
    int code;
    std::string out, err;
};

run_result run(const std::string & args, const std::string & err_file) {
    const fer_test::command_result c = fer_test::run_command(std::string(FER_EXE) + " " + args + " 2>" + err_file);
    run_result r{c.code, c.out, {}};
    std::ifstream in(err_file);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return r;
}

size_t count(const std::string & s, const std::string & needle) {
    size_t n = 0;
    for (size_t at = 0; (at = s.find(needle, at)) != std::string::npos; at += needle.size()) {
        ++n;
    }
    return n;
}

const std::string k_source_dir = FER_SOURCE_DIR;
const std::string k_shared_faces = std::string(FER_SHARED_DATA) + "/faces";

class Predict : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(std::string(FER_HAAR_DIR) + "/haarcascade_frontalface_alt2.xml")) {
            GTEST_SKIP() << "OpenCV's cascades are missing in " << FER_HAAR_DIR << " (install opencv-data)";
        }
        if (!fs::exists(k_source_dir + "/models/fernet.tflite")) {
            GTEST_SKIP() << "models/fernet.tflite is missing";
        }
    }
    run_result fer(const std::string & args) { return run(args, dir_ / "stderr.txt"); }
    std::string path(const std::string & name) const { return dir_ / name; }

    // Three samples/ faces (frontal enough for the cascade) pasted onto a
    // colour gradient at known squares: a small "group photo".
    std::string group_photo(const std::string & name, std::vector<cv::Rect> * where = nullptr) {
        cv::Mat canvas(300, 560, CV_8UC3);
        for (int y = 0; y < canvas.rows; ++y) {
            for (int x = 0; x < canvas.cols; ++x) {
                canvas.at<cv::Vec3b>(y, x) = cv::Vec3b(uint8_t(80 + x / 8), uint8_t(100 + y / 5), 140);
            }
        }
        const char * files[3] = {"happy-PublicTest_10245799.jpg", "surprise-PublicTest_10780425.jpg",
                                 "neutral-PublicTest_10549803.jpg"};
        const std::vector<cv::Rect> at = {{20, 60, 150, 150}, {220, 40, 130, 130}, {400, 90, 110, 110}};
        EXPECT_TRUE(fer_test::paste_sample_faces(canvas, {files, files + 3}, at, cv::INTER_CUBIC));
        if (where) {
            *where = at;
        }
        EXPECT_TRUE(cv::imwrite(path(name), canvas));
        return path(name);
    }

    fer_test::temp_dir dir_{"fer-predict"};
};

// The boxes [x, y, w, h] of a --json/--jsonl output, in order.
std::vector<cv::Rect> boxes_of(const std::string & json) {
    std::vector<cv::Rect> out;
    for (size_t at = 0; (at = json.find("\"box\": [", at)) != std::string::npos; ++at) {
        int x, y, w, h;
        if (std::sscanf(json.c_str() + at, "\"box\": [%d, %d, %d, %d]", &x, &y, &w, &h) == 4) {
            out.emplace_back(x, y, w, h);
        }
    }
    return out;
}

TEST_F(Predict, GroupPhotoGivesOneResultPerFace) {
    std::vector<cv::Rect> where;
    const std::string photo = group_photo("group.png", &where);
    run_result r = fer("predict --json " + photo);
    ASSERT_EQ(r.code, 0) << r.err;
    const std::vector<cv::Rect> boxes = boxes_of(r.out);
    ASSERT_EQ(boxes.size(), 3u) << r.out;
    // Every pasted face found once, each box inside its square (the FER2013
    // crop has a margin around the face the cascade finds).
    for (const cv::Rect & sq : where) {
        int hits = 0;
        for (const cv::Rect & b : boxes) {
            hits += (b & sq).area() > b.area() * 8 / 10;
        }
        EXPECT_EQ(hits, 1) << "square " << sq;
    }
    EXPECT_EQ(count(r.out, "\"width\": 560, \"height\": 300"), 1u) << r.out;
    EXPECT_EQ(count(r.out, "\"probabilities\""), 3u);
    EXPECT_EQ(r.out.front(), '[');
    // The clearest face keeps its label through detection and crop.
    EXPECT_NE(r.out.find("\"emotion\": \"happy\""), std::string::npos) << r.out;
}

TEST_F(Predict, NoFaceGivesNoResultAndOptionsLimitFaces) {
    cv::Mat flat(240, 320, CV_8UC3, cv::Scalar(30, 120, 200));
    ASSERT_TRUE(cv::imwrite(path("flat.png"), flat));
    run_result r = fer("predict --jsonl " + path("flat.png"));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find("\"faces\": []"), std::string::npos) << r.out;

    const std::string photo = group_photo("group.png");
    r = fer("predict --jsonl --max-faces 1 " + photo);
    EXPECT_EQ(boxes_of(r.out).size(), 1u) << r.out;
    r = fer("predict --jsonl --min-face 200 " + photo);
    EXPECT_EQ(boxes_of(r.out).size(), 0u) << r.out;
    r = fer("predict --jsonl --min-confidence 1 " + photo);
    EXPECT_EQ(count(r.out, "\"emotion\": \"uncertain\""), 3u) << r.out;
    r = fer("predict " + photo + " --min-confidence 1");
    EXPECT_EQ(count(r.out, "uncertain ("), 3u) << "the table shows the best guess: " << r.out;
}

// Small faces in a 12 MP photo (docs/face-detection.md, "Small faces in large
// photos"): --min-face 24 once failed there (YuNet's one pass needed more
// than the runtime's activation limit); the proposal cascade finds them.
TEST_F(Predict, SmallFacesInA12MegapixelPhoto) {
    const cv::Mat group = cv::imread(k_source_dir + "/samples/group-photo.jpg", cv::IMREAD_COLOR);
    ASSERT_FALSE(group.empty());
    cv::Mat canvas(3000, 4000, CV_8UC3, cv::Scalar(120, 125, 130));
    cv::Mat small;
    cv::resize(group, small, cv::Size(), 0.38, 0.38, cv::INTER_AREA);  // faces of 30-45 px
    for (int k = 0; k < 12; ++k) {
        small.copyTo(canvas(cv::Rect(150 + (k % 4) * 950, 200 + (k / 4) * 1000, small.cols, small.rows)));
    }
    ASSERT_TRUE(cv::imwrite(path("big.jpg"), canvas, {cv::IMWRITE_JPEG_QUALITY, 95}));
    run_result r = fer("predict --json --min-face 24 " + path("big.jpg"));
    ASSERT_EQ(r.code, 0) << r.err;
    const size_t found = boxes_of(r.out).size();
    EXPECT_GE(found, 57u) << "at least 95% of the 60 faces: " << r.out.substr(0, 400);
    EXPECT_LE(found, 62u);
    r = fer("predict --json " + path("big.jpg"));  // the default 640 px pass: faces of 5-7 px there
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_LT(boxes_of(r.out).size(), 10u);
}

TEST_F(Predict, OutputFormats) {
    const std::string photo = group_photo("a.png");
    fs::copy_file(photo, path("b.png"));
    run_result jl = fer("predict --jsonl " + photo + " " + path("b.png"));
    ASSERT_EQ(jl.code, 0) << jl.err;
    EXPECT_EQ(count(jl.out, "\n"), 2u) << "one line per image: " << jl.out;
    EXPECT_EQ(jl.out.rfind("{\"file\": ", 0), 0u);
    run_result csv = fer("predict --csv " + photo);
    ASSERT_EQ(csv.code, 0);
    EXPECT_EQ(csv.out.rfind(fer::face_csv_header(), 0), 0u) << csv.out;
    EXPECT_EQ(count(csv.out, "\n"), 4u) << "header + one row per face: " << csv.out;
    run_result table = fer("predict " + photo);
    EXPECT_EQ(table.code, 0);
    EXPECT_NE(table.out.find("confidence"), std::string::npos);
    EXPECT_EQ(fer("predict --json --csv " + photo).code, 1);
    EXPECT_EQ(fer("predict --cam " + photo).code, 1) << "--cam needs --out";
    EXPECT_EQ(fer("predict --threads 0 " + photo).code, 1);
    EXPECT_EQ(fer("predict").code, 1);
    run_result missing = fer("predict " + path("nope.jpg"));
    EXPECT_EQ(missing.code, 2);
    EXPECT_NE(missing.err.find("nope.jpg"), std::string::npos) << missing.err;
    run_result bad_model = fer("predict --model " + photo + " " + photo);
    EXPECT_EQ(bad_model.code, 2);
    EXPECT_NE(bad_model.err.find("a.png"), std::string::npos) << bad_model.err;
    run_result bad_det = fer("predict --detector " + photo + " " + photo);
    EXPECT_EQ(bad_det.code, 2);
    EXPECT_NE(bad_det.err.find("face detector"), std::string::npos) << bad_det.err;
}

TEST_F(Predict, BadFilesAreReportedAndOthersStillProcessed) {
    fs::create_directories(path("in/sub"));
    group_photo("in/sub/good.png");
    std::vector<uint8_t> png = encode(test_picture(64, 64), ".png");
    std::vector<uint8_t> jpg = encode(test_picture(64, 64), ".jpg");
    auto put = [&](const std::string & name, const std::vector<uint8_t> & b) {
        std::ofstream(path(name), std::ios::binary).write(reinterpret_cast<const char *>(b.data()), long(b.size()));
    };
    put("in/text.jpg", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
    put("in/cut.png", std::vector<uint8_t>(png.begin(), png.begin() + long(png.size() / 2)));
    put("in/cut.jpg", std::vector<uint8_t>(jpg.begin(), jpg.begin() + long(jpg.size() / 2)));
    put("in/empty.png", {});
    put("in/huge.png", png_header(20000, 20000));
    ASSERT_TRUE(cv::imwrite(path("in/one.png"), cv::Mat(1, 1, CV_8UC3, cv::Scalar(1, 2, 3))));
    run_result r = fer("predict --json " + path("in"));
    EXPECT_EQ(r.code, 2) << r.err;
    for (const char * why : {"text.jpg: not an image", "cut.png: truncated PNG", "cut.jpg: truncated JPEG",
                             "empty.png: empty file", "huge.png: PNG image of 20000x20000"}) {
        EXPECT_NE(r.err.find(why), std::string::npos) << why << " in " << r.err;
    }
    EXPECT_NE(r.err.find("5 of 7 images could not be read"), std::string::npos) << r.err;
    // The readable ones are still there: the 1x1 picture with no face, the photo with its three.
    EXPECT_NE(r.out.find("one.png\", \"width\": 1, \"height\": 1, \"faces\": []"), std::string::npos) << r.out;
    EXPECT_EQ(boxes_of(r.out).size(), 3u) << r.out;
}

TEST_F(Predict, ThreadsKeepInputOrderAndAnnotatedImagesAreWritten) {
    fs::create_directories(path("many"));
    for (int i = 0; i < 6; ++i) {
        group_photo("many/p" + std::to_string(i) + ".png");
    }
    ASSERT_TRUE(cv::imwrite(path("many/p3.png"), cv::Mat(50, 70, CV_8UC3, cv::Scalar(9, 9, 9))));  // no face
    run_result one = fer("predict --jsonl --threads 1 " + path("many"));
    run_result two = fer("predict --jsonl --threads 3 " + path("many"));
    ASSERT_EQ(one.code, 0) << one.err;
    EXPECT_EQ(one.out, two.out);
    EXPECT_LT(one.out.find("p2.png"), one.out.find("p3.png"));

    run_result a = fer("predict --out " + path("ann") + " --cam " + path("many/p0.png") + " " + path("many/p3.png"));
    ASSERT_EQ(a.code, 0) << a.err;
    const cv::Mat ann = cv::imread(path("ann/0000-p0.png"));
    ASSERT_FALSE(ann.empty()) << "annotated image missing";
    EXPECT_EQ(ann.cols, 560);
    EXPECT_EQ(ann.rows, 300);
    EXPECT_GT(cv::norm(ann, cv::imread(path("many/p0.png")), cv::NORM_L1), 0) << "nothing drawn";
    EXPECT_TRUE(fs::exists(path("ann/0001-p3.png")));
    for (const auto & e : fs::directory_iterator(path("ann"))) {
        EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << "leftover " << e.path();
    }
}

TEST_F(Predict, WholeTakesEachImageAsOneFace) {
    run_result r = fer("predict --whole --jsonl " + k_source_dir + "/samples/happy-PublicTest_10245799.jpg " +
                       k_source_dir + "/samples/surprise-PublicTest_10780425.jpg");
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(count(r.out, "\"box\": [0, 0, 48, 48]"), 2u) << r.out;
    EXPECT_NE(r.out.find("\"emotion\": \"happy\""), std::string::npos) << r.out;
}

// The probabilities of a --json(l) output, in class order, face after face.
std::vector<double> probabilities_of(const std::string & json) {
    std::vector<double> out;
    for (size_t at = 0; (at = json.find("\"probabilities\": {", at)) != std::string::npos; ++at) {
        const size_t end = json.find('}', at);
        for (size_t c = json.find(':', at + 17); c != std::string::npos && c < end; c = json.find(':', c + 1)) {
            out.push_back(std::strtod(json.c_str() + c + 1, nullptr));
        }
    }
    return out;
}

TEST_F(Predict, FlipTtaAveragesTheFaceAndItsMirror) {
    const std::string face = k_source_dir + "/samples/sad-PublicTest_10897412.jpg";
    cv::Mat mirrored;
    cv::flip(cv::imread(face, cv::IMREAD_GRAYSCALE), mirrored, 1);
    ASSERT_TRUE(cv::imwrite(path("mirrored.png"), mirrored));
    run_result plain = fer("predict --whole --jsonl " + face + " " + path("mirrored.png"));
    run_result tta = fer("predict --whole --jsonl --tta flip " + face);
    ASSERT_EQ(plain.code, 0) << plain.err;
    ASSERT_EQ(tta.code, 0) << tta.err;
    const std::vector<double> p = probabilities_of(plain.out), t = probabilities_of(tta.out);
    ASSERT_EQ(p.size(), 2u * FER_N_CLASSES) << plain.out;
    ASSERT_EQ(t.size(), size_t(FER_N_CLASSES)) << tta.out;
    double moved = 0;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        EXPECT_NEAR(t[size_t(c)], 0.5 * (p[size_t(c)] + p[size_t(c + FER_N_CLASSES)]), 1.5e-6) << "class " << c;
        moved = std::max(moved, std::abs(t[size_t(c)] - p[size_t(c)]));
    }
    EXPECT_GT(moved, 1e-3) << "the mirror image changed nothing: no test of the mean";
    // Faces found in a photo get the same treatment, and a bad mode is a usage error.
    const std::string photo = group_photo("group.png");
    run_result group = fer("predict --jsonl --tta flip " + photo);
    ASSERT_EQ(group.code, 0) << group.err;
    EXPECT_EQ(boxes_of(group.out).size(), 3u) << group.out;
    run_result bad = fer("predict --tta mirror " + photo);
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("--tta must be none, flip or ten-crop"), std::string::npos) << bad.err;
}

// --quality best: ten views per face, and with --ensemble every member's
// probabilities too: the mean the runtime's fer_classify_ensemble gives on the
// same crop (computed here through the C API).
TEST_F(Predict, BestModeIsTheEnsembleOverTenViews) {
    const std::string face = k_source_dir + "/samples/fear-PublicTest_10640936.jpg";
    const std::string f32 = k_source_dir + "/models/fernet.tflite", s8 = k_source_dir + "/models/fernet-int8.tflite";
    run_result best = fer("predict --whole --jsonl --quality best --model " + s8 + " --ensemble " + f32 + " " + face);
    ASSERT_EQ(best.code, 0) << best.err;
    const std::vector<double> got = probabilities_of(best.out);
    ASSERT_EQ(got.size(), size_t(FER_N_CLASSES)) << best.out;
    cv::Mat crop;
    cv::resize(cv::imread(face, cv::IMREAD_GRAYSCALE), crop, cv::Size(FER_INPUT_SIZE, FER_INPUT_SIZE), 0, 0,
               cv::INTER_AREA);
    fer_model * a = fer_model_load_from_file(s8.c_str(), fer_model_default_params());
    fer_model * b = fer_model_load_from_file(f32.c_str(), fer_model_default_params());
    ASSERT_TRUE(a && b);
    fer_context * members[2] = {fer_context_new(a), fer_context_new(b)};
    fer_result want, single;
    ASSERT_EQ(fer_classify_ensemble(members, 2, crop.data, static_cast<int>(crop.step), FER_TTA_TEN_CROP, &want), FER_OK);
    ASSERT_EQ(fer_classify(members[0], crop.data, static_cast<int>(crop.step), &single), FER_OK);
    double moved = 0;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        EXPECT_NEAR(got[size_t(c)], want.probabilities[c], 1.5e-6) << "class " << c;
        moved = std::max(moved, std::abs(double(want.probabilities[c]) - single.probabilities[c]));
    }
    EXPECT_GT(moved, 1e-3) << "the best mode changed nothing: no test of the mean";
    fer_context_free(members[0]);
    fer_context_free(members[1]);
    fer_model_free(a);
    fer_model_free(b);
    // Bad values are usage errors; a member that is no model is bad input naming the file.
    run_result bad = fer("predict --quality great " + face);
    EXPECT_EQ(bad.code, 1);
    EXPECT_NE(bad.err.find("--quality must be fast or best"), std::string::npos) << bad.err;
    std::ofstream(path("broken.tflite")) << "not a model";
    run_result broken = fer("predict --whole --ensemble " + path("broken.tflite") + " " + face);
    EXPECT_EQ(broken.code, 2) << broken.err;
    EXPECT_NE(broken.err.find("broken.tflite"), std::string::npos) << broken.err;
}

TEST_F(Predict, SharedPhotos) {
    if (!fs::exists(k_shared_faces + "/dogs.jpg") || !fs::exists(k_shared_faces + "/solvay_conference.jpg")) {
        GTEST_SKIP() << k_shared_faces << " is absent (../shared/data/faces)";
    }
    run_result dogs = fer("predict --jsonl " + k_shared_faces + "/dogs.jpg");
    ASSERT_EQ(dogs.code, 0) << dogs.err;
    EXPECT_NE(dogs.out.find("\"faces\": []"), std::string::npos) << "no face on the dog photo: " << dogs.out;
    run_result group = fer("predict --jsonl " + k_shared_faces + "/solvay_conference.jpg");
    ASSERT_EQ(group.code, 0) << group.err;
    const std::vector<cv::Rect> boxes = boxes_of(group.out);
    EXPECT_GE(boxes.size(), 5u) << group.out;
    EXPECT_EQ(count(group.out, "\"probabilities\""), boxes.size());
    for (size_t i = 0; i < boxes.size(); ++i) {
        for (size_t j = i + 1; j < boxes.size(); ++j) {
            // Neighbours in a crowd may touch; the same face twice would overlap most of its box.
            EXPECT_LT((boxes[i] & boxes[j]).area(), boxes[j].area() / 4) << "one result per face: boxes " << i
                                                                          << " and " << j;
        }
    }
}
#endif  // FER_EXE

}  // namespace
