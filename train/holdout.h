// The selection split: a fixed part of Training held out for choosing epochs
// and recipes, so that PublicTest is touched once per shipped model.
//
// Definition (docs/architecture.md, "Honest selection"): per class, every face
// gets the key hash(seed, name), where name is its file name without folders
// (image trees: "Training_10118481.jpg") or its line number (fer2013.csv); the
// faces are sorted by key (then name) and the first round(fraction * n_class)
// are held out (at least 1 and at most n_class - 1 when n_class >= 2). It depends neither on load order nor on paths nor on the JPEG
// decoder, so every machine and every run gets the same faces; the CSV and the
// image-folder forms of FER2013 name faces differently and so hold out
// different (equally sized, equally stratified) sets.
#pragma once

#include "dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fer {

constexpr double k_holdout_fraction = 0.1;
constexpr uint64_t k_holdout_seed = 2013;

// The stable name of a face from its source: the file name for an image, the
// line number for a CSV row ("/x/fer2013.csv:123" -> "123").
std::string face_name(const std::string & source);

struct holdout_indices {
    std::vector<size_t> train;    // ascending
    std::vector<size_t> holdout;  // ascending
};

// Throws a usage error unless 0 < fraction < 1.
holdout_indices holdout_split(const dataset & d, double fraction = k_holdout_fraction,
                              uint64_t seed = k_holdout_seed);

// 64-bit fingerprint of a dataset's faces in order: count, names and labels
// (not pixels, which depend on the JPEG decoder). Teacher files carry it.
uint64_t dataset_fingerprint(const dataset & d);

}  // namespace fer
