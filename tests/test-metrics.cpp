// compute_metrics, format_metrics and metrics_json against confusion matrices
// whose precision, recall and F1 are worked out by hand in the comments.

#include "fer.h"
#include "metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace {

using matrix = std::vector<std::vector<int64_t>>;

constexpr double k_eps = 1e-12;

std::vector<std::string> names_of(size_t k) {
    std::vector<std::string> names;
    for (size_t c = 0; c < k; ++c) {
        names.push_back(c < FER_N_CLASSES ? fer_class_name(static_cast<int>(c)) : "class" + std::to_string(c));
    }
    return names;
}

// A 3-class example (rows = true class, columns = predicted):
//
//              pred 0  pred 1  pred 2   support
//   true 0        5       1       0        6
//   true 1        2       3       1        6
//   true 2        0       0       4        4
//   predicted     7       4       5       16
//
// accuracy = (5 + 3 + 4) / 16 = 12/16 = 0.75
// class 0: TP 5, FP 2, FN 1: P = 5/7, R = 5/6, F1 = 2*5 / (2*5 + 2 + 1) = 10/13
// class 1: TP 3, FP 1, FN 3: P = 3/4, R = 3/6, F1 = 2*3 / (2*3 + 1 + 3) = 6/10
// class 2: TP 4, FP 1, FN 0: P = 4/5, R = 4/4, F1 = 2*4 / (2*4 + 1 + 0) = 8/9
// macro-F1 = (10/13 + 6/10 + 8/9) / 3
const matrix k_cm3 = {{5, 1, 0}, {2, 3, 1}, {0, 0, 4}};

TEST(Metrics, HandComputed3x3) {
    fer::metrics m = fer::compute_metrics(k_cm3);
    EXPECT_EQ(m.n, 16);
    EXPECT_NEAR(m.accuracy, 12.0 / 16.0, k_eps);
    ASSERT_EQ(m.per_class.size(), 3u);

    EXPECT_NEAR(m.per_class[0].precision, 5.0 / 7.0, k_eps);
    EXPECT_NEAR(m.per_class[0].recall, 5.0 / 6.0, k_eps);
    EXPECT_NEAR(m.per_class[0].f1, 10.0 / 13.0, k_eps);
    EXPECT_EQ(m.per_class[0].support, 6);

    EXPECT_NEAR(m.per_class[1].precision, 3.0 / 4.0, k_eps);
    EXPECT_NEAR(m.per_class[1].recall, 3.0 / 6.0, k_eps);
    EXPECT_NEAR(m.per_class[1].f1, 6.0 / 10.0, k_eps);
    EXPECT_EQ(m.per_class[1].support, 6);

    EXPECT_NEAR(m.per_class[2].precision, 4.0 / 5.0, k_eps);
    EXPECT_NEAR(m.per_class[2].recall, 1.0, k_eps);
    EXPECT_NEAR(m.per_class[2].f1, 8.0 / 9.0, k_eps);
    EXPECT_EQ(m.per_class[2].support, 4);

    EXPECT_NEAR(m.macro_f1, (10.0 / 13.0 + 6.0 / 10.0 + 8.0 / 9.0) / 3.0, k_eps);
    EXPECT_EQ(m.confusion, k_cm3);
}

// The same example given as label lists must give the same matrix and numbers.
TEST(Metrics, FromLabelListsMatchesMatrix) {
    std::vector<int64_t> truth, pred;
    for (size_t t = 0; t < k_cm3.size(); ++t) {
        for (size_t p = 0; p < k_cm3.size(); ++p) {
            for (int64_t k = 0; k < k_cm3[t][p]; ++k) {
                truth.push_back(static_cast<int64_t>(t));
                pred.push_back(static_cast<int64_t>(p));
            }
        }
    }
    fer::metrics m = fer::compute_metrics(truth, pred, 3);
    EXPECT_EQ(m.confusion, k_cm3);
    EXPECT_EQ(m.n, 16);
    EXPECT_NEAR(m.accuracy, 0.75, k_eps);
    EXPECT_NEAR(m.macro_f1, (10.0 / 13.0 + 6.0 / 10.0 + 8.0 / 9.0) / 3.0, k_eps);
}

