#include "gradcam.h"

#include "error.h"

namespace fer {

cam_result grad_cam(Net & net, const torch::Tensor & face, int64_t cls) {
    if (face.dim() != 4 || face.size(0) != 1 || face.size(1) != 1) {
        throw usage_error("grad_cam expects one face of shape (1,1,H,W)");
    }
    net->eval();
    torch::Tensor features = net->features->forward(face.detach());
    torch::Tensor logits = net->head->forward(features);
    cam_result r;
    r.probabilities = torch::softmax(logits, 1).squeeze(0).detach();
    r.cls = cls >= 0 ? cls : r.probabilities.argmax().item<int64_t>();
    if (r.cls >= logits.size(1)) {
        throw usage_error("class " + std::to_string(r.cls) + " out of range");
    }
    torch::Tensor grads = torch::autograd::grad({logits[0][r.cls]}, {features})[0];
    torch::Tensor weights = grads.mean({2, 3}, /*keepdim=*/true);
    torch::Tensor cam = torch::relu((weights * features).sum(1, /*keepdim=*/true)).detach();
    cam = torch::nn::functional::interpolate(
        cam, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{face.size(2), face.size(3)})
                 .mode(torch::kBilinear)
                 .align_corners(false));
    cam = cam.squeeze(0).squeeze(0);
    const float peak = cam.max().item<float>();
    r.map = peak > 0 ? cam / peak : torch::zeros_like(cam);
    return r;
}

}  // namespace fer
