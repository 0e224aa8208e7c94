// FER2013 loaders: the `emotion,pixels,Usage` CSV parser (valid files and every
// kind of malformed row), the image-folder loader, the class names of the
// runtime (include/fer.h) and subsample. Fixtures are generated into a fresh
// temporary folder per test; the real sample CSV comes from FER_SHARED_DATA.

#include "test-util.h"
#include "dataset.h"
#include "error.h"
#include "fer.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

// ---- helpers --------------------------------------------------------------

class temp_dir : public fer_test::temp_dir {
public:
    temp_dir() : fer_test::temp_dir("fer-test-dataset") {}
};

void write_file(const fs::path & path, const std::string & bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
    ASSERT_TRUE(out.good()) << path;
}

// A deterministic, distinct 48x48 face for (label, index).
std::vector<uint8_t> face(int label, int index) {
    std::vector<uint8_t> px(fer::k_image_pixels);
    for (int i = 0; i < fer::k_image_pixels; ++i) {
        px[static_cast<size_t>(i)] = static_cast<uint8_t>((label * 37 + index * 11 + i * 7 + (i / 48) * 3) % 256);
    }
    return px;
}

std::string pixels_field(const std::vector<uint8_t> & px) {
    std::string s;
    for (size_t i = 0; i < px.size(); ++i) {
        if (i) s += ' ';
        s += std::to_string(px[i]);
    }
    return s;
}

std::string pixels_field_ints(const std::vector<std::string> & values) {
    std::string s;
    for (size_t i = 0; i < values.size(); ++i) {
        if (i) s += ' ';
        s += values[i];
    }
    return s;
}

std::string row(int label, int index, const std::string & usage, const std::string & eol = "\n") {
    return std::to_string(label) + "," + pixels_field(face(label, index)) + "," + usage + eol;
}

const std::string k_header = "emotion,pixels,Usage\n";

std::vector<uint8_t> image_of(const fer::dataset & d, size_t i) {
    return std::vector<uint8_t>(d.image(i), d.image(i) + fer::k_image_pixels);
}

using fer_test::expect_error;

// ---- CSV: valid files -------------------------------------------------------

TEST(Csv, ValidFileLabelsPixelsAndSources) {
    temp_dir tmp;
    const std::string path = tmp / "faces.csv";
    write_file(path, k_header + row(0, 0, "Training") + row(6, 1, "PublicTest") + row(3, 2, "PrivateTest") +
                         row(5, 3, "Training"));
    fer::dataset d = fer::load_csv(path, "");
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d.labels, (std::vector<int64_t>{0, 6, 3, 5}));
    EXPECT_EQ(d.pixels.size(), 4u * fer::k_image_pixels);
    EXPECT_EQ(image_of(d, 0), face(0, 0));
    EXPECT_EQ(image_of(d, 1), face(6, 1));
    EXPECT_EQ(image_of(d, 2), face(3, 2));
    EXPECT_EQ(image_of(d, 3), face(5, 3));
    ASSERT_EQ(d.sources.size(), 4u);
    EXPECT_EQ(d.sources[0], path + ":2");
    EXPECT_EQ(d.sources[3], path + ":5");
    EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{1, 0, 0, 1, 0, 1, 1}));
}

TEST(Csv, ExtremePixelValues) {
    temp_dir tmp;
    const std::string path = tmp / "extremes.csv";
    std::vector<uint8_t> px(fer::k_image_pixels, 0);
    for (size_t i = 0; i < px.size(); i += 2) px[i] = 255;
    write_file(path, k_header + "2," + pixels_field(px) + ",Training\n");
    fer::dataset d = fer::load_csv(path, "");
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(image_of(d, 0), px);
}

TEST(Csv, SplitFiltering) {
    temp_dir tmp;
    const std::string path = tmp / "splits.csv";
    write_file(path, k_header + row(1, 0, "Training") + row(2, 1, "PublicTest") + row(3, 2, "Training") +
                         row(4, 3, "PrivateTest") + row(5, 4, "PublicTest") + row(6, 5, "Training"));
    fer::dataset all = fer::load_csv(path, "");
    EXPECT_EQ(all.size(), 6u);

    fer::dataset tr = fer::load_csv(path, "Training");
    EXPECT_EQ(tr.labels, (std::vector<int64_t>{1, 3, 6}));
    EXPECT_EQ(tr.sources, (std::vector<std::string>{path + ":2", path + ":4", path + ":7"}));
    EXPECT_EQ(image_of(tr, 1), face(3, 2));

    fer::dataset pub = fer::load_csv(path, "PublicTest");
    EXPECT_EQ(pub.labels, (std::vector<int64_t>{2, 5}));
    EXPECT_EQ(image_of(pub, 1), face(5, 4));

    fer::dataset priv = fer::load_csv(path, "PrivateTest");
    EXPECT_EQ(priv.labels, (std::vector<int64_t>{4}));
    EXPECT_EQ(image_of(priv, 0), face(4, 3));
}

