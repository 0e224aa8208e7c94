// FER2013 in the two forms users have: the original `emotion,pixels,Usage`
// CSV (streamed, every row validated) and image-folder trees
// `<root>/<class>/*` or `<root>/<Split>/<class>/*`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fer {

constexpr int k_image_side = 48;
constexpr int k_image_pixels = k_image_side * k_image_side;
constexpr int k_soft_views = 2;  // teacher outputs per face: as it is, mirrored
constexpr int k_soft_width = k_soft_views * 7;

// Faces as 48x48 grey images, row-major, one label (FER2013 order) each.
struct dataset {
    std::vector<uint8_t> pixels;       // size() * k_image_pixels
    std::vector<int64_t> labels;       // 0..6
    std::vector<std::string> sources;  // "file:line" or image path, for reports
    // Optional teacher outputs for distillation (train/teacher-file.h): empty, or
    // size() * k_soft_width floats per face: the 7 probabilities of the face as
    // it is, then the 7 of its mirror image.
    std::vector<float> soft;

    size_t size() const { return labels.size(); }
    const uint8_t * image(size_t i) const { return pixels.data() + i * k_image_pixels; }
    std::vector<int64_t> class_counts() const;
    void append(const uint8_t * image, int64_t label, std::string source);
};

// The Usage values of fer2013.csv, which are also the split folder names.
bool is_known_split(const std::string & split);

// Reads a CSV file. `split` empty keeps every row, otherwise only rows whose
// Usage equals it. Throws fer::error (input) naming file, line and field.
dataset load_csv(const std::string & path, const std::string & split);

// Reads an image-folder tree. With a split, `<root>/<split>` is used when it
// exists; otherwise class folders directly under root. Unknown class folders
// are skipped with a warning; unreadable images are errors naming the file.
dataset load_image_folder(const std::string & root, const std::string & split, int n_threads = 2);

// Dispatches on the path: a regular file is CSV, a directory an image tree.
dataset load_dataset(const std::string & path, const std::string & split, int n_threads = 2);

// A deterministic random subset of n_total faces (all when n_total is 0 or too big).
dataset subsample(const dataset & d, size_t n_total, uint64_t seed);

// The faces at `indices`, in that order (with their soft targets, if any).
dataset subset(const dataset & d, const std::vector<size_t> & indices);

}  // namespace fer
