#include "args.h"
#include "commands.h"
#include "error.h"
#include "models.h"
#include "trainer.h"

#include <cstdio>

namespace fer {

int cmd_train(int argc, char ** argv) {
    train_options d;
    arg_parser a("train", "--data PATH [OPTIONS]",
                 "Train a network on FER2013. PATH is fer2013.csv or an image-folder tree\n"
                 "(<root>/<Split>/<class>/* or <root>/<class>/*). Training uses the Training split\n"
                 "less a fixed holdout of 10% per class, on which epochs are selected (PublicTest\n"
                 "stays untouched for the final figure). Every epoch writes OUT/last.pt (resumable),\n"
                 "OUT/best.pt (best validation accuracy so far) and OUT/metrics.csv.\n"
                 "Data-parallel over several processes when started by torchrun, srun or a\n"
                 "PyTorchJob (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT; gloo): --batch is then\n"
                 "the global batch, split over the ranks; rank 0 writes OUT (docs/scale-out.md).");
    a.option("data", "PATH", "training data: fer2013.csv or an image-folder tree");
    a.option("val-data", "PATH", "validation data when it is elsewhere (default: --data)");
    a.option("split", "SPLIT", "split to train on", d.train_split);
    a.option("val-split", "SPLIT", "validation: holdout (a fixed part of --split, not trained on) or a split\n"
                                   "of --val-data (PublicTest flatters the PublicTest figure)", d.val_split);
    a.option("holdout", "X", "fraction of each class held out with --val-split holdout", "0.1");
    a.option("holdout-seed", "N", "seed choosing the holdout (keep it fixed across runs)", "2013");
    a.option("arch", "NAME", "network: fernet (default), fernet-s (the smaller student) or seed", d.arch);
    a.option("out", "DIR", "run folder", d.out_dir);
    a.option("epochs", "N", "epochs", std::to_string(d.epochs));
    a.option("batch", "N", "batch size", std::to_string(d.batch));
    a.option("optimizer", "NAME", "sgd (Nesterov momentum) or adamw", d.optimizer);
    a.option("lr", "X", "peak learning rate", "0.05");
    a.option("momentum", "X", "SGD momentum", "0.9");
    a.option("weight-decay", "X", "weight decay", "0.0005");
    a.option("schedule", "NAME", "learning-rate schedule: onecycle, cosine or constant", d.schedule);
    a.option("warmup", "X", "fraction of steps spent warming up", "0.15");
    a.option("label-smoothing", "X", "label smoothing", "0.1");
    a.option("class-weights", "MODE", "loss weights against class imbalance: none, sqrt or inverse frequency",
             d.class_weights);
    a.flag("no-augment", "train on the faces as they are");
    a.option("mix", "MODE", "mix faces within batches: none, mixup or cutmix", "none");
    a.option("mix-alpha", "X", "mixing weight ~ Beta(X, X)", "1");
    a.option("mix-prob", "X", "share of batches mixed", "0.5");
    a.option("teacher", "FILE[,FILE...]", "distil from teacher files (fer distill-targets; several: their mean):\n"
                                          "loss = alpha T^2 KL(teacher_T || student_T) + (1 - alpha) CE");
    a.option("distill-alpha", "X", "alpha, the weight of the teachers' term", "0.7");
    a.option("distill-temperature", "X", "T, the softening temperature", "4");
    a.flag("distill-weighted", "weigh the teachers' term per face by its class's loss weight too (--class-weights)");
    a.option("threads", "N", "libtorch threads", std::to_string(d.threads));
    a.option("workers", "N", "batch-preparation threads", std::to_string(d.workers));
    a.option("seed", "N", "random seed (runs are deterministic for a seed and thread count)", "1");
    a.option("device", "NAME", "cpu or cuda", d.device);
    a.option("limit", "N", "train on a random subset of N faces (0: all)", "0");
    a.option("val-limit", "N", "validate on a random subset of N faces (0: all)", "0");
    a.option("dist-timeout", "S", "distributed runs: seconds a rank waits for the others before the job stops", "300");
    a.flag("resume", "continue the run in --out from its last checkpoint");
    a.flag("summary", "print the network's layer table and parameter counts, then exit");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (!a.positionals().empty()) {
        throw usage_error("train: unexpected argument '" + a.positionals()[0] + "'");
    }
    if (a.enabled("summary")) {
        Net net = make_net(a.get("arch"));
        std::fputs(net_summary(net).c_str(), stdout);
        return 0;
    }
    train_options o;
    o.data = a.get("data");
    o.val_data = a.get("val-data");
    o.train_split = a.get("split");
    o.val_split = a.get("val-split");
    o.holdout = a.get_double("holdout");
    o.holdout_seed = a.get_int("holdout-seed");
    o.arch = a.get("arch");
    o.out_dir = a.get("out");
    o.epochs = a.get_int("epochs");
    o.batch = a.get_int("batch");
    o.optimizer = a.get("optimizer");
    o.lr = a.get_double("lr");
    o.momentum = a.get_double("momentum");
    o.weight_decay = a.get_double("weight-decay");
    o.schedule = a.get("schedule");
    o.warmup = a.get_double("warmup");
    o.label_smoothing = a.get_double("label-smoothing");
    o.class_weights = a.get("class-weights");
    o.augment = !a.enabled("no-augment");
    o.mix = a.get("mix");
    o.mix_alpha = a.get_double("mix-alpha");
    o.mix_prob = a.get_double("mix-prob");
    o.teacher = a.get("teacher");
    o.distill_alpha = a.get_double("distill-alpha");
    o.distill_temperature = a.get_double("distill-temperature");
    o.distill_weighted = a.enabled("distill-weighted");
    o.threads = a.get_int("threads");
    o.workers = a.get_int("workers");
    o.seed = a.get_int("seed");
    o.device = a.get("device");
    o.limit = a.get_int("limit");
    o.val_limit = a.get_int("val-limit");
    o.dist_timeout_s = a.get_int("dist-timeout");
    const bool resume = a.enabled("resume");
    if (resume) {
        if (o.threads <= 0 || o.workers <= 0) {
            throw usage_error("--threads and --workers must be positive");
        }
        if (!a.has("epochs")) {
            o.epochs = 0;  // keep the run's own epoch count
        } else if (o.epochs <= 0) {
            throw usage_error("--epochs must be at least 1 (got " + std::to_string(o.epochs) + ")");
        }
    }
    train(o, resume);
    return 0;
}

}  // namespace fer
