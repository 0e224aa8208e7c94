#include "distributed.h"

#include "error.h"

#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <string>

namespace fer {

namespace {

const char * default_env(const char * name) { return std::getenv(name); }

bool parse_nonnegative(const char * s, long long * out) {
    char * end = nullptr;
    errno = 0;
    const long long v = std::strtoll(s, &end, 10);
    if (!*s || *end || errno || v < 0) {
        return false;
    }
    *out = v;
    return true;
}

}  // namespace

launch_env read_launch_env(const std::function<const char *(const char *)> & env_in) {
    const auto env = env_in ? env_in : std::function<const char *(const char *)>(default_env);
    launch_env e;
    if (!env("WORLD_SIZE")) {
        return e;
    }
    auto number = [&](const char * name, long long lo, long long hi) {
        const char * s = env(name);
        if (!s) {
            throw usage_error(std::string("distributed training: WORLD_SIZE is set but ") + name +
                              " is not (start fer train with torchrun, srun or a PyTorchJob, or set RANK, "
                              "WORLD_SIZE, MASTER_ADDR and MASTER_PORT)");
        }
        long long v = 0;
        if (!parse_nonnegative(s, &v) || v < lo || v > hi) {
            throw usage_error(std::string("distributed training: ") + name + "='" + s + "' must be an integer in " +
                              std::to_string(lo) + ".." + std::to_string(hi));
        }
        return v;
    };
    e.world_size = static_cast<int>(number("WORLD_SIZE", 1, 65536));
    if (e.world_size == 1) {
        // A launcher with one process: plain training, unless the tests ask for
        // the data-parallel code path on one rank (which must then be plain
        // training to the bit: tests/test-distributed.cpp).
        const char * force = env("FER_FORCE_DATA_PARALLEL");
        e.data_parallel = force && std::string(force) == "1";
        if (!e.data_parallel) {
            return e;
        }
    } else {
        e.data_parallel = true;
    }
    e.rank = static_cast<int>(number("RANK", 0, e.world_size - 1));
    e.local_rank = env("LOCAL_RANK") ? static_cast<int>(number("LOCAL_RANK", 0, 65535)) : 0;
    e.master_port = static_cast<int>(number("MASTER_PORT", 1, 65535));
    const char * addr = env("MASTER_ADDR");
    if (!addr || !*addr) {
        throw usage_error("distributed training: WORLD_SIZE is set but MASTER_ADDR is not");
    }
    e.master_addr = addr;
    return e;
}

std::pair<int64_t, int64_t> batch_share(int64_t n, int rank, int world) {
    return {n * rank / world, n * (rank + 1) / world};
}

// ---- the process group ------------------------------------------------------

struct process_group::impl {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> pg;
    std::chrono::milliseconds timeout;
};

namespace {

// A collective's failure, said for people: which job, what to do.
[[noreturn]] void collective_failed(const char * what, int rank, int size, const std::exception & e) {
    throw runtime_error(std::string("distributed training: ") + what + " failed on rank " + std::to_string(rank) +
                        " of " + std::to_string(size) + ": another rank died, hangs or cannot be reached (" +
                        e.what() + "); the job stops. Restart it with --resume to continue from the last epoch");
}

bool is_loopback(const std::string & addr) {
    return addr == "localhost" || addr == "127.0.0.1" || addr == "::1" || addr.compare(0, 4, "127.") == 0;
}

}  // namespace

process_group::process_group(const launch_env & env, std::chrono::milliseconds timeout, bool cuda)
    : impl_(new impl), rank_(env.rank), size_(env.world_size) {
    impl_->timeout = timeout;
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(env.master_port);
    so.isServer = env.rank == 0;
    so.numWorkers = static_cast<size_t>(env.world_size);
    so.waitWorkers = true;
    so.timeout = timeout;
    try {
        impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, so);
    } catch (const std::exception & e) {
        throw runtime_error("distributed training: rank " + std::to_string(env.rank) + " cannot meet the others at " +
                            env.master_addr + ":" + std::to_string(env.master_port) + " within " +
                            std::to_string(timeout.count() / 1000) + " s (" + e.what() + ")");
    }
#ifdef USE_C10D_NCCL
    if (cuda) {
        auto o = c10d::ProcessGroupNCCL::Options::create();
        o->timeout = timeout;
        impl_->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, o);
        backend_ = "nccl";
        return;
    }
#else
    if (cuda) {
        throw usage_error("distributed training on CUDA needs a libtorch built with NCCL; this one has gloo only");
    }