// Classes with no support or no predictions (4 classes):
//
//              pred 0  pred 1  pred 2  pred 3   support
//   true 0        3       1       0       0        4
//   true 1        0       0       0       0        0   <- no support
//   true 2        1       1       0       0        2   <- never predicted
//   true 3        0       0       0       0        0   <- neither
//   predicted     4       2       0       0        6
//
// accuracy = 3/6 = 0.5
// class 0: TP 3, FP 1, FN 1: P = 3/4, R = 3/4, F1 = 3/4
// class 1: TP 0, 2 predictions, no support: P = 0/2 = 0, R = 0 (no support), F1 = 0
// class 2: TP 0, no predictions, support 2: P = 0 (no predictions), R = 0/2 = 0, F1 = 0
// class 3: nothing: P = R = F1 = 0
// macro-F1 = (3/4 + 0 + 0 + 0) / 4 = 0.1875
TEST(Metrics, ZeroSupportAndZeroPredictionClassesGiveZero) {
    const matrix cm = {{3, 1, 0, 0}, {0, 0, 0, 0}, {1, 1, 0, 0}, {0, 0, 0, 0}};
    fer::metrics m = fer::compute_metrics(cm);
    EXPECT_EQ(m.n, 6);
    EXPECT_NEAR(m.accuracy, 0.5, k_eps);
    ASSERT_EQ(m.per_class.size(), 4u);
    EXPECT_NEAR(m.per_class[0].precision, 0.75, k_eps);
    EXPECT_NEAR(m.per_class[0].recall, 0.75, k_eps);
    EXPECT_NEAR(m.per_class[0].f1, 0.75, k_eps);
    for (size_t c = 1; c < 4; ++c) {
        SCOPED_TRACE("class " + std::to_string(c));
        EXPECT_EQ(m.per_class[c].precision, 0.0);
        EXPECT_EQ(m.per_class[c].recall, 0.0);
        EXPECT_EQ(m.per_class[c].f1, 0.0);
        EXPECT_FALSE(std::isnan(m.per_class[c].f1));
    }
    EXPECT_EQ(m.per_class[1].support, 0);
    EXPECT_EQ(m.per_class[2].support, 2);
    EXPECT_EQ(m.per_class[3].support, 0);
    EXPECT_NEAR(m.macro_f1, 0.1875, k_eps);
}

