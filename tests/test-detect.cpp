// Face detector (src/detect, include/fer-detect.h): parity with OpenCV's
// cv::CascadeClassifier, kernels against their references, robustness of the
// cascade readers and of the detect call.
//
// Needs OpenCV's cascades (Debian package opencv-data, FER_HAAR_DIR); the
// parity tests on photographs need ../shared/data/faces (FER_SHARED_DATA).
// Each skips with a message when its data is absent.
#include "fer-detect.h"
#include "sample-faces.h"

#include "../src/detect/haar-cascade.h"
#include "../src/detect/integral.h"
#include "../src/detect/resize.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::string k_haar_dir = FER_HAAR_DIR;
const std::string k_faces_dir = std::string(FER_SHARED_DATA) + "/faces";
const std::string k_source_dir = FER_SOURCE_DIR;

std::string cascade_path(const std::string & name) { return k_haar_dir + "/haarcascade_" + name + ".xml"; }

#define NEED_CASCADE(name)                                                                                   \
    do {                                                                                                     \
        if (!fs::exists(cascade_path(name))) {                                                               \
            GTEST_SKIP() << cascade_path(name) << " not found: install the Debian package opencv-data "       \
                         << "(scripts/setup.sh does) or configure with -DFER_HAAR_DIR=...";                  \
        }                                                                                                    \
    } while (0)

#define NEED_FACES()                                                                                         \
    do {                                                                                                     \
        if (!fs::exists(k_faces_dir)) {                                                                      \
            GTEST_SKIP() << k_faces_dir << " not found: the shared photographs are only on the project's "    \
                         << "machines (set FER_SHARED_DATA_DIR)";                                            \
        }                                                                                                    \
    } while (0)

struct detector_ptr {
    fer_detector * d = nullptr;
    explicit detector_ptr(fer_detector * p) : d(p) {}
    ~detector_ptr() { fer_detector_free(d); }
    detector_ptr(const detector_ptr &) = delete;
    detector_ptr & operator=(const detector_ptr &) = delete;
};

using box = std::array<int, 4>;

