#include "holdout.h"

#include "error.h"
#include "fer.h"

#include <algorithm>
#include <cmath>

namespace fer {

namespace {

uint64_t fnv1a(const std::string & s, uint64_t h = 0xCBF29CE484222325ULL) {
    for (unsigned char c : s) {
        h = (h ^ c) * 0x100000001B3ULL;
    }
    return h;
}

uint64_t splitmix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

}  // namespace

std::string face_name(const std::string & source) {
    const size_t slash = source.find_last_of("/\\");
    std::string name = slash == std::string::npos ? source : source.substr(slash + 1);
    const size_t colon = name.find_last_of(':');
    if (colon != std::string::npos && colon + 1 < name.size() &&
        name.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
        name = name.substr(colon + 1);  // "fer2013.csv:123" -> "123"
    }
    return name;
}

holdout_indices holdout_split(const dataset & d, double fraction, uint64_t seed) {
    if (!(fraction > 0.0 && fraction < 1.0)) {
        throw usage_error("the holdout fraction must be in (0, 1) (got " + std::to_string(fraction) + ")");
    }
    struct face {
        uint64_t key;
        std::string name;
        size_t index;
    };
    std::vector<std::vector<face>> per_class(FER_N_CLASSES);
    for (size_t i = 0; i < d.size(); ++i) {
        std::string name = face_name(d.sources[i]);
        const uint64_t key = splitmix(fnv1a(name) ^ splitmix(seed));
        per_class[static_cast<size_t>(d.labels[i])].push_back({key, std::move(name), i});
    }
    holdout_indices out;
    for (auto & faces : per_class) {
        std::sort(faces.begin(), faces.end(), [](const face & a, const face & b) {
            return a.key != b.key ? a.key < b.key : a.name != b.name ? a.name < b.name : a.index < b.index;
        });
        // round(fraction * n), but at least one face and never all of them when a class has two or more.
        const size_t n = faces.size();
        size_t n_hold = static_cast<size_t>(std::llround(fraction * static_cast<double>(n)));
        n_hold = n < 2 ? 0 : std::min(std::max<size_t>(n_hold, 1), n - 1);
        for (size_t k = 0; k < faces.size(); ++k) {
            (k < n_hold ? out.holdout : out.train).push_back(faces[k].index);
        }
    }
    std::sort(out.train.begin(), out.train.end());
    std::sort(out.holdout.begin(), out.holdout.end());
    return out;
}

uint64_t dataset_fingerprint(const dataset & d) {
    uint64_t h = splitmix(static_cast<uint64_t>(d.size()));
    for (size_t i = 0; i < d.size(); ++i) {
        h = splitmix(h ^ fnv1a(face_name(d.sources[i]))) + static_cast<uint64_t>(d.labels[i]);
    }
    return h;
}

}  // namespace fer
