// bench-train: images/s of one training step of a fer network in libtorch.
//
// One step is exactly what `fer train` does per batch (train/trainer.cpp):
// zero_grad, forward, cross-entropy (label smoothing 0.1, class weights),
// backward, SGD step (Nesterov momentum 0.9, weight decay 5e-4), loss.item().
// Data loading, augmentation and the learning-rate schedule are left out: the
// input is a fixed random batch. Every phase has its own timer, so the output
// says where the time of a step goes.
//
// bench/train_throughput.py does the same in PyTorch's Python front end, and
// bench/run-train-throughput.sh runs both side by side and prints the ratio.
//
// The last line of the output is one JSON object (read by the script).

#include "allocator.h"
#include "models.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
    std::string arch = "fernet";
    int64_t batch = 128;
    int threads = 2;
    int warmup = 3;   // untimed steps before the first repetition
    int iters = 10;   // timed steps per repetition
    int reps = 5;     // repetitions (min/median/max over these)
    uint64_t seed = 1;
};

void usage(const char * argv0) {
    std::printf(
        "usage: %s [--arch fernet|default|seed] [--batch N] [--threads N]\n"
        "          [--warmup N] [--iters N] [--reps N] [--seed N]\n"
        "  Times full training steps (zero_grad, forward, loss, backward, SGD step)\n"
        "  on a random batch; prints images/s min/median/max over the repetitions,\n"
        "  the per-phase breakdown, and a JSON line last.\n"
        "  defaults: --arch fernet --batch 128 --threads 2 --warmup 3 --iters 10 --reps 5\n",
        argv0);
}

int64_t parse_int(const char * flag, const char * v, int64_t lo) {
    char * end = nullptr;
    const long long x = std::strtoll(v, &end, 10);
    if (end == v || *end != '\0' || x < lo) {
        throw std::invalid_argument(std::string(flag) + ": expected an integer >= " + std::to_string(lo) +
                                    ", got '" + v + "'");
    }
    return x;
}

options parse(int argc, char ** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            usage(argv[0]);
            std::exit(0);
        }
        if (i + 1 >= argc) {
            throw std::invalid_argument(a + ": missing value (or unknown flag)");
        }
        const char * v = argv[++i];
        if (a == "--arch") o.arch = v;
        else if (a == "--batch") o.batch = parse_int("--batch", v, 1);
        else if (a == "--threads") o.threads = static_cast<int>(parse_int("--threads", v, 1));
        else if (a == "--warmup") o.warmup = static_cast<int>(parse_int("--warmup", v, 0));
        else if (a == "--iters") o.iters = static_cast<int>(parse_int("--iters", v, 1));
        else if (a == "--reps") o.reps = static_cast<int>(parse_int("--reps", v, 1));
        else if (a == "--seed") o.seed = static_cast<uint64_t>(parse_int("--seed", v, 0));
        else throw std::invalid_argument("unknown flag " + a);
    }
    return o;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("model name", 0) == 0) {
            const size_t c = line.find(':');
            return c == std::string::npos ? line : line.substr(c + 2);
        }
    }
    return "unknown";
}

