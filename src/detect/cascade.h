// Haar cascade model: the in-memory form shared by the XML reader, the binary
// reader/writer and the detector. Mirrors OpenCV's CascadeClassifierImpl::Data
// for stageType BOOST / featureType HAAR (new-style cascade XML).
#ifndef FER_DETECT_CASCADE_H
#define FER_DETECT_CASCADE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fer::detect {

constexpr int k_max_rects = 3;         // OpenCV's HaarEvaluator::Feature::RECT_NUM
constexpr int k_max_window = 255;      // cascade window side limit (OpenCV's are 20..60)
constexpr int k_max_tree_nodes = 256;  // internal nodes per weak tree
constexpr int k_max_count = 1 << 22;   // stages, trees, nodes, features: sanity bound

struct haar_rect {
    int32_t x = 0, y = 0, w = 0, h = 0;
    float weight = 0.f;
};

struct haar_feature {
    haar_rect rect[k_max_rects];
    int32_t n_rects = 0;
    bool tilted = false;
};

// Internal node of a weak tree. left/right > 0: index of an internal node of
// the same tree (always greater than this node's index, checked at load);
// <= 0: leaf number -left / -right of the tree.
struct tree_node {
    int32_t left = 0, right = 0, feature = 0;
    float threshold = 0.f;
};

struct stage {
    float threshold = 0.f;  // as stored in the file
    int32_t n_trees = 0;
};

struct cascade {
    int32_t win_w = 0, win_h = 0;
    std::vector<stage> stages;
    std::vector<int32_t> tree_nodes;  // internal nodes per tree; the tree has tree_nodes+1 leaves
    std::vector<tree_node> nodes;     // all trees' nodes, in order
    std::vector<float> leaves;        // all trees' leaves, in order
    std::vector<haar_feature> features;

    // Derived by validate():
    int32_t max_tree_nodes = 0;
    bool has_tilted = false;
};

// Check every count, index and rectangle (the file is untrusted) and fill the
// derived fields. On failure, returns false with a message in err.
bool validate(cascade & c, std::string & err);

// OpenCV cascade XML (new style: <cascade> with <stageType>BOOST</stageType>,
// <featureType>HAAR</featureType>). Returns false with a message on failure.
bool read_xml(const char * data, size_t size, cascade & c, std::string & err);

// Compact binary form ("FERHAAR1", little-endian; layout in cascade-binary.cpp).
bool is_binary(const void * data, size_t size);
bool read_binary(const uint8_t * data, size_t size, cascade & c, std::string & err);
std::vector<uint8_t> write_binary(const cascade & c);

}  // namespace fer::detect

#endif  // FER_DETECT_CASCADE_H