TEST(Csv, UnknownSplitArgumentIsUsageError) {
    temp_dir tmp;
    const std::string path = tmp / "faces.csv";
    write_file(path, k_header + row(1, 0, "Training"));
    expect_error([&] { fer::load_csv(path, "Validation"); }, fer::error_kind::usage, {"Validation"});
}

TEST(Csv, SplitWithNoRowsIsInputError) {
    temp_dir tmp;
    const std::string path = tmp / "train-only.csv";
    write_file(path, k_header + row(1, 0, "Training") + row(2, 1, "Training"));
    expect_error([&] { fer::load_csv(path, "PublicTest"); }, fer::error_kind::input, {path, "PublicTest"});
}

TEST(Csv, HeaderOnlyIsInputError) {
    temp_dir tmp;
    const std::string path = tmp / "header-only.csv";
    write_file(path, k_header);
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path});
}

TEST(Csv, CrlfLineEndings) {
    temp_dir tmp;
    const std::string path = tmp / "crlf.csv";
    write_file(path, "emotion,pixels,Usage\r\n" + row(4, 0, "Training", "\r\n") + row(1, 1, "PublicTest", "\r\n") +
                         row(6, 2, "Training", "\r\n"));
    fer::dataset d = fer::load_csv(path, "");
    EXPECT_EQ(d.labels, (std::vector<int64_t>{4, 1, 6}));
    EXPECT_EQ(image_of(d, 0), face(4, 0));
    EXPECT_EQ(image_of(d, 2), face(6, 2));
    // The Usage field ends the line: its '\r' must not break split matching.
    fer::dataset tr = fer::load_csv(path, "Training");
    EXPECT_EQ(tr.labels, (std::vector<int64_t>{4, 6}));
    fer::dataset pub = fer::load_csv(path, "PublicTest");
    EXPECT_EQ(pub.labels, (std::vector<int64_t>{1}));
}

TEST(Csv, QuotedFields) {
    temp_dir tmp;
    const std::string path = tmp / "quoted.csv";
    write_file(path, "\"emotion\",\"pixels\",\"Usage\"\n"
                     "2,\"" + pixels_field(face(2, 0)) + "\",Training\n"
                     "\"5\",\"" + pixels_field(face(5, 1)) + "\",\"PublicTest\"\r\n");
    fer::dataset d = fer::load_csv(path, "");
    EXPECT_EQ(d.labels, (std::vector<int64_t>{2, 5}));
    EXPECT_EQ(image_of(d, 0), face(2, 0));
    EXPECT_EQ(image_of(d, 1), face(5, 1));
    EXPECT_EQ(fer::load_csv(path, "PublicTest").labels, (std::vector<int64_t>{5}));
}

TEST(Csv, Utf8ByteOrderMarkAndBlankLines) {
    temp_dir tmp;
    const std::string path = tmp / "bom.csv";
    write_file(path, "\xEF\xBB\xBF" + k_header + row(0, 0, "Training") + "\n" + row(3, 1, "Training") + "\n\n");
    fer::dataset d = fer::load_csv(path, "");
    EXPECT_EQ(d.labels, (std::vector<int64_t>{0, 3}));
    // Blank lines count: the second face is on physical line 4.
    EXPECT_EQ(d.sources[1], path + ":4");
}

TEST(Csv, LoadDatasetDispatchesOnFile) {
    temp_dir tmp;
    const std::string path = tmp / "faces.csv";
    write_file(path, k_header + row(1, 0, "Training") + row(2, 1, "PublicTest"));
    fer::dataset d = fer::load_dataset(path, "PublicTest");
    EXPECT_EQ(d.labels, (std::vector<int64_t>{2}));
    expect_error([&] { fer::load_dataset(tmp / "nope.csv", ""); }, fer::error_kind::input, {tmp / "nope.csv"});
}