std::vector<box> ours(const fer_detector * d, const cv::Mat & g, const fer_detect_params & p) {
    std::vector<fer_box> b(4096);
    int32_t n = 0;
    EXPECT_EQ(fer_detector_detect(d, g.data, g.cols, g.rows, int32_t(g.step), &p, b.data(), int32_t(b.size()), &n),
              FER_DETECT_OK);
    std::vector<box> out;
    for (int32_t i = 0; i < n && i < int32_t(b.size()); ++i) {
        out.push_back({b[size_t(i)].x, b[size_t(i)].y, b[size_t(i)].width, b[size_t(i)].height});
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<box> opencv(cv::CascadeClassifier & cc, const cv::Mat & g, const fer_detect_params & p) {
    std::vector<cv::Rect> r;
    cc.detectMultiScale(g, r, p.scale_factor, p.min_neighbors, 0, cv::Size(p.min_size, p.min_size),
                        cv::Size(p.max_size, p.max_size));
    std::vector<box> out;
    for (const cv::Rect & x : r) {
        out.push_back({x.x, x.y, x.width, x.height});
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string str(const std::vector<box> & v) {
    std::ostringstream s;
    for (const box & b : v) {
        s << " [" << b[0] << " " << b[1] << " " << b[2] << " " << b[3] << "]";
    }
    return s.str();
}

// Boxes must match one to one within tol pixels on every edge.
void expect_same_boxes(const std::vector<box> & a, const std::vector<box> & b, int tol, const std::string & what) {
    ASSERT_EQ(a.size(), b.size()) << what << "\n ours:  " << str(a) << "\n opencv:" << str(b);
    std::vector<bool> used(b.size(), false);
    for (const box & x : a) {
        bool found = false;
        for (size_t j = 0; j < b.size() && !found; ++j) {
            if (!used[j] && std::abs(x[0] - b[j][0]) <= tol && std::abs(x[1] - b[j][1]) <= tol &&
                std::abs(x[0] + x[2] - b[j][0] - b[j][2]) <= tol && std::abs(x[1] + x[3] - b[j][1] - b[j][3]) <= tol) {
                used[j] = found = true;
            }
        }
        EXPECT_TRUE(found) << what << ": box" << str({x}) << " has no OpenCV twin\n ours:  " << str(a)
                           << "\n opencv:" << str(b);
    }
}

// The project's own fixture: two FER2013 sample faces (samples/), scaled 2x
// onto a flat grey 320x160 canvas at known places.
cv::Mat two_face_fixture(std::vector<cv::Rect> & where) {
    cv::Mat canvas(160, 320, CV_8U, cv::Scalar(128));
    where = {cv::Rect(40, 30, 96, 96), cv::Rect(190, 34, 96, 96)};
    const bool ok =
        fer_test::paste_sample_faces(canvas, {"happy-PublicTest_10245799.jpg", "neutral-PublicTest_10549803.jpg"}, where);
    return ok ? canvas : cv::Mat();
}

// A tiny valid cascade: 24x24 window, one stage with two stumps, two features.
const char * k_tiny_xml = R"(<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>24</height>
  <width>24</width>
  <stageParams><maxWeakCount>2</maxWeakCount></stageParams>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-1.5</stageThreshold>
      <weakClassifiers>
        <_><internalNodes>0 -1 0 -3.1e-02</internalNodes><leafValues>2.0 -2.0</leafValues></_>
        <_><internalNodes>0 -1 1 1.2e-02</internalNodes><leafValues>-1.0 1.5</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_><rects><_>6 4 12 9 -1.</_><_>6 7 12 3 3.</_></rects></_>
    <_><rects><_>6 4 12 7 -1.</_><_>10 4 4 7 3.</_></rects><tilted>0</tilted></_></features></cascade>
</opencv_storage>
)";

fer_detect_status load_status(const std::string & text, std::string * msg = nullptr) {
    char err[512] = "";
    fer_detect_status st = FER_DETECT_OK;
    fer_detector * d = fer_detector_load_from_memory(text.data(), text.size(), &st, err, sizeof err);
    fer_detector_free(d);
    if (msg) {
        *msg = err;
    }
    EXPECT_EQ(d != nullptr, st == FER_DETECT_OK);
    return st;
}

std::string replace(std::string s, const std::string & from, const std::string & to) {
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) {
        s.replace(at, from.size(), to);
    }
    return s;
}

}  // namespace

// ---- kernels against references ----

TEST(DetectKernels, IntegralMatchesOpenCV) {
    std::mt19937 rng(7);
    for (int t = 0; t < 20; ++t) {
        const int w = 1 + int(rng() % 70), h = 1 + int(rng() % 50);
        cv::Mat img(h, w, CV_8U);
        for (int i = 0; i < w * h; ++i) {
            img.data[i] = uint8_t(rng());
        }
        cv::Mat sum, sqsum, tilted;
        cv::integral(img, sum, sqsum, tilted, CV_32S, CV_64F);
        const size_t stride = size_t(w) + 5;  // a stride wider than the table
        std::vector<uint32_t> s(stride * size_t(h + 1)), q(stride * size_t(h + 1)), ti(stride * size_t(h + 1)),
            tr(stride * size_t(h + 1)), scratch;
        fer::detect::integral_sum_sqsum(img.data, w, h, img.step, s.data(), q.data(), stride);
        fer::detect::integral_tilted(img.data, w, h, img.step, ti.data(), stride, scratch);
        fer::detect::integral_tilted_reference(img.data, w, h, img.step, tr.data(), stride);
        for (int y = 0; y <= h; ++y) {
            for (int x = 0; x <= w; ++x) {
                const size_t i = size_t(y) * stride + size_t(x);
                ASSERT_EQ(int32_t(s[i]), sum.at<int>(y, x)) << w << "x" << h << " at " << x << "," << y;
                ASSERT_EQ(double(q[i]), sqsum.at<double>(y, x)) << w << "x" << h << " at " << x << "," << y;
                ASSERT_EQ(int32_t(ti[i]), tilted.at<int>(y, x)) << "tilted " << w << "x" << h << " at " << x << "," << y;
                ASSERT_EQ(ti[i], tr[i]) << "tilted vs reference " << w << "x" << h << " at " << x << "," << y;
            }
        }
    }
}

TEST(DetectKernels, ResizeIsBitExactWithOpenCV) {
    // CascadeClassifier builds its pyramid with INTER_LINEAR_EXACT (OpenCV 4).
    std::mt19937 rng(11);
    fer::detect::resize_scratch rs;
    for (int t = 0; t < 150; ++t) {
        const int w = 2 + int(rng() % 300), h = 2 + int(rng() % 300);
        const double f = t < 10 ? 2.0 : 1.0 + double(rng() % 4000) / 1000.0;  // exact halving included
        const int dw = std::max(1, int(std::lround(w / f))), dh = std::max(1, int(std::lround(h / f)));
        cv::Mat img(h, w, CV_8U);
        for (int i = 0; i < w * h; ++i) {
            img.data[i] = uint8_t(rng());
        }
        cv::Mat ref, mine(dh, dw, CV_8U);
        cv::resize(img, ref, cv::Size(dw, dh), 0, 0, cv::INTER_LINEAR_EXACT);
        fer::detect::resize_linear_u8(img.data, w, h, img.step, mine.data, dw, dh, mine.step, rs);
        ASSERT_EQ(cv::norm(ref, mine, cv::NORM_INF), 0.0) << w << "x" << h << " -> " << dw << "x" << dh;
    }
}

TEST(DetectKernels, BatchedScanMatchesReferenceLoop) {
    // The row-batched evaluators (AVX2 where the CPU has it, 128-bit vectors;
    // stumps and trees) against the one-window-at-a-time reference loop.
    NEED_CASCADE("frontalface_default");
    NEED_CASCADE("frontalface_alt2");
    std::vector<cv::Rect> where;
    cv::Mat fixture = two_face_fixture(where);
    ASSERT_FALSE(fixture.empty());
    cv::Mat noisy(121, 203, CV_8U);  // odd sizes: row ends and both layouts
    cv::RNG(4).fill(noisy, cv::RNG::NORMAL, 120, 40);
    cv::Mat big;
    cv::resize(fixture, big, cv::Size(), 1.7, 1.7, cv::INTER_LINEAR);
    for (const char * name : {"frontalface_default", "frontalface_alt2"}) {
        const std::string xml = [&] {
            std::ifstream f(cascade_path(name), std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
        }();
        fer::detect::haar_detector det;
        std::string err;
        ASSERT_TRUE(fer::detect::read_xml(xml.data(), xml.size(), det.model, err)) << err;
        fer::detect::prepare(det);
        for (const cv::Mat * img : {&fixture, &noisy, &big}) {
            std::vector<std::vector<fer::detect::rect>> hits(3);
            const fer::detect::scan_options::path paths[3] = {fer::detect::scan_options::path::reference,
                                                              fer::detect::scan_options::path::automatic,
                                                              fer::detect::scan_options::path::vector128};
            for (int i = 0; i < 3; ++i) {
                fer::detect::scan_options o;
                o.evaluator = paths[i];
                fer::detect::scan_scratch scratch;
                fer::detect::detect_raw(det, img->data, img->cols, img->rows, img->step, o, hits[size_t(i)],
                                        scratch);
            }
            ASSERT_FALSE(hits[0].empty() && img != &noisy) << name << ": the fixture should give raw hits";
            for (int i = 1; i < 3; ++i) {
                ASSERT_EQ(hits[size_t(i)].size(), hits[0].size())
                    << name << ", evaluator " << i << " on " << img->cols << "x" << img->rows;
                for (size_t j = 0; j < hits[0].size(); ++j) {
                    const fer::detect::rect & a = hits[0][j];
                    const fer::detect::rect & b = hits[size_t(i)][j];
                    EXPECT_TRUE(a.x == b.x && a.y == b.y && a.w == b.w && a.h == b.h)
                        << name << ", evaluator " << i << " hit " << j << ": " << b.x << "," << b.y
                        << " vs reference " << a.x << "," << a.y;
                }
            }
        }
    }
}

// ---- parity with cv::CascadeClassifier ----

TEST(DetectParity, ProjectFixtureTwoFaces) {
    NEED_CASCADE("frontalface_default");
    std::vector<cv::Rect> where;
    const cv::Mat img = two_face_fixture(where);
    ASSERT_FALSE(img.empty()) << "samples/ faces missing in " << k_source_dir;
    detector_ptr d(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    cv::CascadeClassifier cc(cascade_path("frontalface_default"));
    fer_detect_params p = fer_detect_default_params();
    const std::vector<box> a = ours(d.d, img, p);
    expect_same_boxes(a, opencv(cc, img, p), 0, "fixture");
    // One box per face, on the face.
    ASSERT_EQ(a.size(), 2u) << str(a);
    for (const cv::Rect & w : where) {
        bool hit = false;
        for (const box & b : a) {
            const cv::Rect r(b[0], b[1], b[2], b[3]);
            hit = hit || (r & w).area() > 0.4 * (r | w).area();
        }
        EXPECT_TRUE(hit) << "no box on the face at " << w << ":" << str(a);
    }
    // Raw hits (no grouping) are the same too.
    p.min_neighbors = 0;
    expect_same_boxes(ours(d.d, img, p), opencv(cc, img, p), 0, "fixture raw hits");
}

TEST(DetectParity, Photographs) {
    NEED_CASCADE("frontalface_default");
    NEED_FACES();
    detector_ptr d(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    cv::CascadeClassifier cc(cascade_path("frontalface_default"));
    // A selection that keeps the test short on two cores; bench-detect covers all.
    for (const char * name : {"2008_002079.jpg", "2008_007676.jpg", "Tom_Cruise_avp_2014_4.jpg", "dogs.jpg"}) {
        const cv::Mat g = cv::imread(k_faces_dir + "/" + name, cv::IMREAD_GRAYSCALE);
        ASSERT_FALSE(g.empty()) << name;
        const fer_detect_params p = fer_detect_default_params();
        // Tolerance 0: the arithmetic is OpenCV's, so the boxes are identical.
        expect_same_boxes(ours(d.d, g, p), opencv(cc, g, p), 0, name);
    }
}

TEST(DetectParity, ParametersAndTreeCascade) {
    NEED_CASCADE("frontalface_alt2");
    NEED_FACES();
    const cv::Mat g = cv::imread(k_faces_dir + "/2008_002470.jpg", cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(g.empty());
    for (const char * name : {"frontalface_alt2", "frontalface_default"}) {
        detector_ptr d(fer_detector_load_from_file(cascade_path(name).c_str(), nullptr, nullptr, 0));
        ASSERT_NE(d.d, nullptr) << name;
        cv::CascadeClassifier cc(cascade_path(name));
        fer_detect_params p = fer_detect_default_params();
        p.min_neighbors = 0;  // raw hits: every window decision
        expect_same_boxes(ours(d.d, g, p), opencv(cc, g, p), 0, std::string(name) + " raw");
        p = fer_detect_default_params();
        p.scale_factor = 1.2;
        p.min_neighbors = 2;
        p.min_size = 30;
        p.max_size = 120;
        expect_same_boxes(ours(d.d, g, p), opencv(cc, g, p), 0, std::string(name) + " sf 1.2, min 30, max 120");
    }
}

TEST(DetectParity, BinaryFormDetectsIdentically) {
    NEED_CASCADE("frontalface_default");
    detector_ptr x(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(x.d, nullptr);
    size_t size = 0;
    ASSERT_EQ(fer_detector_save_binary(x.d, nullptr, &size), FER_DETECT_OK);
    std::vector<uint8_t> bin(size);
    ASSERT_EQ(fer_detector_save_binary(x.d, bin.data(), &size), FER_DETECT_OK);
    EXPECT_LT(size, fs::file_size(cascade_path("frontalface_default")) / 4) << "binary should be compact";
    detector_ptr b(fer_detector_load_from_memory(bin.data(), bin.size(), nullptr, nullptr, 0));
    ASSERT_NE(b.d, nullptr);
    EXPECT_EQ(fer_detector_window_width(b.d), 24);
    EXPECT_EQ(fer_detector_n_stages(b.d), 25);
    std::vector<cv::Rect> where;
    const cv::Mat img = two_face_fixture(where);
    ASSERT_FALSE(img.empty());
    fer_detect_params p = fer_detect_default_params();
    p.min_neighbors = 0;
    EXPECT_EQ(ours(x.d, img, p), ours(b.d, img, p));
    // Saving the loaded binary gives the same bytes.
    size_t size2 = 0;
    fer_detector_save_binary(b.d, nullptr, &size2);
    std::vector<uint8_t> bin2(size2);
    fer_detector_save_binary(b.d, bin2.data(), &size2);
    EXPECT_EQ(bin, bin2);
}

// ---- behaviour of the detect call ----

TEST(Detect, NoFaceImagesGiveNone) {
    NEED_CASCADE("frontalface_default");
    detector_ptr d(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    const fer_detect_params p = fer_detect_default_params();
    cv::Mat flat(240, 320, CV_8U, cv::Scalar(90));
    EXPECT_TRUE(ours(d.d, flat, p).empty());
    cv::Mat gradient(240, 320, CV_8U);
    for (int y = 0; y < 240; ++y) {
        for (int x = 0; x < 320; ++x) {
            gradient.at<uint8_t>(y, x) = uint8_t((x + y) / 3);
        }
    }
    EXPECT_TRUE(ours(d.d, gradient, p).empty());
    cv::Mat noise(240, 320, CV_8U);
    cv::RNG rng(3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
    EXPECT_TRUE(ours(d.d, noise, p).empty()) << str(ours(d.d, noise, p));
}

TEST(Detect, OutputBufferSortingAndCount) {
    NEED_CASCADE("frontalface_default");
    detector_ptr d(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    std::vector<cv::Rect> where;
    const cv::Mat img = two_face_fixture(where);
    ASSERT_FALSE(img.empty());
    fer_detect_params p = fer_detect_default_params();
    fer_box b[2];
    int32_t n = -1;
    ASSERT_EQ(fer_detector_detect(d.d, img.data, img.cols, img.rows, int32_t(img.step), &p, b, 2, &n), FER_DETECT_OK);
    ASSERT_EQ(n, 2);
    EXPECT_GE(int64_t(b[0].width) * b[0].height, int64_t(b[1].width) * b[1].height) << "largest first";
    EXPECT_GT(b[0].n_neighbors, p.min_neighbors);
    fer_box one;
    ASSERT_EQ(fer_detector_detect(d.d, img.data, img.cols, img.rows, int32_t(img.step), &p, &one, 1, &n), FER_DETECT_OK);
    EXPECT_EQ(n, 2) << "n_boxes counts every face even when the buffer is smaller";
    EXPECT_EQ(one.x, b[0].x);
    ASSERT_EQ(fer_detector_detect(d.d, img.data, img.cols, img.rows, int32_t(img.step), &p, nullptr, 0, &n),
              FER_DETECT_OK);
    EXPECT_EQ(n, 2) << "counting only";
    // A sub-image through the stride: the right face alone.
    const cv::Mat right = img(cv::Rect(160, 0, 160, 160));
    ASSERT_EQ(fer_detector_detect(d.d, right.data, right.cols, right.rows, int32_t(right.step), &p, b, 2, &n),
              FER_DETECT_OK);
    EXPECT_EQ(n, 1);
}

TEST(Detect, TinyZeroAndHugeImages) {
    NEED_CASCADE("frontalface_default");
    detector_ptr d(fer_detector_load_from_file(cascade_path("frontalface_default").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    const fer_detect_params p = fer_detect_default_params();
    std::vector<uint8_t> px(64 * 64, 77);
    fer_box b[4];
    int32_t n = -1;
    EXPECT_EQ(fer_detector_detect(d.d, nullptr, 0, 0, 0, &p, b, 4, &n), FER_DETECT_OK);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 0, 10, 0, &p, b, 4, &n), FER_DETECT_OK);
    EXPECT_EQ(n, 0);
    for (int s : {1, 2, 23}) {  // smaller than the 24x24 window
        n = -1;
        EXPECT_EQ(fer_detector_detect(d.d, px.data(), s, s, s, &p, b, 4, &n), FER_DETECT_OK) << s;
        EXPECT_EQ(n, 0) << s;
    }
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 24, 24, 24, &p, b, 4, &n), FER_DETECT_OK);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 24, 23, 24, &p, b, 4, &n), FER_DETECT_OK);
    EXPECT_EQ(n, 0);
    // Huge sizes are refused before any pixel is touched or memory allocated.
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 20000, 20000, 20000, &p, b, 4, &n), FER_DETECT_ERR_TOO_LARGE);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 40000, 30, 40000, &p, b, 4, &n), FER_DETECT_ERR_TOO_LARGE);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 2147483647, 2147483647, 2147483647, &p, b, 4, &n),
              FER_DETECT_ERR_TOO_LARGE);
    // Bad arguments.
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 63, &p, b, 4, &n), FER_DETECT_ERR_ARGUMENT) << "stride";
    EXPECT_EQ(fer_detector_detect(d.d, nullptr, 64, 64, 64, &p, b, 4, &n), FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), -1, 64, 64, &p, b, 4, &n), FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_detect(nullptr, px.data(), 64, 64, 64, &p, b, 4, &n), FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, nullptr, b, 4, &n), FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &p, nullptr, 4, &n), FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &p, b, 4, nullptr), FER_DETECT_ERR_ARGUMENT);
    for (double sf : {1.0, 0.5, -2.0, 1e9, std::nan("")}) {
        fer_detect_params q = p;
        q.scale_factor = sf;
        EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_ERR_ARGUMENT) << sf;
    }
    fer_detect_params q = p;
    q.min_neighbors = -1;
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_ERR_ARGUMENT);
    for (float t : {-0.1f, 1.5f, std::nanf("")}) {  // either score threshold out of 0..1
        q = p;
        q.score_threshold = t;
        EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_ERR_ARGUMENT) << t;
        q = p;
        q.small_face_score_threshold = t;
        EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_ERR_ARGUMENT) << t;
    }
    for (int32_t m : {-1, 1, FER_YUNET_MIN_PASS_PIXELS - 1}) {  // YuNet's largest pass: 0 (default) or >= 256x256
        q = p;
        q.max_pass_pixels = m;
        EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_ERR_ARGUMENT) << m;
    }
    q = p;
    q.max_pass_pixels = FER_YUNET_MIN_PASS_PIXELS;
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_OK);
    q = p;
    q.min_size = 100;  // larger than the image: no scale qualifies, no face (OpenCV would scan scale 1)
    EXPECT_EQ(fer_detector_detect(d.d, px.data(), 64, 64, 64, &q, b, 4, &n), FER_DETECT_OK);
    EXPECT_EQ(n, 0);
    EXPECT_STREQ(fer_detect_status_name(FER_DETECT_ERR_TOO_LARGE), "image too large");
}