#endif
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    // GLOO_SOCKET_IFNAME picks the network interface (as in PyTorch); on one
    // machine, loopback; otherwise the address this host's name resolves to.
    if (const char * ifname = std::getenv("GLOO_SOCKET_IFNAME")) {
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (is_loopback(env.master_addr)) {
        o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
        o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    o->threads = 1;
    try {
        impl_->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, o);
    } catch (const std::exception & e) {
        collective_failed("joining the process group", rank_, size_, e);
    }
    backend_ = "gloo";
}

process_group::~process_group() = default;

void process_group::allreduce_sum(torch::Tensor & t) {
    std::vector<torch::Tensor> v{t};
    try {
        impl_->pg->allreduce(v)->wait(impl_->timeout);
    } catch (const std::exception & e) {
        collective_failed("all-reduce", rank_, size_, e);
    }
}

void process_group::broadcast(torch::Tensor & t, int root) {
    std::vector<torch::Tensor> v{t};
    c10d::BroadcastOptions o;
    o.rootRank = root;
    try {
        impl_->pg->broadcast(v, o)->wait(impl_->timeout);
    } catch (const std::exception & e) {
        collective_failed("broadcast", rank_, size_, e);
    }
}

void process_group::barrier() {
    try {
        impl_->pg->barrier()->wait(impl_->timeout);
    } catch (const std::exception & e) {
        collective_failed("barrier", rank_, size_, e);
    }
}

// ---- the data-parallel step ---------------------------------------------------

namespace {

// Batch norm over the global batch, as libtorch's CPU kernels compute it for
// one process (batch_norm_cpu_collect_stats, _transform_input, _backward), with
// the per-channel sums taken over all ranks: forward the mean, then the sum of
// squared deviations from it; backward the sums of dy and of (x - mean) dy.
// Written as one autograd node with the kernel's own backward formula, not as
// a chain of differentiable ops: the composed gradient rounds differently, and
// through the max pools' near-ties that grew to 1e-3 of a step.
struct synced_batch_norm_fn : torch::autograd::Function<synced_batch_norm_fn> {
    // mean, invstd: the global batch's (constants here: their gradient paths are
    // in the backward formula).
    static torch::Tensor forward(torch::autograd::AutogradContext * ctx, torch::Tensor x, torch::Tensor weight,
                                 torch::Tensor bias, torch::Tensor mean, torch::Tensor invstd, process_group * g,
                                 double count) {
        const int64_t c = x.size(1);
        const torch::Tensor alpha = weight.defined() ? invstd * weight : invstd;
        const torch::Tensor beta = bias.defined() ? bias - mean * alpha : -mean * alpha;
        ctx->save_for_backward({x, mean, invstd, weight});
        ctx->saved_data["group"] = reinterpret_cast<int64_t>(g);
        ctx->saved_data["count"] = count;
        return x * alpha.view({1, c, 1, 1}) + beta.view({1, c, 1, 1});
    }
    static torch::autograd::variable_list backward(torch::autograd::AutogradContext * ctx,
                                                   torch::autograd::variable_list grad) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor & x = saved[0], & mean = saved[1], & invstd = saved[2], & weight = saved[3];
        auto * g = reinterpret_cast<process_group *>(ctx->saved_data["group"].toInt());
        const double count = ctx->saved_data["count"].toDouble();
        const int64_t c = x.size(1);
        const torch::Tensor dy = grad[0].contiguous();
        const torch::Tensor centred = x - mean.view({1, c, 1, 1});
        const torch::Tensor local = torch::cat({dy.sum({0, 2, 3}), (centred * dy).sum({0, 2, 3})});
        torch::Tensor global = local.clone();
        g->allreduce_sum(global);
        const torch::Tensor sum_dy = global.narrow(0, 0, c), dotp = global.narrow(0, c, c);
        const torch::Tensor k = dotp * invstd * invstd / count, grad_mean = sum_dy / count;
        const torch::Tensor scale = weight.defined() ? invstd * weight : invstd;
        const torch::Tensor dx = (dy - centred * k.view({1, c, 1, 1}) - grad_mean.view({1, c, 1, 1})) *
                                 scale.view({1, c, 1, 1});
        // This rank's share of the affine parameters' gradients: the ranks' shares
        // are summed with every other gradient after backward.
        const torch::Tensor dw = weight.defined() ? local.narrow(0, c, c) * invstd : torch::Tensor();
        const torch::Tensor db = weight.defined() ? local.narrow(0, 0, c) : torch::Tensor();
        return {dx, dw, db, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
    }
};

torch::Tensor synced_batch_norm(torch::nn::BatchNorm2dImpl & bn, const torch::Tensor & x, process_group & g,
                                int64_t global_rows) {
    const int64_t c = x.size(1);
    const double count = static_cast<double>(global_rows * x.size(2) * x.size(3));
    torch::Tensor mean, var;
    {
        torch::NoGradGuard no_grad;
        const torch::Tensor xd = x.detach();
        torch::Tensor sum = xd.sum({0, 2, 3});
        g.allreduce_sum(sum);
        mean = sum / count;
        torch::Tensor sq = (xd - mean.view({1, c, 1, 1})).pow(2).sum({0, 2, 3});
        g.allreduce_sum(sq);
        var = sq / count;
        if (bn.options.track_running_stats()) {
            // The same statistics on every rank: the running ones stay equal.
            const double m = bn.options.momentum().value_or(0.1);
            bn.running_mean.mul_(1 - m).add_(mean, m);
            bn.running_var.mul_(1 - m).add_(var * (count / std::max(1.0, count - 1)), m);
            bn.num_batches_tracked.add_(1);
        }
    }
    const bool affine = bn.options.affine();
    return synced_batch_norm_fn::apply(x, affine ? bn.weight : torch::Tensor(), affine ? bn.bias : torch::Tensor(),
                                       mean, (var + bn.options.eps()).rsqrt(), &g, count);
}

// As at::dropout on the whole batch (one Bernoulli draw of the global shape
// from the generator every rank has in the same state), keeping this rank's rows.
torch::Tensor sliced_dropout(const torch::Tensor & x, double p, const batch_slice & s) {
    if (p <= 0) {
        return x;
    }
    std::vector<int64_t> shape = x.sizes().vec();
    shape[0] = s.global_rows;
    torch::Tensor noise = torch::empty(shape, x.options().requires_grad(false));
    if (p >= 1) {
        noise.zero_();
    } else {
        noise.bernoulli_(1 - p);
        noise.div_(1 - p);
    }
    return x * noise.narrow(0, s.begin, x.size(0));
}

torch::Tensor run_sequential(torch::nn::Sequential & seq, torch::Tensor x, const batch_slice & s, process_group & g) {
    for (auto & layer : *seq) {
        const std::shared_ptr<torch::nn::Module> m = layer.ptr();
        if (auto * bn = m->as<torch::nn::BatchNorm2d>()) {
            x = synced_batch_norm(*bn, x, g, s.global_rows);
        } else if (auto * d = m->as<torch::nn::Dropout>()) {
            x = sliced_dropout(x, d->options.p(), s);
        } else {
            x = layer.forward(x);
        }
    }
    return x;
}

}  // namespace

