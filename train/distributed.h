// Data-parallel training on torch.distributed (docs/scale-out.md): `fer train`
// started by a launcher (torchrun, Slurm's srun, Kubernetes' PyTorchJob) joins
// a process group from the variables those set -- RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT -- over gloo (c10d::ProcessGroupGloo on
// a c10d::TCPStore; NCCL when libtorch has CUDA and --device cuda).
//
// libtorch has no C++ DistributedDataParallel, so the step is done here:
// every rank prepares the same global batch (it depends only on seed, epoch and
// index) and keeps its contiguous share of the rows; batch norm normalises with
// the statistics of the whole global batch (synchronised, differentiably);
// dropout draws the whole batch's mask and keeps the rank's rows; each rank's
// loss is its share of the global batch's loss; gradients are summed over the
// ranks in flat buckets after backward. A step over 2 ranks is therefore the
// single-process step on the whole batch, up to float rounding
// (tests/test-distributed.cpp).
#pragma once

#include "models.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace fer {

struct launch_env {
    int rank = 0, world_size = 1, local_rank = 0;
    std::string master_addr;
    int master_port = 0;
    bool data_parallel = false;  // WORLD_SIZE > 1 (or FER_FORCE_DATA_PARALLEL=1 for tests)
    bool distributed() const { return data_parallel; }
};

// The launcher's variables; world size 1 when WORLD_SIZE is unset. Throws a
// usage error naming the variable that is missing or malformed. `env` looks a
// variable up (getenv by default).
launch_env read_launch_env(const std::function<const char *(const char *)> & env = nullptr);

// One process group: its rank, size and the collectives the trainer uses.
// Every collective waits at most `timeout`; a peer that died or hangs turns
// into a runtime_error saying so (never an endless wait).
class process_group {
public:
    process_group(const launch_env & env, std::chrono::milliseconds timeout, bool cuda);
    ~process_group();
    process_group(const process_group &) = delete;
    process_group & operator=(const process_group &) = delete;

    int rank() const { return rank_; }
    int size() const { return size_; }
    const std::string & backend() const { return backend_; }

    void allreduce_sum(torch::Tensor & t);          // in place
    void broadcast(torch::Tensor & t, int root);   // in place
    void barrier();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
    int rank_ = 0, size_ = 1;
    std::string backend_;
};

// The rows [begin, end) of an n-row global batch that `rank` of `world` takes:
// contiguous, sizes differing by at most one.
std::pair<int64_t, int64_t> batch_share(int64_t n, int rank, int world);

// A rank's slice of a global batch, for the forward pass below.
struct batch_slice {
    int64_t global_rows = 0;  // rows of the whole batch
    int64_t begin = 0;        // this rank's first row in it
};

// net's forward pass on this rank's rows `x` (in training mode): batch norm
// with the whole batch's statistics (and running statistics updated with
// them, identically on every rank), dropout with the whole batch's mask.
// In eval mode it is net->forward(x).
torch::Tensor data_parallel_forward(Net & net, const torch::Tensor & x, const batch_slice & slice,
                                    process_group & group);

// Sums the gradients of `params` over the ranks in flat buckets of about
// `bucket_bytes`, plus `extra` (e.g. loss and accuracy counters) in the last.
void allreduce_gradients(const std::vector<torch::Tensor> & params, process_group & group, torch::Tensor & extra,
                         size_t bucket_bytes = 25u << 20);

// Rank 0's parameters and buffers to every rank (start of training).
void broadcast_module(torch::nn::Module & m, process_group & group);

}  // namespace fer