// ---- CSV: malformed files ------------------------------------------------------

TEST(CsvMalformed, MissingFile) {
    temp_dir tmp;
    const std::string path = tmp / "does-not-exist.csv";
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path});
}

TEST(CsvMalformed, EmptyFile) {
    temp_dir tmp;
    const std::string path = tmp / "empty.csv";
    write_file(path, "");
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path});
}

TEST(CsvMalformed, WrongHeader) {
    temp_dir tmp;
    for (const std::string header : {"label,pixels,Usage", "emotion,pixels", "emotion,pixels,Usage,extra",
                                     "pixels,emotion,Usage", "0,1 2 3,Training"}) {
        SCOPED_TRACE(header);
        const std::string path = tmp / "header.csv";
        write_file(path, header + "\n" + row(1, 0, "Training"));
        expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path + ":1"});
    }
}

TEST(CsvMalformed, BinaryGarbageFile) {
    temp_dir tmp;
    const std::string path = tmp / "garbage.csv";
    std::mt19937 rng(12345);
    std::string bytes(4096, '\0');
    for (char & c : bytes) c = static_cast<char>(rng() & 0xFF);
    bytes[0] = '\x89';  // not a BOM: the header itself is garbage
    write_file(path, bytes);
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path + ":1"});
}

// One bad row at line 3, after the header and one valid row.
struct bad_row {
    const char * name;
    std::string line;
};

std::string pixels_with(size_t n, const std::string & at_10 = "") {
    std::vector<std::string> v;
    for (size_t i = 0; i < n; ++i) v.push_back(std::to_string(i % 256));
    if (!at_10.empty()) v[10] = at_10;
    return pixels_field_ints(v);
}

std::vector<bad_row> bad_rows() {
    std::string garbage(300, '\0');
    std::mt19937 rng(777);
    for (char & c : garbage) {
        c = static_cast<char>(rng() & 0xFF);
        if (c == '\n' || c == '\r') c = '\x01';
    }
    garbage[0] = '\x9c';
    return {
        {"pixels_2303", "3," + pixels_with(2303) + ",Training\n"},
        {"pixels_2305", "3," + pixels_with(2305) + ",Training\n"},
        {"pixels_none", "3,,Training\n"},
        {"pixel_256", "3," + pixels_with(2304, "256") + ",Training\n"},
        {"pixel_huge", "3," + pixels_with(2304, "99999999999999999999") + ",Training\n"},
        {"pixel_not_integer", "3," + pixels_with(2304, "12a") + ",Training\n"},
        {"pixel_negative", "3," + pixels_with(2304, "-1") + ",Training\n"},
        {"pixel_decimal", "3," + pixels_with(2304, "1.5") + ",Training\n"},
        {"label_7", "7," + pixels_with(2304) + ",Training\n"},
        {"label_minus_1", "-1," + pixels_with(2304) + ",Training\n"},
        {"label_word", "happy," + pixels_with(2304) + ",Training\n"},
        {"label_empty", "," + pixels_with(2304) + ",Training\n"},
        {"label_decimal", "3.0," + pixels_with(2304) + ",Training\n"},
        {"usage_unknown", "3," + pixels_with(2304) + ",Validation\n"},
        {"usage_empty", "3," + pixels_with(2304) + ",\n"},
        {"fields_2", "3," + pixels_with(2304) + "\n"},
        {"fields_4", "3," + pixels_with(2304) + ",Training,extra\n"},
        {"fields_1", "3\n"},
        {"binary_garbage", garbage + "\n"},
    };
}

class CsvBadRow : public testing::TestWithParam<bad_row> {};

TEST_P(CsvBadRow, InputErrorNamingFileAndLine) {
    temp_dir tmp;
    const std::string path = tmp / (std::string(GetParam().name) + ".csv");
    write_file(path, k_header + row(1, 0, "Training") + GetParam().line + row(2, 1, "Training"));
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path + ":3"});
    // A split filter does not skip validation of the other splits' rows.
    expect_error([&] { fer::load_csv(path, "PrivateTest"); }, fer::error_kind::input, {path + ":3"});
}

INSTANTIATE_TEST_SUITE_P(Csv, CsvBadRow, testing::ValuesIn(bad_rows()),
                         [](const testing::TestParamInfo<bad_row> & info) { return std::string(info.param.name); });