std::string loadavg() {
    std::ifstream f("/proc/loadavg");
    std::string a, b, c;
    f >> a >> b >> c;
    return a.empty() ? "unknown" : a + " " + b + " " + c;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double ms(clock_type::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// FER2013 Training class counts (angry, disgust, fear, happy, sad, surprise,
// neutral) and the trainer's default `sqrt` class weights derived from them.
torch::Tensor class_weights() {
    const double counts[7] = {3995, 436, 4097, 7215, 4830, 3171, 4965};
    double total = 0;
    for (double c : counts) total += c;
    std::vector<float> w(7);
    double mean = 0;
    for (int c = 0; c < 7; ++c) {
        const double freq = counts[c] / total;
        w[static_cast<size_t>(c)] = static_cast<float>(1.0 / std::sqrt(freq));
        mean += w[static_cast<size_t>(c)] * freq;
    }
    for (float & v : w) v = static_cast<float>(v / mean);
    return torch::tensor(w);
}

const char * k_phases[] = {"zero_grad", "forward", "backward", "optimizer", "other"};
constexpr int k_nphases = 5;

int run(const options & o) {
    torch::set_num_threads(o.threads);
    torch::manual_seed(o.seed);

    fer::Net net = fer::make_net(o.arch);
    net->train();
    const fer::param_counts pc = fer::count_params(net);
    const int64_t macs = fer::net_macs(net);
    torch::optim::SGD opt(net->parameters(),
                          torch::optim::SGDOptions(0.05).momentum(0.9).nesterov(true).weight_decay(5e-4));
    const auto loss_opts =
        torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(0.1).weight(class_weights());
    const torch::Tensor x = torch::randn({o.batch, 1, 48, 48});
    const torch::Tensor y = torch::randint(0, 7, {o.batch}, torch::kLong);

    std::printf("bench-train (C++ libtorch)\n");
    std::printf("  torch %s, intra-op threads %d, inter-op threads %d, hardware threads %u\n", TORCH_VERSION,
                torch::get_num_threads(), at::get_num_interop_threads(), std::thread::hardware_concurrency());
    std::printf("  cpu %s, load average %s\n", cpu_model().c_str(), loadavg().c_str());
    std::printf("  arch %s (%s): %lld trainable parameters, %.1f M MACs per face forward\n", net->arch.c_str(),
                fer::net_description(net->arch), static_cast<long long>(pc.trainable), static_cast<double>(macs) / 1e6);
    std::printf("  batch %lld, warm-up %d steps, %d repetitions of %d steps\n", static_cast<long long>(o.batch),
                o.warmup, o.reps, o.iters);
    std::fflush(stdout);

    double phase_sum[k_nphases] = {0, 0, 0, 0, 0};
    std::vector<double> phase_steps[k_nphases];
    std::vector<double> step_ms;
    std::vector<double> img_s;
    double loss_value = 0;

    auto step = [&](bool record) {
        const auto t0 = clock_type::now();
        opt.zero_grad();
        const auto t1 = clock_type::now();
        torch::Tensor logits = net->forward(x);
        torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y, loss_opts);
        const auto t2 = clock_type::now();
        loss.backward();
        const auto t3 = clock_type::now();
        opt.step();
        const auto t4 = clock_type::now();
        loss_value = loss.item<double>();  // "other": what fer train reads per step
        const auto t5 = clock_type::now();
        if (record) {
            const double p[k_nphases] = {ms(t1 - t0), ms(t2 - t1), ms(t3 - t2), ms(t4 - t3), ms(t5 - t4)};
            for (int i = 0; i < k_nphases; ++i) {
                phase_sum[i] += p[i];
                phase_steps[i].push_back(p[i]);
            }
            step_ms.push_back(ms(t5 - t0));
        }
    };

    for (int i = 0; i < o.warmup; ++i) step(false);
    for (int r = 0; r < o.reps; ++r) {
        const auto t0 = clock_type::now();
        for (int i = 0; i < o.iters; ++i) step(true);
        const double s = ms(clock_type::now() - t0) / 1e3;
        img_s.push_back(static_cast<double>(o.iters * o.batch) / s);
        std::printf("  rep %d: %.1f images/s (%.1f ms/step)\n", r + 1, img_s.back(), 1e3 * s / o.iters);
        std::fflush(stdout);
    }
    if (!std::isfinite(loss_value)) {
        std::fprintf(stderr, "bench-train: loss is not finite (%g)\n", loss_value);
        return 1;
    }

    const double lo = *std::min_element(img_s.begin(), img_s.end());
    const double hi = *std::max_element(img_s.begin(), img_s.end());
    const double med = median(img_s);
    const double total_mean = [&] {
        double s = 0;
        for (double v : phase_sum) s += v;
        return s / static_cast<double>(step_ms.size());
    }();
    // 1 forward + 2 backward (input and weight gradients) = 3x the forward MACs, 2 FLOPs each.
    const double gflops = 6.0 * static_cast<double>(macs) * med / 1e9;
    std::printf("images/s: min %.1f  median %.1f  max %.1f   (~%.1f GFLOP/s at the median)\n", lo, med, hi, gflops);
    std::printf("per step: median %.1f ms, phases (median ms, share of mean step):\n", median(step_ms));
    for (int i = 0; i < k_nphases; ++i) {
        const double mean = phase_sum[i] / static_cast<double>(step_ms.size());
        std::printf("  %-10s %8.2f ms  %5.1f%%\n", k_phases[i], median(phase_steps[i]), 100.0 * mean / total_mean);
    }

    std::ostringstream js;
    js.precision(6);
    js << "{\"impl\":\"cpp\",\"arch\":\"" << net->arch << "\",\"batch\":" << o.batch << ",\"threads\":"
       << torch::get_num_threads() << ",\"interop_threads\":" << at::get_num_interop_threads()
       << ",\"torch\":\"" << TORCH_VERSION << "\",\"warmup\":" << o.warmup << ",\"iters\":" << o.iters
       << ",\"reps\":" << o.reps << ",\"trainable_params\":" << pc.trainable << ",\"macs\":" << macs
       << ",\"loadavg\":\"" << loadavg() << "\",\"img_s\":[";
    for (size_t i = 0; i < img_s.size(); ++i) js << (i ? "," : "") << img_s[i];
    js << "],\"img_s_min\":" << lo << ",\"img_s_median\":" << med << ",\"img_s_max\":" << hi
       << ",\"step_ms_median\":" << median(step_ms) << ",\"phase_ms_median\":{";
    for (int i = 0; i < k_nphases; ++i) {
        js << (i ? "," : "") << "\"" << k_phases[i] << "\":" << median(phase_steps[i]);
    }
    js << "},\"phase_ms_mean\":{";
    for (int i = 0; i < k_nphases; ++i) {
        js << (i ? "," : "") << "\"" << k_phases[i] << "\":" << phase_sum[i] / static_cast<double>(step_ms.size());
    }
    js << "}}";
    std::printf("%s\n", js.str().c_str());
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    // The same process set-up as `fer train` (train/allocator.h).
    fer::tune_allocator();
    try {
        return run(parse(argc, argv));
    } catch (const std::invalid_argument & e) {
        std::fprintf(stderr, "bench-train: %s\n", e.what());
        usage(argv[0]);
        return 2;
    } catch (const std::exception & e) {
        std::fprintf(stderr, "bench-train: %s\n", e.what());
        return 1;
    }
}
