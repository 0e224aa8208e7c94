#include "infer.h"

#include "augment.h"
#include "progress.h"

namespace fer {

torch::Tensor faces_tensor(const dataset & d, size_t begin, size_t end) {
    torch::Tensor x = torch::empty({static_cast<int64_t>(end - begin), 1, k_image_side, k_image_side});
    float * p = x.data_ptr<float>();
    for (size_t i = begin; i < end; ++i) {
        normalise_face(d.image(i), p + (i - begin) * k_image_pixels);
    }
    return x;
}

torch::Tensor predict_probabilities(Net & net, const dataset & d, int64_t batch, bool tta_flip, bool progress,
                                    torch::Device device) {
    torch::NoGradGuard no_grad;
    net->eval();
    const size_t n = d.size();
    torch::Tensor out = torch::empty({static_cast<int64_t>(n), 7});
    progress_bar bar("eval", static_cast<int64_t>(n), "face");
    for (size_t b = 0; b < n; b += static_cast<size_t>(batch)) {
        const size_t e = std::min(n, b + static_cast<size_t>(batch));
        torch::Tensor x = faces_tensor(d, b, e).to(device);
        torch::Tensor p = torch::softmax(net->forward(x), 1);
        if (tta_flip) {
            p = 0.5 * (p + torch::softmax(net->forward(x.flip({3})), 1));
        }
        out.slice(0, static_cast<int64_t>(b), static_cast<int64_t>(e)).copy_(p.to(torch::kCPU));
        if (progress) {
            bar.update(static_cast<int64_t>(e));
        }
    }
    if (progress) {
        bar.finish();
    }
    return out;
}

std::vector<int64_t> top_classes(const torch::Tensor & probabilities) {
    torch::Tensor top = probabilities.argmax(1).contiguous();
    const int64_t * p = top.data_ptr<int64_t>();
    return std::vector<int64_t>(p, p + top.numel());
}

}  // namespace fer