TEST(CsvMalformed, LineNumberCountsBlankLines) {
    temp_dir tmp;
    const std::string path = tmp / "blank.csv";
    write_file(path, k_header + row(1, 0, "Training") + "\n\n" + "9," + pixels_with(2304) + ",Training\n");
    expect_error([&] { fer::load_csv(path, ""); }, fer::error_kind::input, {path + ":5"});
}

// ---- CSV: the real FER2013 sample ------------------------------------------------

const std::string k_sample_csv = std::string(FER_SHARED_DATA) + "/fer2013-sample.csv";

TEST(CsvSample, RowsPerSplitAndLabels) {
    if (!fs::is_regular_file(k_sample_csv)) {
        GTEST_SKIP() << "reference data " << k_sample_csv << " is absent (set FER_SHARED_DATA_DIR)";
    }
    // Independent count: label before the first comma, Usage after the last.
    std::map<std::string, std::vector<int64_t>> expected;  // split -> class counts
    std::vector<uint8_t> first_pixels;
    {
        std::ifstream in(k_sample_csv);
        std::string line;
        std::getline(in, line);
        while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            if (line.empty()) continue;
            const std::string usage = line.substr(line.rfind(',') + 1);
            const int label = std::stoi(line.substr(0, line.find(',')));
            auto & counts = expected[usage];
            counts.resize(7, 0);
            counts[static_cast<size_t>(label)]++;
            if (first_pixels.empty()) {
                std::istringstream px(line.substr(line.find(',') + 1, line.rfind(',') - line.find(',') - 1));
                for (int v; px >> v;) first_pixels.push_back(static_cast<uint8_t>(v));
            }
        }
    }
    fer::dataset all = fer::load_csv(k_sample_csv, "");
    EXPECT_EQ(all.size(), 1356u);  // documented in shared/data/README.md
    EXPECT_EQ(image_of(all, 0), first_pixels);
    for (int64_t l : all.labels) {
        ASSERT_GE(l, 0);
        ASSERT_LE(l, 6);
    }
    size_t total = 0;
    for (const std::string split : {"Training", "PublicTest", "PrivateTest"}) {
        SCOPED_TRACE(split);
        if (!expected.count(split)) {
            expect_error([&] { fer::load_csv(k_sample_csv, split); }, fer::error_kind::input, {k_sample_csv});
            continue;
        }
        fer::dataset d = fer::load_csv(k_sample_csv, split);
        EXPECT_EQ(d.class_counts(), expected[split]);
        total += d.size();
    }
    EXPECT_EQ(total, all.size());
    // README: 100 faces per class and split, all 56 PublicTest disgust faces.
    EXPECT_EQ(fer::load_csv(k_sample_csv, "Training").size(), 700u);
    EXPECT_EQ(fer::load_csv(k_sample_csv, "PublicTest").size(), 656u);
}

// ---- image folders ------------------------------------------------------------

// A 48x48 grey image distinct per (label, index).
cv::Mat grey_face(int label, int index) {
    std::vector<uint8_t> px = face(label, index);
    return cv::Mat(48, 48, CV_8UC1, px.data()).clone();
}

void write_png(const fs::path & path, const cv::Mat & img) {
    fs::create_directories(path.parent_path());
    ASSERT_TRUE(cv::imwrite(path.string(), img)) << path;
}

std::vector<uint8_t> mat_pixels(const cv::Mat & m) { return std::vector<uint8_t>(m.data, m.data + m.total()); }

