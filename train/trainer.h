// `fer train`: trains a network on FER2013, validating every epoch, keeping
// the best epoch, writing an atomic checkpoint every epoch so that a killed
// run loses at most the epoch in progress, and resuming exactly.
#pragma once

#include "holdout.h"

#include <cstdint>
#include <string>

namespace fer {

struct train_options {
    std::string arch = "fernet";
    std::string data;                  // fer2013.csv or an image-folder tree
    std::string val_data;              // defaults to `data`
    std::string train_split = "Training";
    // "holdout" (default): a fixed 10% of the training split (train/holdout.h),
    // which is then not trained on; or a split of val_data (e.g. PublicTest).
    std::string val_split = "holdout";
    double holdout = k_holdout_fraction;  // fraction of each class held out
    int64_t holdout_seed = static_cast<int64_t>(k_holdout_seed);  // fixed: every run holds out the same faces
    std::string out_dir = "runs/fernet";
    int64_t epochs = 40;
    int64_t batch = 128;
    std::string optimizer = "sgd";     // sgd (Nesterov momentum) | adamw
    double lr = 0.05;                  // peak learning rate
    double momentum = 0.9;
    double weight_decay = 5e-4;
    std::string schedule = "onecycle"; // onecycle | cosine | constant
    double warmup = 0.15;              // fraction of all steps spent warming up
    double label_smoothing = 0.1;
    std::string class_weights = "sqrt";  // none | sqrt | inverse (class frequency)
    bool augment = true;
    int64_t threads = 2;               // libtorch intra-op threads
    int64_t workers = 1;               // batch-preparation threads
    int64_t seed = 1;
    std::string device = "cpu";        // cpu | cuda
    // Distillation (train/distill.h): comma-separated teacher files
    // (train/teacher-file.h, absolute paths once validated); empty: none.
    std::string teacher;
    double distill_alpha = 0.7;        // weight of the soft term
    double distill_temperature = 4.0;  // T
    bool distill_weighted = false;     // the soft term weighs each face by its class's loss weight too
    std::string mix = "none";          // none | mixup | cutmix (train/mix.h)
    double mix_alpha = 1.0;            // lambda ~ Beta(alpha, alpha)
    double mix_prob = 0.5;             // share of batches mixed
    int64_t limit = 0;                 // use a random subset of this many training faces (0: all)
    int64_t val_limit = 0;
    // Distributed runs (train/distributed.h; not stored in the run's config):
    // how long a collective waits for the other ranks before the job stops.
    int64_t dist_timeout_s = 300;

    std::string to_config() const;
    // Parses to_config() text; throws fer::error on unknown keys or bad values.
    static train_options from_config(const std::string & text);
    void validate() const;  // throws usage errors
};

struct train_result {
    double best_accuracy = 0;
    int64_t best_epoch = 0;
    double final_train_accuracy = 0;
    int64_t epochs_done = 0;
    size_t train_faces = 0;  // faces trained on (after the holdout and --limit)
    size_t val_faces = 0;    // faces validated on
};

// `resume`: continue the run in opts.out_dir from its last.pt. The stored
// options win, except threads, workers and device; opts.epochs > 0 sets a new
// total epoch count (the schedule then stretches over it), 0 keeps the stored one.
// Under a launcher (WORLD_SIZE > 1: torchrun, srun, PyTorchJob) every rank
// calls this; they train one model data-parallel and only rank 0 validates,
// writes the run folder and reports (train/distributed.h).
train_result train(train_options opts, bool resume);

}  // namespace fer