torch::Tensor data_parallel_forward(Net & net, const torch::Tensor & x, const batch_slice & slice,
                                    process_group & group) {
    if (!net->is_training()) {
        return net->forward(x);
    }
    torch::Tensor h = run_sequential(net->features, x, slice, group);
    return run_sequential(net->head, h, slice, group);
}

void allreduce_gradients(const std::vector<torch::Tensor> & params, process_group & group, torch::Tensor & extra,
                         size_t bucket_bytes) {
    // Flat buckets: one collective per bucket instead of one per parameter.
    std::vector<torch::Tensor> bucket;
    size_t bytes = 0;
    auto flush = [&](bool last) {
        std::vector<torch::Tensor> flat;
        for (const auto & p : bucket) {
            flat.push_back(p.grad().reshape({-1}));
        }
        if (last && extra.defined()) {
            flat.push_back(extra.to(torch::kFloat).reshape({-1}));
        }
        if (flat.empty()) {
            return;
        }
        torch::Tensor buf = torch::cat(flat);
        group.allreduce_sum(buf);
        int64_t at = 0;
        for (const auto & p : bucket) {
            const int64_t n = p.numel();
            p.grad().copy_(buf.narrow(0, at, n).view_as(p.grad()));
            at += n;
        }
        if (last && extra.defined()) {
            extra.copy_(buf.narrow(0, at, extra.numel()).view_as(extra));
        }
        bucket.clear();
        bytes = 0;
    };
    for (const auto & p : params) {
        if (!p.grad().defined()) {
            // A parameter outside the graph: zeros, so every rank sends the same layout.
            const_cast<torch::Tensor &>(p).mutable_grad() = torch::zeros_like(p);
        }
        bucket.push_back(p);
        bytes += static_cast<size_t>(p.numel()) * p.element_size();
        if (bytes >= bucket_bytes) {
            flush(false);
        }
    }
    flush(true);
}

void broadcast_module(torch::nn::Module & m, process_group & group) {
    torch::NoGradGuard no_grad;
    for (auto & p : m.parameters()) {
        group.broadcast(p, 0);
    }
    for (auto & b : m.buffers()) {
        group.broadcast(b, 0);
    }
}

}  // namespace fer
