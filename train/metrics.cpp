#include "metrics.h"

#include <cstdio>
#include <stdexcept>
#include <sstream>

namespace fer {

metrics compute_metrics(const std::vector<std::vector<int64_t>> & cm) {
    metrics m;
    m.confusion = cm;
    const size_t k = cm.size();
    int64_t correct = 0;
    for (size_t i = 0; i < k; ++i) {
        for (size_t j = 0; j < k; ++j) {
            m.n += cm[i][j];
        }
        correct += cm[i][i];
    }
    m.accuracy = m.n ? static_cast<double>(correct) / static_cast<double>(m.n) : 0.0;
    m.per_class.resize(k);
    double f1_sum = 0;
    for (size_t c = 0; c < k; ++c) {
        int64_t predicted = 0, actual = 0;
        for (size_t i = 0; i < k; ++i) {
            predicted += cm[i][c];
            actual += cm[c][i];
        }
        class_metrics & pc = m.per_class[c];
        pc.support = actual;
        pc.precision = predicted ? static_cast<double>(cm[c][c]) / static_cast<double>(predicted) : 0.0;
        pc.recall = actual ? static_cast<double>(cm[c][c]) / static_cast<double>(actual) : 0.0;
        pc.f1 = (pc.precision + pc.recall) > 0 ? 2 * pc.precision * pc.recall / (pc.precision + pc.recall) : 0.0;
        f1_sum += pc.f1;
    }
    m.macro_f1 = k ? f1_sum / static_cast<double>(k) : 0.0;
    return m;
}

metrics compute_metrics(const std::vector<int64_t> & truth, const std::vector<int64_t> & predicted, int n_classes) {
    std::vector<std::vector<int64_t>> cm(n_classes, std::vector<int64_t>(n_classes, 0));
    if (truth.size() != predicted.size()) {
        throw std::invalid_argument("compute_metrics: " + std::to_string(truth.size()) + " labels but " +
                                    std::to_string(predicted.size()) + " predictions");
    }
    for (size_t i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= n_classes || predicted[i] < 0 || predicted[i] >= n_classes) {
            throw std::invalid_argument("compute_metrics: class out of range at index " + std::to_string(i));
        }
        cm[truth[i]][predicted[i]]++;
    }
    return compute_metrics(cm);
}

std::string format_metrics(const metrics & m, const std::vector<std::string> & names) {
    std::ostringstream o;
    char buf[256];
    std::snprintf(buf, sizeof buf, "faces     %lld\naccuracy  %.2f%%\nmacro-F1  %.4f\n\n", static_cast<long long>(m.n),
                  100.0 * m.accuracy, m.macro_f1);
    o << buf;
    std::snprintf(buf, sizeof buf, "%-10s %9s %9s %9s %9s\n", "class", "precision", "recall", "f1", "support");
    o << buf;
    for (size_t c = 0; c < m.per_class.size(); ++c) {
        const auto & pc = m.per_class[c];
        std::snprintf(buf, sizeof buf, "%-10s %9.4f %9.4f %9.4f %9lld\n", names[c].c_str(), pc.precision, pc.recall,
                      pc.f1, static_cast<long long>(pc.support));
        o << buf;
    }
    for (int normalised = 0; normalised < 2; ++normalised) {
        o << (normalised ? "\nconfusion matrix, row-normalised (%)\n" : "\nconfusion matrix (rows: true, columns: predicted)\n");
        std::snprintf(buf, sizeof buf, "%-10s", "");
        o << buf;
        for (const auto & n : names) {
            std::snprintf(buf, sizeof buf, " %8s", n.c_str());
            o << buf;
        }
        o << "\n";
        for (size_t i = 0; i < m.confusion.size(); ++i) {
            std::snprintf(buf, sizeof buf, "%-10s", names[i].c_str());
            o << buf;
            int64_t row = 0;
            for (int64_t v : m.confusion[i]) {
                row += v;
            }
            for (int64_t v : m.confusion[i]) {
                if (normalised) {
                    std::snprintf(buf, sizeof buf, " %8.1f", row ? 100.0 * static_cast<double>(v) / static_cast<double>(row) : 0.0);
                } else {
                    std::snprintf(buf, sizeof buf, " %8lld", static_cast<long long>(v));
                }
                o << buf;
            }
            o << "\n";
        }
    }
    return o.str();
}

std::string metrics_json(const metrics & m, const std::vector<std::string> & names) {
    std::ostringstream o;
    char buf[128];
    std::snprintf(buf, sizeof buf, "{\"accuracy\": %.6f, \"macro_f1\": %.6f, \"n\": %lld", m.accuracy, m.macro_f1,
                  static_cast<long long>(m.n));
    o << buf << ", \"classes\": [";
    for (size_t c = 0; c < names.size(); ++c) {
        o << (c ? ", " : "") << "\"" << names[c] << "\"";
    }
    o << "], \"per_class\": {";
    for (size_t c = 0; c < m.per_class.size(); ++c) {
        const auto & pc = m.per_class[c];
        std::snprintf(buf, sizeof buf, "\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %lld",
                      pc.precision, pc.recall, pc.f1, static_cast<long long>(pc.support));
        o << (c ? ", " : "") << "\"" << names[c] << "\": {" << buf << "}";
    }
    o << "}, \"confusion_matrix\": [";
    for (size_t i = 0; i < m.confusion.size(); ++i) {
        o << (i ? ", " : "") << "[";
        for (size_t j = 0; j < m.confusion[i].size(); ++j) {
            o << (j ? ", " : "") << m.confusion[i][j];
        }
        o << "]";
    }
    o << "]}";
    return o.str();
}

}  // namespace fer
