// `fer predict` and the pieces the runtime commands share: photo loading
// (tools/fer/image-load, image-header: header checks before decoding, EXIF
// orientation, broken files) and the JSON/CSV form of a picture's faces
// (tools/fer/face-json); then end-to-end runs of the real executable.
#include "face-json.h"
#include "image-header.h"
#include "image-load.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstring>
#include <string>
#include <vector>

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
    EXPECT_EQ(commas, 17u) << head;
    const std::string rows = fer::faces_to_csv("a,b.jpg", 64, 32, {make_face(FER_FEAR, 0.6f, 0, -1), make_face(FER_SAD, 0.2f, 1, -1)});
    EXPECT_EQ(count_char(rows, '\n'), 2u);
    EXPECT_EQ(rows.rfind("\"a,b.jpg\",64,32,0,10,20,30,40,fear,0.600000,0,", 0), 0u) << rows;
    EXPECT_NE(rows.find("\n\"a,b.jpg\",64,32,1,10,20,30,40,uncertain,0.200000,1,"), std::string::npos) << rows;
    const std::string none = fer::faces_to_csv("n.jpg", 5, 5, {});
    EXPECT_EQ(count_char(none, ','), commas) << none;
    EXPECT_EQ(count_char(rows, ','), 2 * commas + 2) << "the quoted file name holds one comma per row";
}

}  // namespace
