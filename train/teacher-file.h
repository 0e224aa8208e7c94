// Teacher outputs for distillation: the soft probabilities of one network (or
// ensemble) over every face of a training split, as it is and mirrored, stored
// once so that students train without running the teachers.
//
// Format (version 1): a text header, one "key value" per line, then raw data.
//
//   fer-teacher 1
//   count 28709                                         faces, in the order the data loads
//   classes angry,disgust,fear,happy,sad,surprise,neutral
//   views as-is,mirrored                                 per face, in this order
//   fingerprint 0123456789abcdef                         dataset_fingerprint (train/holdout.h)
//   source data/fer2013 [Training]                       for people; not checked
//   model runs/t1/best.pt                                for people; not checked
//   end
//   count x 2 x 7 float32, little-endian: face 0 as-is, face 0 mirrored, face 1 ...
//
// A file is rejected (input error naming file and field) unless count, class
// order and fingerprint match the data it is used with and every row is a
// probability vector.
#pragma once

#include "dataset.h"

#include <string>
#include <vector>

namespace fer {

// "angry,disgust,fear,happy,sad,surprise,neutral": fer's class order.
std::string class_order();

// `probs`: d.size() * k_soft_width floats. Written atomically.
void write_teacher_file(const std::string & path, const dataset & d, const std::vector<float> & probs,
                        const std::string & source, const std::string & model);

// The probabilities of a teacher file made for `d` (d.size() * k_soft_width floats).
std::vector<float> read_teacher_file(const std::string & path, const dataset & d);

// A comma-separated list of teacher files: the mean of their probabilities.
std::vector<float> read_teachers(const std::string & list, const dataset & d);

}  // namespace fer
