#include "teacher-file.h"

#include "checkpoint.h"
#include "error.h"
#include "fer.h"
#include "holdout.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace fer {

namespace {

const char * k_magic = "fer-teacher";
const char * k_views = "as-is,mirrored";

std::string hex64(uint64_t v) {
    char buf[20];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

[[noreturn]] void bad(const std::string & path, const std::string & why) { throw input_error(path + ": " + why); }

}  // namespace

std::string class_order() {
    std::string s;
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        s += (c ? "," : "") + std::string(fer_class_name(c));
    }
    return s;
}

void write_teacher_file(const std::string & path, const dataset & d, const std::vector<float> & probs,
                        const std::string & source, const std::string & model) {
    if (probs.size() != d.size() * k_soft_width) {
        throw runtime_error("write_teacher_file: " + std::to_string(probs.size()) + " values for " +
                            std::to_string(d.size()) + " faces");
    }
    std::ostringstream o;
    o << k_magic << " 1\ncount " << d.size() << "\nclasses " << class_order() << "\nviews " << k_views
      << "\nfingerprint " << hex64(dataset_fingerprint(d)) << "\nsource " << source << "\nmodel " << model
      << "\nend\n";
    std::string bytes = o.str();
    const size_t at = bytes.size();
    bytes.resize(at + probs.size() * sizeof(float));
    std::memcpy(&bytes[at], probs.data(), probs.size() * sizeof(float));  // little-endian hosts only
    write_file_atomic(path, bytes);
}

std::vector<float> read_teacher_file(const std::string & path, const dataset & d) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        bad(path, "cannot open teacher file");
    }
    std::map<std::string, std::string> header;
    std::string line;
    size_t header_bytes = 0;
    bool ended = false;
    for (int n = 0; std::getline(in, line) && n < 64; ++n) {
        header_bytes += line.size() + 1;
        if (n == 0 && line != std::string(k_magic) + " 1") {
            bad(path, "not a teacher file of version 1 (first line '" + line.substr(0, 40) + "')");
        }
        if (line == "end") {
            ended = true;
            break;
        }
        const size_t sp = line.find(' ');
        header[line.substr(0, sp)] = sp == std::string::npos ? "" : line.substr(sp + 1);
    }
    if (!ended) {
        bad(path, "teacher file header has no 'end' line");
    }
    for (const char * key : {"count", "classes", "views", "fingerprint"}) {
        if (!header.count(key)) {
            bad(path, std::string("teacher file header lacks field '") + key + "'");
        }
    }
    if (header["count"] != std::to_string(d.size())) {
        bad(path, "field 'count': made for " + header["count"] + " faces, the data has " + std::to_string(d.size()) +
                      " (a teacher file covers the whole training split, holdout included)");
    }
    if (header["classes"] != class_order()) {
        bad(path, "field 'classes': class order '" + header["classes"] + "' is not fer's '" + class_order() + "'");
    }
    if (header["views"] != k_views) {
        bad(path, "field 'views': '" + header["views"] + "', expected '" + k_views + "'");
    }
    if (header["fingerprint"] != hex64(dataset_fingerprint(d))) {
        bad(path, "field 'fingerprint': made on other data (" + header["fingerprint"] + ", this data " +
                      hex64(dataset_fingerprint(d)) + "): same split and form (CSV or image folders) needed");
    }
    std::vector<float> probs(d.size() * k_soft_width);
    in.read(reinterpret_cast<char *>(probs.data()), static_cast<std::streamsize>(probs.size() * sizeof(float)));
    const size_t got = static_cast<size_t>(in.gcount());
    in.peek();
    if (got != probs.size() * sizeof(float) || !in.eof()) {
        bad(path, "expected " + std::to_string(probs.size() * sizeof(float)) + " bytes of probabilities after the " +
                      std::to_string(header_bytes) + "-byte header, " +
                      (got != probs.size() * sizeof(float) ? "found " + std::to_string(got) : "found more"));
    }
    for (size_t i = 0; i < d.size(); ++i) {
        for (int v = 0; v < k_soft_views; ++v) {
            const float * p = probs.data() + i * k_soft_width + v * 7;
            double sum = 0;
            bool ok = true;
            for (int c = 0; c < 7; ++c) {
                ok = ok && std::isfinite(p[c]) && p[c] >= 0;
                sum += p[c];
            }
            if (!ok || std::fabs(sum - 1.0) > 1e-3) {
                bad(path, "face " + std::to_string(i) + " (" + d.sources[i] + "), view " + (v ? "mirrored" : "as-is") +
                              ": not a probability vector (sum " + std::to_string(sum) + ")");
            }
        }
    }
    return probs;
}

std::vector<float> read_teachers(const std::string & list, const dataset & d) {
    std::vector<float> mean;
    int n = 0;
    std::istringstream s(list);
    for (std::string path; std::getline(s, path, ',');) {
        if (path.empty()) {
            continue;
        }
        std::vector<float> p = read_teacher_file(path, d);
        if (mean.empty()) {
            mean.assign(p.size(), 0.0f);
        }
        for (size_t i = 0; i < p.size(); ++i) {
            mean[i] += p[i];
        }
        ++n;
    }
    if (n == 0) {
        throw usage_error("--teacher: no teacher file named");
    }
    for (float & v : mean) {
        v /= static_cast<float>(n);
    }
    return mean;
}

}  // namespace fer
