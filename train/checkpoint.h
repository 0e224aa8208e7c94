// Model files and training checkpoints (libtorch archives), always written
// atomically: to a temporary file in the same folder, flushed, then renamed.
#pragma once

#include "atomic-file.h"  // write_file_atomic, declared here before
#include "models.h"

#include <torch/torch.h>

#include <string>

namespace fer {

// Everything beyond the weights that a run needs to continue exactly.
struct train_state {
    int64_t epochs_done = 0;
    double best_accuracy = -1.0;
    int64_t best_epoch = 0;
    std::string config;  // the run's options as "key=value" lines
};

void save_model(const std::string & path, Net & net);
// Throws fer::error (input) naming the file when it is missing or not a model.
Net load_model(const std::string & path);

void save_checkpoint(const std::string & path, Net & net, torch::optim::Optimizer & opt, const train_state & st);
// Reads the state and the architecture name; weights and optimizer need
// load_checkpoint_into once the network and optimizer are built.
train_state read_checkpoint_state(const std::string & path, std::string * arch);
void load_checkpoint_into(const std::string & path, Net & net, torch::optim::Optimizer & opt);

}  // namespace fer