TEST(ImageFolder, AliasesUnknownFoldersAndNonImages) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "faces";
    // folder -> expected label
    const std::vector<std::pair<std::string, int>> folders = {
        {"anger", FER_ANGRY},   {"disgusted", FER_DISGUST}, {"fearful", FER_FEAR},      {"happiness", FER_HAPPY},
        {"sadness", FER_SAD},   {"surprised", FER_SURPRISE}, {"Neutral", FER_NEUTRAL},
    };
    std::map<std::string, std::pair<int, std::vector<uint8_t>>> expected;  // path -> (label, pixels)
    int index = 0;
    for (const auto & [folder, label] : folders) {
        for (int k = 0; k < 2; ++k) {
            const fs::path p = root / folder / ("img" + std::to_string(k) + ".png");
            cv::Mat img = grey_face(label, index++);
            write_png(p, img);
            expected[p.string()] = {label, mat_pixels(img)};
        }
    }
    write_png(root / "contempt" / "c0.png", grey_face(0, 99));
    write_file(root / "happiness" / "readme.txt", "not an image");
    write_file(root / "happiness" / ".DS_Store", std::string("\x00\x01", 2));
    write_file(root / "notes.md", "a regular file at the root is not a class folder");

    testing::internal::CaptureStderr();
    fer::dataset d = fer::load_image_folder(root.string(), "", 2);
    const std::string err = testing::internal::GetCapturedStderr();

    ASSERT_EQ(d.size(), expected.size());
    std::set<std::string> seen;
    for (size_t i = 0; i < d.size(); ++i) {
        SCOPED_TRACE(d.sources[i]);
        auto it = expected.find(d.sources[i]);
        ASSERT_NE(it, expected.end()) << "unexpected image " << d.sources[i];
        EXPECT_EQ(d.labels[i], it->second.first);
        EXPECT_EQ(image_of(d, i), it->second.second);
        seen.insert(d.sources[i]);
    }
    EXPECT_EQ(seen.size(), expected.size());
    EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{2, 2, 2, 2, 2, 2, 2}));

    EXPECT_NE(err.find("contempt"), std::string::npos) << err;
    EXPECT_NE(err.find("readme.txt"), std::string::npos) << err;
    EXPECT_EQ(err.find(".DS_Store"), std::string::npos) << "hidden files are skipped silently: " << err;
}

TEST(ImageFolder, SplitFolders) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "fer2013";
    write_png(root / "Training" / "happy" / "t0.png", grey_face(3, 0));
    write_png(root / "Training" / "happy" / "t1.png", grey_face(3, 1));
    write_png(root / "Training" / "sad" / "t2.png", grey_face(4, 2));
    write_png(root / "PublicTest" / "angry" / "p0.png", grey_face(0, 3));

    fer::dataset tr = fer::load_image_folder(root.string(), "Training", 1);
    EXPECT_EQ(tr.labels, (std::vector<int64_t>{3, 3, 4}));
    EXPECT_EQ(image_of(tr, 2), face(4, 2));
    for (const auto & s : tr.sources) {
        EXPECT_NE(s.find("Training"), std::string::npos) << s;
    }

    fer::dataset pub = fer::load_dataset(root.string(), "PublicTest", 2);
    EXPECT_EQ(pub.labels, (std::vector<int64_t>{0}));
    EXPECT_EQ(image_of(pub, 0), face(0, 3));

    // No split and no class folders at the root; a split that is not there.
    expect_error([&] { fer::load_image_folder(root.string(), "", 1); }, fer::error_kind::input, {root.string()});
    expect_error([&] { fer::load_image_folder(root.string(), "PrivateTest", 1); }, fer::error_kind::input,
                 {root.string(), "PrivateTest"});
}

TEST(ImageFolder, SplitRequestedButOnlyClassFolders) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "flat";
    write_png(root / "surprise" / "a.png", grey_face(5, 0));
    fer::dataset d = fer::load_image_folder(root.string(), "Training", 1);
    EXPECT_EQ(d.labels, (std::vector<int64_t>{5}));
}