// ---- YuNet: small faces in a large photo ----

// The project's group photo shrunk so its five faces are 30-45 px, twelve
// times over a 2400x1800 canvas, plus one copy enlarged (faces of about
// 150 px). With min face 24 the pass min_size asks for (the image itself,
// 4.3 MP) is over the default max_pass_pixels (2 MP), so YuNet runs the
// proposal cascade; it must find what that one pass finds (forced with a
// larger max_pass_pixels), where the default 640 px pass finds few.
TEST(YunetCascade, SmallFacesInALargePhotoMatchTheFullPass) {
    const cv::Mat group = cv::imread(k_source_dir + "/samples/group-photo.jpg", cv::IMREAD_COLOR);
    ASSERT_FALSE(group.empty());
    cv::Mat canvas(1800, 2400, CV_8UC3, cv::Scalar(120, 125, 130));
    cv::Mat small;
    cv::resize(group, small, cv::Size(), 0.38, 0.38, cv::INTER_AREA);
    for (int k = 0; k < 12; ++k) {
        small.copyTo(canvas(cv::Rect(60 + (k % 4) * 420, 80 + (k / 4) * 260, small.cols, small.rows)));
    }
    cv::Mat big;
    cv::resize(group, big, cv::Size(), 1.5, 1.5, cv::INTER_LINEAR);
    big.copyTo(canvas(cv::Rect(2400 - big.cols - 20, 1800 - big.rows - 20, big.cols, big.rows)));
    detector_ptr d(fer_detector_load_from_file((k_source_dir + "/models/yunet-int8.tflite").c_str(), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    cv::Mat rgba;
    cv::cvtColor(canvas, rgba, cv::COLOR_BGR2RGBA);
    auto run = [&](int min_size, int max_pass_pixels, bool as_rgba = false) {
        fer_detect_params p = fer_detect_default_params();
        p.min_size = min_size;
        p.max_pass_pixels = max_pass_pixels;
        std::vector<fer_box> boxes(256);
        int32_t n = 0;
        const cv::Mat & img = as_rgba ? rgba : canvas;
        EXPECT_EQ(fer_detector_detect_image(d.d, img.data, img.cols, img.rows, int32_t(img.step),
                                            as_rgba ? FER_PIXEL_RGBA : FER_PIXEL_BGR, &p, boxes.data(),
                                            int32_t(boxes.size()), &n),
                  FER_DETECT_OK);
        boxes.resize(size_t(std::min<int32_t>(n, 256)));
        return boxes;
    };
    const auto one_pass = run(24, 100000000), cascade = run(24, 0), coarse = run(0, 0);
    auto iou = [](const fer_box & a, const fer_box & b) {
        const double ix = std::max(0, std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x));
        const double iy = std::max(0, std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y));
        return ix * iy / (double(a.width) * a.height + double(b.width) * b.height - ix * iy);
    };
    auto matched = [&](const std::vector<fer_box> & of, const std::vector<fer_box> & in) {
        int m = 0;
        for (const fer_box & a : of) {
            bool hit = false;
            for (const fer_box & b : in) hit = hit || iou(a, b) >= 0.5;
            m += hit;
        }
        return m;
    };
    std::printf("one pass %zu, cascade %zu (%d matched), default %zu faces\n", one_pass.size(), cascade.size(), matched(one_pass, cascade), coarse.size());
    ASSERT_GE(one_pass.size(), 60u) << "the full pass should find nearly all 65 faces";
    EXPECT_GE(matched(one_pass, cascade), int(one_pass.size()) * 95 / 100) << "cascade " << cascade.size();
    EXPECT_LE(cascade.size(), one_pass.size() + 3) << "no crop of a face counted twice";
    int large = 0;
    for (const fer_box & b : cascade) large += b.height >= 100;  // the small copies: under 60 px
    EXPECT_EQ(large, 5) << "the enlarged copy's faces";
    EXPECT_LT(coarse.size(), one_pass.size() / 2) << "the default 640 px pass should miss the small faces";
    for (const fer_box & b : cascade) {
        EXPECT_EQ(b.n_landmarks, 5);
        EXPECT_GE(b.width, 24);
    }
    // the tiles read the image at 4 bytes a pixel just as at 3: the same pixels, the same faces
    const auto cascade_rgba = run(24, 0, true);
    ASSERT_EQ(cascade_rgba.size(), cascade.size());
    for (size_t i = 0; i < cascade.size(); ++i) {
        EXPECT_EQ(cascade_rgba[i].x, cascade[i].x);
        EXPECT_EQ(cascade_rgba[i].y, cascade[i].y);
        EXPECT_EQ(cascade_rgba[i].width, cascade[i].width);
        EXPECT_FLOAT_EQ(cascade_rgba[i].score, cascade[i].score);
    }
}

