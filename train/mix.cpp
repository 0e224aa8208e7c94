#include "mix.h"

#include "error.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fer {

namespace {

double beta(double alpha, std::mt19937_64 & rng) {
    std::gamma_distribution<double> g(alpha, 1.0);
    const double a = g(rng), b = g(rng);
    return a + b > 0 ? a / (a + b) : 0.5;
}

}  // namespace

mix_plan draw_mix(const std::string & mode, double alpha, double prob, int64_t n, int side, std::mt19937_64 & rng) {
    mix_plan p;
    if (mode == "none" || n < 2) {
        return p;
    }
    if (mode != "mixup" && mode != "cutmix") {
        throw usage_error("--mix must be none, mixup or cutmix (got '" + mode + "')");
    }
    // A fixed number of draws whatever happens, so later draws never shift.
    const double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    const double lam = beta(alpha, rng);
    const double cx = std::uniform_real_distribution<double>(0.0, side)(rng);
    const double cy = std::uniform_real_distribution<double>(0.0, side)(rng);
    p.partner.resize(static_cast<size_t>(n));
    std::iota(p.partner.begin(), p.partner.end(), 0);
    std::shuffle(p.partner.begin(), p.partner.end(), rng);
    if (u >= prob) {
        p.partner.clear();
        return p;
    }
    p.active = true;
    if (mode == "mixup") {
        p.lambda = lam;
        return p;
    }
    // A rectangle of area (1 - lam) of the face, centred at (cx, cy), clipped to it.
    const double half = 0.5 * side * std::sqrt(1.0 - lam);
    p.cut = true;
    p.x0 = std::clamp(static_cast<int>(std::lround(cx - half)), 0, side);
    p.x1 = std::clamp(static_cast<int>(std::lround(cx + half)), 0, side);
    p.y0 = std::clamp(static_cast<int>(std::lround(cy - half)), 0, side);
    p.y1 = std::clamp(static_cast<int>(std::lround(cy + half)), 0, side);
    p.lambda = 1.0 - static_cast<double>((p.x1 - p.x0) * (p.y1 - p.y0)) / static_cast<double>(side * side);
    return p;
}

void apply_mix(const mix_plan & plan, torch::Tensor & x) {
    if (!plan.active) {
        return;
    }
    torch::NoGradGuard no_grad;
    const torch::Tensor other = x.index_select(0, torch::tensor(plan.partner, torch::kLong));
    if (!plan.cut) {
        x.mul_(plan.lambda).add_(other, 1.0 - plan.lambda);
        return;
    }
    using torch::indexing::Slice;
    x.index({Slice(), Slice(), Slice(plan.y0, plan.y1), Slice(plan.x0, plan.x1)}) =
        other.index({Slice(), Slice(), Slice(plan.y0, plan.y1), Slice(plan.x0, plan.x1)});
}

}  // namespace fer