TEST(ImageFolder, ResizesAndConvertsToGrey) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "sizes";
    // 96x96: left half 0, right half 200 -> an exact 2x area downsample.
    cv::Mat big(96, 96, CV_8UC1, cv::Scalar(0));
    big(cv::Rect(48, 0, 48, 96)).setTo(200);
    write_png(root / "happy" / "a-big.png", big);
    // 120x60, not square, uniform 77.
    write_png(root / "happy" / "b-wide.png", cv::Mat(60, 120, CV_8UC1, cv::Scalar(77)));
    // Colour 48x48 (B=10, G=100, R=200): grey = 0.299 R + 0.587 G + 0.114 B = 119.6
    write_png(root / "happy" / "c-colour.png", cv::Mat(48, 48, CV_8UC3, cv::Scalar(10, 100, 200)));
    // 16x16 upsampled, uniform 33.
    write_png(root / "happy" / "d-small.png", cv::Mat(16, 16, CV_8UC1, cv::Scalar(33)));

    // 16-bit grey PNG: scaled to 8 bits (65535 -> 255, 0x8080 -> 128).
    cv::Mat deep(48, 48, CV_16UC1, cv::Scalar(65535));
    deep(cv::Rect(0, 0, 48, 24)).setTo(0x8080);
    write_png(root / "happy" / "e-16bit.png", deep);

    fer::dataset d = fer::load_image_folder(root.string(), "", 1);
    ASSERT_EQ(d.size(), 5u);
    ASSERT_EQ(d.pixels.size(), 5u * fer::k_image_pixels);
    EXPECT_EQ(d.image(4)[0], 128);
    EXPECT_EQ(d.image(4)[47 * 48 + 47], 255);
    const uint8_t * a = d.image(0);
    for (int y = 0; y < 48; ++y) {
        for (int x = 0; x < 48; ++x) {
            ASSERT_EQ(a[y * 48 + x], x < 24 ? 0 : 200) << "at " << x << "," << y;
        }
    }
    for (int i = 0; i < fer::k_image_pixels; ++i) {
        ASSERT_EQ(d.image(1)[i], 77) << i;
        ASSERT_NEAR(d.image(2)[i], 120, 1) << i;
        ASSERT_EQ(d.image(3)[i], 33) << i;
    }
}

TEST(ImageFolder, JpegAccepted) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "jpeg";
    write_png(root / "fear" / "a.jpg", cv::Mat(48, 48, CV_8UC1, cv::Scalar(128)));
    write_png(root / "fear" / "b.JPEG", cv::Mat(48, 48, CV_8UC1, cv::Scalar(64)));
    fer::dataset d = fer::load_image_folder(root.string(), "", 1);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d.labels, (std::vector<int64_t>{2, 2}));
    EXPECT_NEAR(d.image(0)[100], 128, 2);
    EXPECT_NEAR(d.image(1)[100], 64, 2);
}

TEST(ImageFolder, CorruptImageIsInputErrorNamingFile) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "corrupt";
    write_png(root / "happy" / "a-good.png", grey_face(3, 0));
    write_png(root / "happy" / "c-good.png", grey_face(3, 1));
    std::string bytes(2000, '\0');
    std::mt19937 rng(4242);
    for (char & c : bytes) c = static_cast<char>(rng() & 0xFF);
    const fs::path bad = root / "happy" / "b-bad.png";
    write_file(bad, bytes);
    expect_error([&] { fer::load_image_folder(root.string(), "", 2); }, fer::error_kind::input, {bad.string()});

    // A PNG signature followed by garbage, and an empty file, too.
    write_file(bad, std::string("\x89PNG\r\n\x1a\n", 8) + bytes);
    expect_error([&] { fer::load_image_folder(root.string(), "", 2); }, fer::error_kind::input, {bad.string()});
    write_file(bad, "");
    expect_error([&] { fer::load_image_folder(root.string(), "", 2); }, fer::error_kind::input, {bad.string()});
}

TEST(ImageFolder, NoImagesOrNotADirectory) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "empty";
    fs::create_directories(root / "happy");
    write_file(root / "happy" / "notes.txt", "x");
    testing::internal::CaptureStderr();
    expect_error([&] { fer::load_image_folder(root.string(), "", 1); }, fer::error_kind::input, {root.string()});
    testing::internal::GetCapturedStderr();
    expect_error([&] { fer::load_image_folder((root / "happy" / "notes.txt").string(), "", 1); },
                 fer::error_kind::input, {"notes.txt"});
}

TEST(ImageFolder, ImagesInNestedFoldersOfAClass) {
    temp_dir tmp;
    const fs::path root = tmp.path() / "nested";
    write_png(root / "sad" / "x" / "y" / "deep.png", grey_face(4, 7));
    fer::dataset d = fer::load_image_folder(root.string(), "", 1);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d.labels[0], FER_SAD);
    EXPECT_EQ(image_of(d, 0), face(4, 7));
}

// ---- class names (include/fer.h) ---------------------------------------------------

TEST(ClassNames, CanonicalNamesRoundTrip) {
    const char * expected[FER_N_CLASSES] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        ASSERT_NE(fer_class_name(c), nullptr);
        EXPECT_STREQ(fer_class_name(c), expected[c]);
        EXPECT_EQ(fer_class_from_name(fer_class_name(c)), c);
    }
    EXPECT_EQ(fer_class_name(-1), nullptr);
    EXPECT_EQ(fer_class_name(FER_N_CLASSES), nullptr);
}

