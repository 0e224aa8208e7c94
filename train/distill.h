// Knowledge distillation (Hinton, Vinyals and Dean, 2015): the student learns
// from the teachers' softened probabilities and from the hard labels.
//
//   loss = alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, label)
//
// student_T = softmax(logits / T); teacher_T = softmax(log p / T), i.e. the
// stored probabilities p raised to 1/T and renormalised (the same as dividing
// the teacher's logits by T). T^2 keeps the gradient of the soft term at the
// size of the hard one as T grows. CE is the trainer's usual cross-entropy
// (class weights, label smoothing); the soft term has neither.
#pragma once

#include <torch/torch.h>

namespace fer {

// (N,C) probabilities at temperature T (> 0).
torch::Tensor soften(const torch::Tensor & probs, double temperature);

// T^2 * KL(teacher_T || student_T), averaged over the batch; with (N) face
// weights, their weighted mean (sum w KL / sum w, as a weighted cross-entropy).
torch::Tensor distillation_loss(const torch::Tensor & logits, const torch::Tensor & teacher_probs, double temperature,
                                const torch::Tensor & face_weights = {});

// alpha * distillation_loss + (1 - alpha) * cross_entropy(logits, labels, ce).
// With soft_class_weights (C), the soft term weighs each face by its label's
// weight too (fer train --distill-weighted: the class weights then act on
// both terms, not on the hard one alone).
torch::Tensor distillation_objective(const torch::Tensor & logits, const torch::Tensor & teacher_probs,
                                     const torch::Tensor & labels, double alpha, double temperature,
                                     const torch::nn::functional::CrossEntropyFuncOptions & ce,
                                     const torch::Tensor & soft_class_weights = {});

}  // namespace fer