// A 7-class FER2013-shaped example with every class predicted perfectly except
// two swaps: 2 angry faces called sad, 1 fear face called surprise.
//   angry:    TP 8, FP 0, FN 2: P = 1,    R = 8/10, F1 = 16/18
//   fear:     TP 4, FP 0, FN 1: P = 1,    R = 4/5,  F1 = 8/9
//   sad:      TP 6, FP 2, FN 0: P = 6/8,  R = 1,    F1 = 12/14
//   surprise: TP 3, FP 1, FN 0: P = 3/4,  R = 1,    F1 = 6/7
//   disgust, happy, neutral: perfect, F1 = 1
// n = 10 + 1 + 5 + 7 + 6 + 3 + 2 = 34, correct = 31
TEST(Metrics, HandComputed7x7) {
    matrix cm(7, std::vector<int64_t>(7, 0));
    cm[FER_ANGRY][FER_ANGRY] = 8;
    cm[FER_ANGRY][FER_SAD] = 2;
    cm[FER_DISGUST][FER_DISGUST] = 1;
    cm[FER_FEAR][FER_FEAR] = 4;
    cm[FER_FEAR][FER_SURPRISE] = 1;
    cm[FER_HAPPY][FER_HAPPY] = 7;
    cm[FER_SAD][FER_SAD] = 6;
    cm[FER_SURPRISE][FER_SURPRISE] = 3;
    cm[FER_NEUTRAL][FER_NEUTRAL] = 2;
    fer::metrics m = fer::compute_metrics(cm);
    EXPECT_EQ(m.n, 34);
    EXPECT_NEAR(m.accuracy, 31.0 / 34.0, k_eps);
    EXPECT_NEAR(m.per_class[FER_ANGRY].recall, 0.8, k_eps);
    EXPECT_NEAR(m.per_class[FER_ANGRY].precision, 1.0, k_eps);
    EXPECT_NEAR(m.per_class[FER_ANGRY].f1, 16.0 / 18.0, k_eps);
    EXPECT_NEAR(m.per_class[FER_FEAR].f1, 8.0 / 9.0, k_eps);
    EXPECT_NEAR(m.per_class[FER_SAD].precision, 0.75, k_eps);
    EXPECT_NEAR(m.per_class[FER_SAD].f1, 12.0 / 14.0, k_eps);
    EXPECT_NEAR(m.per_class[FER_SURPRISE].precision, 0.75, k_eps);
    EXPECT_NEAR(m.per_class[FER_SURPRISE].f1, 6.0 / 7.0, k_eps);
    for (int c : {FER_DISGUST, FER_HAPPY, FER_NEUTRAL}) {
        EXPECT_NEAR(m.per_class[static_cast<size_t>(c)].f1, 1.0, k_eps) << fer_class_name(c);
    }
    EXPECT_NEAR(m.macro_f1, (16.0 / 18.0 + 1 + 8.0 / 9.0 + 1 + 12.0 / 14.0 + 6.0 / 7.0 + 1) / 7.0, k_eps);
}

TEST(Metrics, EmptyMatrixGivesZerosNotNaN) {
    fer::metrics m = fer::compute_metrics(matrix(7, std::vector<int64_t>(7, 0)));
    EXPECT_EQ(m.n, 0);
    EXPECT_EQ(m.accuracy, 0.0);
    EXPECT_EQ(m.macro_f1, 0.0);
    ASSERT_EQ(m.per_class.size(), 7u);
    for (const auto & pc : m.per_class) {
        EXPECT_EQ(pc.precision, 0.0);
        EXPECT_EQ(pc.recall, 0.0);
        EXPECT_EQ(pc.f1, 0.0);
    }
}

TEST(Metrics, PerfectPredictions) {
    std::vector<int64_t> truth = {0, 1, 2, 3, 4, 5, 6, 6, 3};
    fer::metrics m = fer::compute_metrics(truth, truth, 7);
    EXPECT_EQ(m.n, 9);
    EXPECT_EQ(m.accuracy, 1.0);
    EXPECT_NEAR(m.macro_f1, 1.0, k_eps);
    EXPECT_EQ(m.per_class[6].support, 2);
    EXPECT_EQ(m.per_class[3].support, 2);
}

// Balanced-brace and quote check: enough to catch a broken writer without a JSON library.
bool looks_like_json_object(const std::string & s) {
    if (s.empty() || s.front() != '{' || s.back() != '}') {
        return false;
    }
    int depth = 0;
    bool in_string = false;
    for (char c : s) {
        if (c == '"') {
            in_string = !in_string;
        } else if (!in_string) {
            if (c == '{' || c == '[') ++depth;
            if (c == '}' || c == ']') --depth;
            if (depth < 0) return false;
        }
    }
    return depth == 0 && !in_string;
}

