#include "dataset.h"

#include "error.h"
#include "fer.h"
#include "image-io.h"
#include "log.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

namespace fs = std::filesystem;

namespace fer {

std::vector<int64_t> dataset::class_counts() const {
    std::vector<int64_t> counts(FER_N_CLASSES, 0);
    for (int64_t l : labels) {
        counts[static_cast<size_t>(l)]++;
    }
    return counts;
}

void dataset::append(const uint8_t * image, int64_t label, std::string source) {
    pixels.insert(pixels.end(), image, image + k_image_pixels);
    labels.push_back(label);
    sources.push_back(std::move(source));
}

bool is_known_split(const std::string & split) {
    return split == "Training" || split == "PublicTest" || split == "PrivateTest";
}

namespace {

// Splits one CSV line into fields; FER2013 has no embedded commas, but quoted
// fields (as some tools write them) are unquoted.
std::vector<std::string> split_fields(const std::string & line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (char c : line) {
        if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    return fields;
}

std::string trim(const std::string & s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

[[noreturn]] void row_error(const std::string & path, size_t line, const std::string & what) {
    throw input_error(path + ":" + std::to_string(line) + ": " + what);
}

void parse_pixels(const std::string & field, uint8_t * out, const std::string & path, size_t line) {
    size_t n = 0;
    size_t i = 0;
    const size_t len = field.size();
    while (i < len) {
        while (i < len && field[i] == ' ') {
            ++i;
        }
        if (i >= len) {
            break;
        }
        size_t start = i;
        int value = 0;
        while (i < len && field[i] != ' ') {
            char c = field[i];
            if (c < '0' || c > '9') {
                row_error(path, line, "field 'pixels': value " + std::to_string(n + 1) + " '" +
                                          field.substr(start, std::min<size_t>(16, len - start)) +
                                          "' is not an integer");
            }
            value = std::min(value * 10 + (c - '0'), 100000);
            ++i;
        }
        if (value > 255) {
            row_error(path, line, "field 'pixels': value " + std::to_string(n + 1) + " is " +
                                      field.substr(start, i - start) + ", outside 0..255");
        }
        if (n < static_cast<size_t>(k_image_pixels)) {
            out[n] = static_cast<uint8_t>(value);
        }
        ++n;
    }
    if (n != static_cast<size_t>(k_image_pixels)) {
        row_error(path, line, "field 'pixels': expected " + std::to_string(k_image_pixels) + " values, got " +
                                  std::to_string(n));
    }
}

}  // namespace

dataset load_csv(const std::string & path, const std::string & split) {
    if (!split.empty() && !is_known_split(split)) {
        throw usage_error("unknown split '" + split + "' (expected Training, PublicTest or PrivateTest)");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot open file");
    }
    std::string line;
    if (!std::getline(in, line)) {
        throw input_error(path + ": empty file (expected header 'emotion,pixels,Usage')");
    }
    if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF) {
        line = line.substr(3);  // UTF-8 byte order mark
    }
    std::vector<std::string> header = split_fields(trim(line));
    for (auto & h : header) {
        h = trim(h);
    }
    if (header != std::vector<std::string>{"emotion", "pixels", "Usage"}) {
        throw input_error(path + ":1: header is '" + trim(line).substr(0, 60) +
                          "', expected 'emotion,pixels,Usage'");
    }
    dataset d;
    uint8_t image[k_image_pixels];
    size_t line_no = 1;
    while (std::getline(in, line)) {
        ++line_no;
        if (trim(line).empty()) {
            continue;
        }
        std::vector<std::string> f = split_fields(line);
        if (f.size() != 3) {
            row_error(path, line_no, "expected 3 fields (emotion,pixels,Usage), got " + std::to_string(f.size()));
        }
        const std::string label_s = trim(f[0]);
        const std::string usage = trim(f[2]);
        if (label_s.size() != 1 || label_s[0] < '0' || label_s[0] > '6') {
            row_error(path, line_no, "field 'emotion': '" + label_s.substr(0, 16) + "' is not a label 0..6");
        }
        if (!is_known_split(usage)) {
            row_error(path, line_no, "field 'Usage': '" + usage.substr(0, 32) +
                                         "' is not Training, PublicTest or PrivateTest");
        }
        parse_pixels(f[1], image, path, line_no);
        if (split.empty() || usage == split) {
            d.append(image, label_s[0] - '0', path + ":" + std::to_string(line_no));
        }
    }
    if (in.bad()) {
        throw input_error(path + ": read error after line " + std::to_string(line_no));
    }
    if (d.size() == 0) {
        throw input_error(path + ": no rows" + (split.empty() ? std::string() : " with Usage '" + split + "'"));
    }
    return d;
}

namespace {

bool has_class_folders(const fs::path & root) {
    std::error_code ec;
    for (const auto & e : fs::directory_iterator(root, ec)) {
        if (e.is_directory() && fer_class_from_name(e.path().filename().string().c_str()) >= 0) {
            return true;
        }
    }
    return false;
}

}  // namespace

dataset load_image_folder(const std::string & root_s, const std::string & split, int n_threads) {
    fs::path root(root_s);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        throw input_error(root_s + ": not a directory");
    }
    fs::path base = root;
    if (!split.empty() && fs::is_directory(root / split, ec)) {
        base = root / split;
    } else if (!has_class_folders(root)) {
        std::string hint = split.empty() ? std::string(" (use --split to pick a split folder)")
                                         : " and no split folder '" + split + "'";
        throw input_error(root_s + ": no class folders (angry, disgust, fear, happy, sad, surprise, neutral)" + hint);
    } else if (!split.empty()) {
        log_info("note: " + root_s + " has no '" + split + "' folder; using its class folders");
    }

