#include "distill.h"

namespace fer {

torch::Tensor soften(const torch::Tensor & probs, double temperature) {
    // log 0 = -inf stays -inf: a class the teacher rules out stays ruled out.
    return torch::softmax(probs.log() / temperature, 1);
}

torch::Tensor distillation_loss(const torch::Tensor & logits, const torch::Tensor & teacher_probs, double temperature,
                                const torch::Tensor & face_weights) {
    const torch::Tensor pt = soften(teacher_probs, temperature);
    const torch::Tensor log_ps = torch::log_softmax(logits / temperature, 1);
    // sum p (log p - log q); xlogy gives 0 for p = 0.
    const torch::Tensor kl = (torch::xlogy(pt, pt) - pt * log_ps).sum(1);
    const torch::Tensor mean = face_weights.defined() ? (kl * face_weights).sum() / face_weights.sum() : kl.mean();
    return mean * (temperature * temperature);
}

torch::Tensor distillation_objective(const torch::Tensor & logits, const torch::Tensor & teacher_probs,
                                     const torch::Tensor & labels, double alpha, double temperature,
                                     const torch::nn::functional::CrossEntropyFuncOptions & ce,
                                     const torch::Tensor & soft_class_weights) {
    torch::Tensor hard = torch::nn::functional::cross_entropy(logits, labels, ce);
    if (alpha <= 0) {
        return hard;
    }
    const torch::Tensor face_weights =
        soft_class_weights.defined() ? soft_class_weights.index_select(0, labels) : torch::Tensor();
    return alpha * distillation_loss(logits, teacher_probs, temperature, face_weights) + (1 - alpha) * hard;
}

}  // namespace fer