// ---- cascade readers: untrusted input ----

TEST(DetectLoad, TinyCascadeLoadsFromXmlAndBinary) {
    std::string msg;
    ASSERT_EQ(load_status(k_tiny_xml, &msg), FER_DETECT_OK) << msg;
    detector_ptr d(fer_detector_load_from_memory(k_tiny_xml, std::strlen(k_tiny_xml), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    EXPECT_EQ(fer_detector_window_width(d.d), 24);
    EXPECT_EQ(fer_detector_n_stages(d.d), 1);
    size_t size = 0;
    fer_detector_save_binary(d.d, nullptr, &size);
    std::string bin(size, '\0');
    ASSERT_EQ(fer_detector_save_binary(d.d, bin.data(), &size), FER_DETECT_OK);
    EXPECT_EQ(load_status(bin, &msg), FER_DETECT_OK) << msg;
    size_t small = size - 1;
    EXPECT_EQ(fer_detector_save_binary(d.d, bin.data(), &small), FER_DETECT_ERR_ARGUMENT);
}

TEST(DetectLoad, BadFilesGiveClearErrors) {
    char err[512];
    fer_detect_status st = FER_DETECT_OK;
    EXPECT_EQ(fer_detector_load_from_file("/nonexistent/cascade.xml", &st, err, sizeof err), nullptr);
    EXPECT_EQ(st, FER_DETECT_ERR_IO);
    EXPECT_NE(std::string(err).find("/nonexistent/cascade.xml"), std::string::npos) << err;
    EXPECT_EQ(fer_detector_load_from_file(nullptr, &st, err, sizeof err), nullptr);
    EXPECT_EQ(st, FER_DETECT_ERR_ARGUMENT);
    EXPECT_EQ(fer_detector_load_from_memory(nullptr, 0, &st, err, sizeof err), nullptr);
    EXPECT_EQ(st, FER_DETECT_ERR_ARGUMENT);
    // Truncated error buffer: still NUL-terminated.
    char tiny[8];
    EXPECT_EQ(fer_detector_load_from_file("/nonexistent/cascade.xml", nullptr, tiny, sizeof tiny), nullptr);
    EXPECT_EQ(std::strlen(tiny), 7u);

    const std::string x = k_tiny_xml;
    struct bad {
        std::string text, expect;
    };
    const std::vector<bad> cases = {
        {"hello, world", "not an XML file"},
        {"\x89PNG\r\n\x1a\n\0\0\0", "not an XML file"},
        {x.substr(0, x.size() / 2), "unexpected end of file"},
        {"<a><b></a></b>", "does not match"},
        {"<root/>", "not <opencv_storage>"},
        {std::string(5000, '<'), "malformed tag"},
        {[] {
             std::string s;
             for (int i = 0; i < 200; ++i) s += "<a>";
             return s;
         }(),
         "nested too deeply"},
        {replace(x, "BOOST", "GAB"), "unsupported stageType"},
        {replace(x, "HAAR", "LBP"), "unsupported featureType"},
        {replace(x, "<width>24</width>", "<width>1000</width>"), "window"},
        {replace(x, "<width>24</width>", "<width>2.5</width>"), "integers"},
        {replace(x, "<width>24</width>", ""), "missing <width>"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 7 1.2e-02"), "feature index 7 out of range"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 -3 1.2e-02"), "feature index"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 1"), "groups of 4"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 1 nan"), "not a number"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 1 1e999"), "not a number"},
        {replace(x, "0 -1 1 1.2e-02", "0 -1 1 zz"), "not a number"},
        {replace(x, "<leafValues>-1.0 1.5</leafValues>", "<leafValues>-1.0</leafValues>"), "N+1 leaf values"},
        {replace(x, "0 -1 0 -3.1e-02", "0 1 0 -3.1e-02"), "bad child index"},  // node 0 -> node 1 (none)
        {replace(x, "0 -1 0 -3.1e-02", "0 -5 0 -3.1e-02"), "bad child index"},
        {replace(x, "6 4 12 9 -1.", "6 4 19 9 -1."), "outside"},
        {replace(x, "6 4 12 9 -1.", "-6 4 12 9 -1."), "outside"},
        {replace(x, "6 4 12 9 -1.", "6 4 12 9"), "4 integers and a weight"},
        {replace(x, "<tilted>0</tilted>", "<tilted>1</tilted>"), "outside"},  // 6 - 7 < 0 as a tilted rect
        {replace(x, "<_>6 4 12 9 -1.</_>", "<_>1 1 1 1 1</_><_>1 1 1 1 1</_><_>1 1 1 1 1</_><_>1 1 1 1 1</_>"),
         "1 to 3 rectangles"},
        {replace(x, "<stageThreshold>-1.5</stageThreshold>", ""), "missing <stageThreshold>"},
        {replace(x, "<features>", "<features><_><rects></rects></_>"), "1 to 3 rectangles"},
        {replace(x, "<stageType>BOOST</stageType>", "<stages/>"), "old-style cascade"},
        {"<opencv_storage><cascade><stageType>BOOST</stageType><featureType>HAAR</featureType><width>24</width>"
         "<height>24</height><featureParams/><stages/><features/></cascade></opencv_storage>",
         "no stages"},
    };
    for (const bad & c : cases) {
        std::string msg;
        const fer_detect_status st2 = load_status(c.text, &msg);
        EXPECT_NE(st2, FER_DETECT_OK) << "accepted: " << c.text.substr(0, 200);
        EXPECT_NE(msg.find(c.expect), std::string::npos) << "message '" << msg << "' lacks '" << c.expect << "'";
    }
    // The error names the line.
    std::string msg;
    load_status(replace(x, "0 -1 1 1.2e-02", "0 -1 1 zz"), &msg);
    EXPECT_NE(msg.find("line 16"), std::string::npos) << msg;
}

TEST(DetectLoad, BadBinaryGivesClearErrors) {
    detector_ptr d(fer_detector_load_from_memory(k_tiny_xml, std::strlen(k_tiny_xml), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    size_t size = 0;
    fer_detector_save_binary(d.d, nullptr, &size);
    std::string bin(size, '\0');
    fer_detector_save_binary(d.d, bin.data(), &size);
    std::string msg;
    for (size_t cut : {size_t(8), size_t(20), size_t(40), size - 1}) {
        EXPECT_EQ(load_status(bin.substr(0, cut), &msg), FER_DETECT_ERR_FORMAT) << cut;
        EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    }
    EXPECT_EQ(load_status(bin + "x", &msg), FER_DETECT_ERR_FORMAT);
    EXPECT_NE(msg.find("trailing"), std::string::npos) << msg;
    std::string huge = bin;
    huge[8 + 4 * 4] = '\x7f';  // n_nodes: enormous
    huge[8 + 4 * 4 + 3] = '\x7f';
    EXPECT_EQ(load_status(huge, &msg), FER_DETECT_ERR_FORMAT);
    EXPECT_NE(msg.find("impossible counts"), std::string::npos) << msg;
}

TEST(DetectLoad, RandomCorruptionNeverCrashes) {
    // Mutated cascades must be rejected or load into something that runs.
    detector_ptr d(fer_detector_load_from_memory(k_tiny_xml, std::strlen(k_tiny_xml), nullptr, nullptr, 0));
    ASSERT_NE(d.d, nullptr);
    size_t size = 0;
    fer_detector_save_binary(d.d, nullptr, &size);
    std::string bin(size, '\0');
    fer_detector_save_binary(d.d, bin.data(), &size);
    std::mt19937 rng(5);
    cv::Mat img(48, 64, CV_8U);
    cv::RNG(9).fill(img, cv::RNG::UNIFORM, 0, 256);
    const fer_detect_params p = fer_detect_default_params();
    int loaded = 0;
    for (int t = 0; t < 3000; ++t) {
        std::string s = (t % 2) ? bin : std::string(k_tiny_xml);
        const int n_mut = 1 + int(rng() % 4);
        for (int m = 0; m < n_mut; ++m) {
            const size_t at = rng() % s.size();
            switch (rng() % 4) {
                case 0: s[at] = char(rng()); break;
                case 1: s.erase(at, 1 + rng() % 8); break;
                case 2: s.insert(at, 1, "<>/ -0123456789e."[rng() % 17]); break;
                default: s.resize(at); break;
            }
            if (s.empty()) {
                s = "x";
            }
        }
        fer_detector * x = fer_detector_load_from_memory(s.data(), s.size(), nullptr, nullptr, 0);
        if (x) {
            ++loaded;
            fer_box b[8];
            int32_t n;
            EXPECT_EQ(fer_detector_detect(x, img.data, img.cols, img.rows, int32_t(img.step), &p, b, 8, &n),
                      FER_DETECT_OK);
            fer_detector_free(x);
        }
    }
    EXPECT_GT(loaded, 0) << "some harmless mutations (digits) should still load";
}

TEST(DetectLoad, EveryInstalledCascadeLoadsOrIsRejectedClearly) {
    if (!fs::exists(k_haar_dir)) {
        GTEST_SKIP() << k_haar_dir << " not found (Debian package opencv-data)";
    }
    for (const auto & e : fs::directory_iterator(k_haar_dir)) {
        if (e.path().extension() != ".xml") {
            continue;
        }
        char err[512] = "";
        fer_detect_status st;
        fer_detector * d = fer_detector_load_from_file(e.path().c_str(), &st, err, sizeof err);
        if (!d) {
            // Only the old-style (opencv-haar-classifier) files are refused.
            EXPECT_NE(std::string(err).find("old-style"), std::string::npos) << e.path() << ": " << err;
        }
        fer_detector_free(d);
    }
}