    struct item {
        fs::path path;
        int64_t label;
    };
    std::vector<item> items;
    std::vector<fs::path> class_dirs;
    for (const auto & e : fs::directory_iterator(base)) {
        class_dirs.push_back(e.path());
    }
    std::sort(class_dirs.begin(), class_dirs.end());
    for (const auto & dir : class_dirs) {
        const std::string name = dir.filename().string();
        if (!fs::is_directory(dir, ec)) {
            continue;
        }
        int cls = fer_class_from_name(name.c_str());
        if (cls < 0) {
            log_warning("skipping folder '" + dir.string() + "': not one of the seven FER2013 classes");
            continue;
        }
        std::vector<fs::path> files;
        for (const auto & f : fs::recursive_directory_iterator(dir)) {
            if (!f.is_regular_file()) {
                continue;
            }
            const std::string fname = f.path().filename().string();
            if (fname.empty() || fname[0] == '.') {
                continue;
            }
            if (!is_image_file_name(f.path().string())) {
                log_warning("skipping '" + f.path().string() + "': not an image file name");
                continue;
            }
            files.push_back(f.path());
        }
        std::sort(files.begin(), files.end());
        for (auto & f : files) {
            items.push_back({std::move(f), cls});
        }
    }
    if (items.empty()) {
        throw input_error(base.string() + ": no images in the class folders");
    }

    // Decode on worker threads; each slot is written by exactly one thread.
    std::vector<uint8_t> pixels(items.size() * k_image_pixels);
    std::vector<std::string> errors(items.size());
    std::atomic<size_t> next{0};
    auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < items.size();) {
            std::string err;
            if (!read_face_image(items[i].path.string(), pixels.data() + i * k_image_pixels, &err)) {
                errors[i] = err;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < std::max(1, n_threads); ++t) {
        pool.emplace_back(work);
    }
    work();
    for (auto & t : pool) {
        t.join();
    }
    for (size_t i = 0; i < items.size(); ++i) {
        if (!errors[i].empty()) {
            throw input_error(items[i].path.string() + ": " + errors[i]);
        }
    }
    dataset d;
    d.pixels = std::move(pixels);
    d.labels.reserve(items.size());
    d.sources.reserve(items.size());
    for (auto & it : items) {
        d.labels.push_back(it.label);
        d.sources.push_back(it.path.string());
    }
    return d;
}

dataset load_dataset(const std::string & path, const std::string & split, int n_threads) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        throw input_error(path + ": no such file or directory");
    }
    if (fs::is_directory(path, ec)) {
        return load_image_folder(path, split, n_threads);
    }
    return load_csv(path, split);
}

dataset subsample(const dataset & d, size_t n_total, uint64_t seed) {
    if (n_total == 0 || n_total >= d.size()) {
        return d;
    }
    std::vector<size_t> order(d.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    order.resize(n_total);
    std::sort(order.begin(), order.end());
    return subset(d, order);
}

dataset subset(const dataset & d, const std::vector<size_t> & indices) {
    dataset out;
    out.pixels.reserve(indices.size() * k_image_pixels);
    out.labels.reserve(indices.size());
    out.sources.reserve(indices.size());
    const bool soft = !d.soft.empty();
    for (size_t i : indices) {
        if (i >= d.size()) {
            throw runtime_error("subset: index " + std::to_string(i) + " out of range");
        }
        out.append(d.image(i), d.labels[i], d.sources[i]);
        if (soft) {
            const float * t = d.soft.data() + i * k_soft_width;
            out.soft.insert(out.soft.end(), t, t + k_soft_width);
        }
    }
    return out;
}

}  // namespace fer
