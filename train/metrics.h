// Classification metrics from a confusion matrix (rows = true class).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fer {

struct class_metrics {
    double precision = 0, recall = 0, f1 = 0;
    int64_t support = 0;
};

struct metrics {
    std::vector<std::vector<int64_t>> confusion;  // [true][predicted]
    int64_t n = 0;
    double accuracy = 0;
    double macro_f1 = 0;
    std::vector<class_metrics> per_class;
};

// Precision, recall and F1 of a class with no predictions or no support are 0.
metrics compute_metrics(const std::vector<std::vector<int64_t>> & confusion);
metrics compute_metrics(const std::vector<int64_t> & truth, const std::vector<int64_t> & predicted, int n_classes);

// Aligned text: accuracy, macro-F1, per-class table, confusion (counts and row-normalised).
std::string format_metrics(const metrics & m, const std::vector<std::string> & class_names);
// One JSON object: accuracy, macro_f1, n, per_class, confusion_matrix (+ classes).
std::string metrics_json(const metrics & m, const std::vector<std::string> & class_names);

}  // namespace fer