TEST(ClassNames, AliasesAndCase) {
    EXPECT_EQ(fer_class_from_name("anger"), FER_ANGRY);
    EXPECT_EQ(fer_class_from_name("disgusted"), FER_DISGUST);
    EXPECT_EQ(fer_class_from_name("fearful"), FER_FEAR);
    EXPECT_EQ(fer_class_from_name("happiness"), FER_HAPPY);
    EXPECT_EQ(fer_class_from_name("sadness"), FER_SAD);
    EXPECT_EQ(fer_class_from_name("surprised"), FER_SURPRISE);
    EXPECT_EQ(fer_class_from_name("HAPPY"), FER_HAPPY);
    EXPECT_EQ(fer_class_from_name("Neutral"), FER_NEUTRAL);
    EXPECT_EQ(fer_class_from_name("SadNess"), FER_SAD);
}

TEST(ClassNames, UnknownNames) {
    for (const char * n : {"contempt", "", "happ", "happyy", "angry ", "0", "Training"}) {
        EXPECT_EQ(fer_class_from_name(n), -1) << "'" << n << "'";
    }
    EXPECT_EQ(fer_class_from_name(nullptr), -1);
}

TEST(Splits, KnownSplits) {
    EXPECT_TRUE(fer::is_known_split("Training"));
    EXPECT_TRUE(fer::is_known_split("PublicTest"));
    EXPECT_TRUE(fer::is_known_split("PrivateTest"));
    EXPECT_FALSE(fer::is_known_split("training"));
    EXPECT_FALSE(fer::is_known_split(""));
    EXPECT_FALSE(fer::is_known_split("Test"));
}

// ---- subsample ---------------------------------------------------------------------

fer::dataset numbered(size_t n) {
    fer::dataset d;
    for (size_t i = 0; i < n; ++i) {
        std::vector<uint8_t> px = face(static_cast<int>(i % 7), static_cast<int>(i));
        d.append(px.data(), static_cast<int64_t>(i % 7), "face" + std::to_string(i));
    }
    return d;
}

size_t index_of(const std::string & source) { return std::stoul(source.substr(4)); }

TEST(Subsample, DeterministicSubsetInOriginalOrder) {
    fer::dataset d = numbered(200);
    fer::dataset a = fer::subsample(d, 30, 7);
    fer::dataset b = fer::subsample(d, 30, 7);
    ASSERT_EQ(a.size(), 30u);
    EXPECT_EQ(a.sources, b.sources);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.pixels, b.pixels);
    // Each face keeps its own label and pixels, appears once, in the original order.
    size_t prev = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const size_t j = index_of(a.sources[i]);
        if (i) {
            EXPECT_GT(j, prev);
        }
        prev = j;
        EXPECT_EQ(a.labels[i], d.labels[j]);
        EXPECT_EQ(image_of(a, i), image_of(d, j));
    }
    // Another seed picks another subset.
    fer::dataset c = fer::subsample(d, 30, 8);
    EXPECT_NE(a.sources, c.sources);
}

TEST(Subsample, ZeroOrTooManyKeepsAll) {
    fer::dataset d = numbered(20);
    EXPECT_EQ(fer::subsample(d, 0, 1).sources, d.sources);
    EXPECT_EQ(fer::subsample(d, 20, 1).sources, d.sources);
    EXPECT_EQ(fer::subsample(d, 1000, 1).sources, d.sources);
    EXPECT_EQ(fer::subsample(d, 19, 1).size(), 19u);
}

TEST(Dataset, AppendAndClassCounts) {
    fer::dataset d;
    EXPECT_EQ(d.size(), 0u);
    EXPECT_EQ(d.class_counts(), std::vector<int64_t>(7, 0));
    std::vector<uint8_t> px = face(1, 1);
    d.append(px.data(), 6, "x");
    d.append(px.data(), 6, "y");
    d.append(px.data(), 0, "z");
    EXPECT_EQ(d.size(), 3u);
    EXPECT_EQ(d.pixels.size(), 3u * fer::k_image_pixels);
    EXPECT_EQ(d.class_counts(), (std::vector<int64_t>{1, 0, 0, 0, 0, 0, 2}));
    EXPECT_EQ(image_of(d, 2), px);
}

}  // namespace
