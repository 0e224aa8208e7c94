// Mixing faces within a training batch: mixup (Zhang et al., 2018: every
// pixel lambda * a + (1 - lambda) * b) and CutMix (Yun et al., 2019: a
// rectangle of b pasted into a, lambda = the share of a that is left). The
// loss is then lambda * L(a's targets) + (1 - lambda) * L(b's targets), which
// for cross-entropy and for the distillation term equals the loss on mixed
// targets. One lambda per batch, drawn from Beta(alpha, alpha); b is a
// random permutation of the batch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace fer {

struct mix_plan {
    bool active = false;           // false: the batch is left as it is
    double lambda = 1.0;           // weight of each face's own targets
    std::vector<int64_t> partner;  // face i is mixed with face partner[i]
    bool cut = false;              // CutMix rectangle [x0, x1) x [y0, y1)
    int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

// mode: "none", "mixup" or "cutmix"; with probability `prob` the batch is mixed.
// Everything comes from `rng`, so a plan is reproducible from its seed.
mix_plan draw_mix(const std::string & mode, double alpha, double prob, int64_t n, int side, std::mt19937_64 & rng);

// Mixes x (n,1,side,side) in place as the plan says.
void apply_mix(const mix_plan & plan, torch::Tensor & x);

}  // namespace fer