TEST(Metrics, JsonHasAllKeysAndValues) {
    fer::metrics m = fer::compute_metrics(k_cm3);
    const std::vector<std::string> names = {"angry", "disgust", "fear"};
    const std::string j = fer::metrics_json(m, names);
    SCOPED_TRACE(j);
    EXPECT_TRUE(looks_like_json_object(j));
    for (const char * key : {"\"accuracy\"", "\"macro_f1\"", "\"n\"", "\"per_class\"", "\"confusion_matrix\"",
                             "\"precision\"", "\"recall\"", "\"f1\"", "\"support\""}) {
        EXPECT_NE(j.find(key), std::string::npos) << key;
    }
    EXPECT_NE(j.find("\"accuracy\": 0.750000"), std::string::npos);
    EXPECT_NE(j.find("\"n\": 16"), std::string::npos);
    char macro[64];
    std::snprintf(macro, sizeof macro, "\"macro_f1\": %.6f", (10.0 / 13.0 + 6.0 / 10.0 + 8.0 / 9.0) / 3.0);
    EXPECT_NE(j.find(macro), std::string::npos) << macro;
    EXPECT_NE(j.find("[[5, 1, 0], [2, 3, 1], [0, 0, 4]]"), std::string::npos);
    for (const auto & n : names) {
        EXPECT_NE(j.find("\"" + n + "\": {"), std::string::npos) << n;
    }
    // Class 1 ("disgust"): precision 3/4, recall 1/2, support 6.
    EXPECT_NE(j.find("\"disgust\": {\"precision\": 0.750000, \"recall\": 0.500000, \"f1\": 0.600000, \"support\": 6}"),
              std::string::npos);
}

TEST(Metrics, FormatHasOneRowPerClass) {
    fer::metrics m = fer::compute_metrics(k_cm3);
    const std::vector<std::string> names = {"angry", "disgust", "fear"};
    const std::string text = fer::format_metrics(m, names);
    SCOPED_TRACE(text);
    EXPECT_NE(text.find("75.00%"), std::string::npos);
    std::istringstream in(text);
    std::string line;
    std::vector<int> table_rows(names.size(), 0);
    while (std::getline(in, line)) {
        for (size_t c = 0; c < names.size(); ++c) {
            // The per-class table row: name, precision, recall, f1, support.
            std::istringstream ls(line);
            std::string name;
            double p = -1, r = -1, f = -1;
            long long s = -1;
            if (ls >> name >> p >> r >> f >> s && name == names[c] && ls.eof()) {
                ++table_rows[c];
                EXPECT_NEAR(p, m.per_class[c].precision, 1e-4);
                EXPECT_NEAR(r, m.per_class[c].recall, 1e-4);
                EXPECT_NEAR(f, m.per_class[c].f1, 1e-4);
                EXPECT_EQ(s, m.per_class[c].support);
            }
        }
    }
    for (size_t c = 0; c < names.size(); ++c) {
        EXPECT_EQ(table_rows[c], 1) << names[c];
    }
    // The confusion matrix counts appear as a row of the true class.
    bool found_counts = false;
    std::istringstream in2(text);
    while (std::getline(in2, line)) {
        std::istringstream ls(line);
        std::vector<std::string> tokens;
        for (std::string t; ls >> t;) tokens.push_back(t);
        if (tokens == std::vector<std::string>{"disgust", "2", "3", "1"}) found_counts = true;
    }
    EXPECT_TRUE(found_counts);
}

TEST(Metrics, FormatSevenClassesUsesAllNames) {
    std::vector<int64_t> truth = {0, 1, 2, 3, 4, 5, 6}, pred = {0, 1, 2, 3, 4, 5, 5};
    fer::metrics m = fer::compute_metrics(truth, pred, 7);
    const std::string text = fer::format_metrics(m, names_of(7));
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        const std::string name = fer_class_name(c);
        size_t count = 0;
        for (size_t pos = text.find("\n" + name + " "); pos != std::string::npos;
             pos = text.find("\n" + name + " ", pos + 1)) {
            ++count;
        }
        // per-class row + two confusion-matrix rows (counts, row-normalised)
        EXPECT_EQ(count, 3u) << name << "\n" << text;
    }
}

}  // namespace
