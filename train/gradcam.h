// Grad-CAM (Selvaraju et al., ICCV 2017): which parts of a face drive a class
// score. The map is ReLU(sum_c w_c A_c) over the last spatial feature maps A,
// with w_c the spatial mean of d score / d A_c, upsampled to the face size.
// For GAP-head networks (fernet) this equals the class activation map of
// Zhou et al. (CVPR 2016) up to scale.
#pragma once

#include "models.h"

#include <torch/torch.h>

#include <cstdint>

namespace fer {

struct cam_result {
    torch::Tensor probabilities;  // (7) softmax
    int64_t cls = 0;              // the class explained
    torch::Tensor map;            // (48,48) float in [0,1]; all zero when nothing supports the class
};

// `face` is one normalised face (1,1,48,48). `cls` < 0 explains the predicted class.
cam_result grad_cam(Net & net, const torch::Tensor & face, int64_t cls = -1);

}  // namespace fer
