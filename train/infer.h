// Batched forward passes of a network over a dataset (evaluation mode).
#pragma once

#include "dataset.h"
#include "models.h"

#include <torch/torch.h>

#include <vector>

namespace fer {

// Normalised faces [begin, end) as an (n,1,48,48) float tensor.
torch::Tensor faces_tensor(const dataset & d, size_t begin, size_t end);

// Softmax probabilities (N,7) for every face; with `tta_flip` the mean of the
// face and its mirror image. Shows a progress bar when `progress` is set.
torch::Tensor predict_probabilities(Net & net, const dataset & d, int64_t batch = 256, bool tta_flip = false,
                                    bool progress = false, torch::Device device = torch::kCPU);

// The most probable class of each row of (N,7) probabilities.
std::vector<int64_t> top_classes(const torch::Tensor & probabilities);

}  // namespace fer
