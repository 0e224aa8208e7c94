#include "trainer.h"

#include "augment.h"
#include "checkpoint.h"
#include "dataset.h"
#include "distill.h"
#include "distributed.h"
#include "error.h"
#include "holdout.h"
#include "infer.h"
#include "log.h"
#include "metrics.h"
#include "mix.h"
#include "models.h"
#include "progress.h"
#include "teacher-file.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace fer {

// ---- options ------------------------------------------------------------

std::string train_options::to_config() const {
    std::ostringstream o;
    o.precision(17);
    o << "arch=" << arch << "\ndata=" << data << "\nval_data=" << val_data << "\ntrain_split=" << train_split
      << "\nval_split=" << val_split << "\nholdout=" << holdout << "\nholdout_seed=" << holdout_seed
      << "\nepochs=" << epochs << "\nbatch=" << batch << "\noptimizer=" << optimizer
      << "\nlr=" << lr << "\nmomentum=" << momentum << "\nweight_decay=" << weight_decay << "\nschedule=" << schedule
      << "\nwarmup=" << warmup << "\nlabel_smoothing=" << label_smoothing << "\nclass_weights=" << class_weights
      << "\naugment=" << (augment ? 1 : 0) << "\nseed=" << seed << "\nteacher=" << teacher
      << "\ndistill_alpha=" << distill_alpha
      << "\ndistill_temperature=" << distill_temperature << "\ndistill_weighted=" << (distill_weighted ? 1 : 0)
      << "\nmix=" << mix << "\nmix_alpha=" << mix_alpha
      << "\nmix_prob=" << mix_prob << "\nlimit=" << limit << "\nval_limit=" << val_limit
      << "\n";
    return o.str();
}

train_options train_options::from_config(const std::string & text) {
    train_options t;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) {
            continue;
        }
        const size_t eq = line.find('=');
        if (eq == std::string::npos) {
            throw input_error("bad config line '" + line + "'");
        }
        const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
        try {
            if (k == "arch") t.arch = v;
            else if (k == "data") t.data = v;
            else if (k == "val_data") t.val_data = v;
            else if (k == "train_split") t.train_split = v;
            else if (k == "val_split") t.val_split = v;
            else if (k == "holdout") t.holdout = std::stod(v);
            else if (k == "holdout_seed") t.holdout_seed = std::stoll(v);
            else if (k == "epochs") t.epochs = std::stoll(v);
            else if (k == "batch") t.batch = std::stoll(v);
            else if (k == "optimizer") t.optimizer = v;
            else if (k == "lr") t.lr = std::stod(v);
            else if (k == "momentum") t.momentum = std::stod(v);
            else if (k == "weight_decay") t.weight_decay = std::stod(v);
            else if (k == "schedule") t.schedule = v;
            else if (k == "warmup") t.warmup = std::stod(v);
            else if (k == "label_smoothing") t.label_smoothing = std::stod(v);
            else if (k == "class_weights") t.class_weights = v;
            else if (k == "augment") t.augment = v == "1";
            else if (k == "seed") t.seed = std::stoll(v);
            else if (k == "teacher") t.teacher = v;
            else if (k == "distill_alpha") t.distill_alpha = std::stod(v);
            else if (k == "distill_temperature") t.distill_temperature = std::stod(v);
            else if (k == "distill_weighted") t.distill_weighted = v == "1";
            else if (k == "mix") t.mix = v;
            else if (k == "mix_alpha") t.mix_alpha = std::stod(v);
            else if (k == "mix_prob") t.mix_prob = std::stod(v);
            else if (k == "limit") t.limit = std::stoll(v);
            else if (k == "val_limit") t.val_limit = std::stoll(v);
            else throw input_error("unknown config key '" + k + "'");
        } catch (const std::logic_error &) {
            throw input_error("bad config value '" + line + "'");
        }
    }
    return t;
}

void train_options::validate() const {
    make_net(arch);
    if (data.empty()) throw usage_error("--data is required");
    if (epochs <= 0) throw usage_error("--epochs must be at least 1 (got " + std::to_string(epochs) + ")");
    if (batch <= 0 || batch > 8192) throw usage_error("--batch must be in 1..8192");
    if (optimizer != "sgd" && optimizer != "adamw") throw usage_error("--optimizer must be sgd or adamw");
    if (schedule != "onecycle" && schedule != "cosine" && schedule != "constant")
        throw usage_error("--schedule must be onecycle, cosine or constant");
    if (!(lr > 0) || !std::isfinite(lr)) throw usage_error("--lr must be positive");
    if (weight_decay < 0) throw usage_error("--weight-decay must be >= 0");
    if (warmup < 0 || warmup >= 1) throw usage_error("--warmup must be a fraction in [0, 1)");
    if (label_smoothing < 0 || label_smoothing >= 1) throw usage_error("--label-smoothing must be in [0, 1)");
    if (class_weights != "none" && class_weights != "sqrt" && class_weights != "inverse")
        throw usage_error("--class-weights must be none, sqrt or inverse");
    if (threads <= 0 || threads > 256) throw usage_error("--threads must be in 1..256");
    if (workers <= 0 || workers > 64) throw usage_error("--workers must be in 1..64");
    if (device != "cpu" && device != "cuda") throw usage_error("--device must be cpu or cuda");
    if (limit < 0 || val_limit < 0) throw usage_error("--limit must be >= 0");
    if (mix != "none" && mix != "mixup" && mix != "cutmix") throw usage_error("--mix must be none, mixup or cutmix");
    if (!(mix_alpha > 0 && mix_alpha <= 100)) throw usage_error("--mix-alpha must be in (0, 100]");
    if (!(mix_prob >= 0 && mix_prob <= 1)) throw usage_error("--mix-prob must be in [0, 1]");
    if (!(distill_alpha >= 0 && distill_alpha <= 1)) throw usage_error("--distill-alpha must be in [0, 1]");
    if (!(distill_temperature > 0 && distill_temperature <= 100))
        throw usage_error("--distill-temperature must be in (0, 100]");
    if (!is_known_split(train_split) || (!is_known_split(val_split) && val_split != "holdout"))
        throw usage_error("splits must be Training, PublicTest or PrivateTest (validation also: holdout)");
    if (val_split == "holdout") {
        if (!val_data.empty() && val_data != data)
            throw usage_error("--val-split holdout is a part of --data; it takes no --val-data");
        if (!(holdout > 0 && holdout < 1)) throw usage_error("--holdout must be a fraction in (0, 1)");
        if (holdout_seed < 0) throw usage_error("--holdout-seed must be >= 0");
    }
    if (train_split == val_split && (val_data.empty() || val_data == data))
        throw usage_error("the validation split must differ from the training split");
    if (train_split == "PublicTest")
        throw usage_error("PublicTest is for validation and model selection; never train on it");
}

// ---- batches --------------------------------------------------------------

namespace {

struct batch {
    torch::Tensor x, y;
    torch::Tensor t;  // (n,7) teacher probabilities of the view shown, when distilling
    mix_plan mix;     // faces mixed within the batch (train/mix.h)
};

uint64_t mix(uint64_t a, uint64_t b) {
    // splitmix64 of a combination: independent streams per (seed, epoch, batch).
    uint64_t z = a * 0x9E3779B97F4A7C15ULL + b + 0x632BE59BD9B4E5AULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Prepares the batches of one epoch on worker threads, handing them out in
// order. Each batch depends only on (seed, epoch, index), never on timing.
class batch_source {
public:
    batch_source(const dataset & d, const std::vector<size_t> & order, int64_t batch_size, bool augment,
                 const train_options & mix, uint64_t seed, int64_t epoch, int n_workers)
        : d_(d), order_(order), bs_(static_cast<size_t>(batch_size)), augment_(augment), mix_(mix), seed_(seed),
          epoch_(static_cast<uint64_t>(epoch)) {
        n_batches_ = (order_.size() + bs_ - 1) / bs_;
        capacity_ = static_cast<size_t>(2 * n_workers + 1);
        for (int i = 0; i < n_workers; ++i) {
            workers_.emplace_back([this] { run(); });
        }
    }
    ~batch_source() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        for (auto & t : workers_) {
            t.join();
        }
    }
    size_t size() const { return n_batches_; }

    batch get(size_t i) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return ready_.count(i) > 0; });
        batch b = std::move(ready_[i]);
        ready_.erase(i);
        consumed_ = i + 1;
        cv_.notify_all();
        return b;
    }

private:
    void run() {
        for (;;) {
            size_t i;
            {
                std::unique_lock<std::mutex> lock(mu_);
                cv_.wait(lock, [&] { return stop_ || (next_ < n_batches_ && next_ < consumed_ + capacity_); });
                if (stop_) {
                    return;
                }
                i = next_++;
            }
            batch b = make(i);
            {
                std::lock_guard<std::mutex> lock(mu_);
                ready_[i] = std::move(b);
            }
            cv_.notify_all();
        }
    }

    batch make(size_t i) const {
        const size_t begin = i * bs_, end = std::min(order_.size(), begin + bs_);
        const int64_t n = static_cast<int64_t>(end - begin);
        batch b{torch::empty({n, 1, k_image_side, k_image_side}), torch::empty({n}, torch::kLong), {}, {}};
        const bool soft = !d_.soft.empty();
        if (soft) {
            b.t = torch::empty({n, 7});
        }
        float * x = b.x.data_ptr<float>();
        int64_t * y = b.y.data_ptr<int64_t>();
        std::mt19937_64 rng(mix(mix(seed_, epoch_), i));
        augment_options aug;
        for (size_t k = begin; k < end; ++k) {
            const size_t j = order_[k];
            float * out = x + (k - begin) * k_image_pixels;
            bool flipped = false;
            if (augment_) {
                flipped = augment_face(d_.image(j), out, rng, aug);
            } else {
                normalise_face(d_.image(j), out);
            }
            y[k - begin] = d_.labels[j];
            if (soft) {
                const float * t = d_.soft.data() + j * k_soft_width + (flipped ? 7 : 0);
                std::copy(t, t + 7, b.t.data_ptr<float>() + (k - begin) * 7);
            }
        }
        // After every face's draws, from the same stream: still a function of (seed, epoch, batch).
        b.mix = draw_mix(mix_.mix, mix_.mix_alpha, mix_.mix_prob, n, k_image_side, rng);
        apply_mix(b.mix, b.x);
        return b;
    }

    const dataset & d_;
    const std::vector<size_t> & order_;
    size_t bs_, n_batches_, capacity_;
    bool augment_;
    const train_options & mix_;
    uint64_t seed_, epoch_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::map<size_t, batch> ready_;
    size_t next_ = 0, consumed_ = 0;
    bool stop_ = false;
    std::vector<std::thread> workers_;
};

double lr_at(const train_options & o, int64_t step, int64_t total_steps) {
    const double t = static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, total_steps));
    const double pi = 3.14159265358979323846;
    if (o.schedule == "constant") {
        return o.lr;
    }
    const double w = o.warmup;
    if (t < w) {
        const double start = o.schedule == "onecycle" ? o.lr / 25.0 : 0.0;
        return start + (o.lr - start) * t / w;
    }
    const double floor = o.schedule == "onecycle" ? o.lr * 1e-3 : 0.0;
    const double u = (t - w) / std::max(1e-9, 1.0 - w);
    return floor + (o.lr - floor) * 0.5 * (1.0 + std::cos(pi * u));
}

torch::Tensor class_weight_tensor(const train_options & o, const dataset & d) {
    std::vector<int64_t> counts = d.class_counts();
    std::vector<float> w(counts.size(), 1.0f);
    if (o.class_weights == "none") {
        return torch::Tensor();
    }
    double mean = 0;
    for (size_t c = 0; c < counts.size(); ++c) {
        const double freq = static_cast<double>(std::max<int64_t>(1, counts[c])) / static_cast<double>(d.size());
        w[c] = static_cast<float>(o.class_weights == "sqrt" ? 1.0 / std::sqrt(freq) : 1.0 / freq);
        mean += w[c] * freq;
    }
    // Scale so the average weight over the training faces is 1: the loss keeps its size.
    for (float & v : w) {
        v = static_cast<float>(v / mean);
    }
    return torch::tensor(w);
}

struct epoch_row {
    int64_t epoch;
    double lr, train_loss, train_acc, val_loss, val_acc, val_f1, seconds, images_per_s;
};

const char * k_csv_header = "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,val_macro_f1,seconds,images_per_s";

std::string rows_csv(const std::vector<epoch_row> & rows) {
    std::ostringstream o;
    o << k_csv_header << "\n";
    char buf[256];
    for (const auto & r : rows) {
        std::snprintf(buf, sizeof buf, "%lld,%.6g,%.5f,%.5f,%.5f,%.5f,%.5f,%.1f,%.1f\n", static_cast<long long>(r.epoch),
                      r.lr, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.val_f1, r.seconds, r.images_per_s);
        o << buf;
    }
    return o.str();
}

std::vector<epoch_row> read_rows(const std::string & path, int64_t up_to_epoch) {
    std::vector<epoch_row> rows;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        epoch_row r{};
        long long e = 0;
        if (std::sscanf(line.c_str(), "%lld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &e, &r.lr, &r.train_loss, &r.train_acc,
                        &r.val_loss, &r.val_acc, &r.val_f1, &r.seconds, &r.images_per_s) == 9 &&
            e <= up_to_epoch) {
            r.epoch = e;
            rows.push_back(r);
        }
    }
    return rows;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const train_options & o, Net & net) {
    if (o.optimizer == "adamw") {
        return std::make_unique<torch::optim::AdamW>(net->parameters(),
                                                     torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
    }
    return std::make_unique<torch::optim::SGD>(
        net->parameters(),
        torch::optim::SGDOptions(o.lr).momentum(o.momentum).nesterov(o.momentum > 0).weight_decay(o.weight_decay));
}

std::string absolute_list(const std::string & list) {
    std::string out;
    std::istringstream s(list);
    for (std::string p; std::getline(s, p, ',');) {
        if (!p.empty()) {
            out += (out.empty() ? "" : ",") + fs::absolute(p).lexically_normal().string();
        }
    }
    return out;
}

void ensure_writable_dir(const std::string & dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (!fs::is_directory(dir, ec)) {
        throw runtime_error(dir + ": cannot create output folder");
    }
    const std::string probe = (fs::path(dir) / ".write-test").string();
    {
        std::ofstream f(probe);
        if (!f) {
            throw runtime_error(dir + ": output folder is not writable");
        }
    }
    fs::remove(probe, ec);
}

}  // namespace

// ---- training -------------------------------------------------------------

train_result train(train_options opts, bool resume) {
    const launch_env launch = read_launch_env();
    std::unique_ptr<process_group> group;
    if (launch.distributed()) {
        if (opts.dist_timeout_s <= 0) throw usage_error("--dist-timeout must be positive");
        if (launch.rank != 0) {
            log_set_quiet(true);  // rank 0 reports for the job
        }
        group = std::make_unique<process_group>(launch, std::chrono::seconds(opts.dist_timeout_s),
                                                opts.device == "cuda");
        log_info("distributed: rank 0 of " + std::to_string(group->size()) + " (" + group->backend() + ", " +
                 launch.master_addr + ":" + std::to_string(launch.master_port) + ")");
    }
    const bool leader = !group || group->rank() == 0;
    const fs::path out(opts.out_dir);
    const std::string last_path = (out / "last.pt").string();
    const std::string best_path = (out / "best.pt").string();
    const std::string csv_path = (out / "metrics.csv").string();
    train_state state;
    if (resume) {
        std::error_code ec;
        if (!fs::is_regular_file(last_path, ec)) {
            throw input_error(last_path + ": no checkpoint to resume from");
        }
        // A run killed while saving leaves a temporary file behind; the real
        // files are whole (they are replaced by rename), so drop the leftovers.
        for (const auto & f : fs::directory_iterator(out, ec)) {
            if (f.path().filename().string().find(".tmp.") != std::string::npos) {
                fs::remove(f.path(), ec);
            }
        }
        std::string arch;
        state = read_checkpoint_state(last_path, &arch);
        const std::vector<std::string> known = net_architectures();
        if (std::find(known.begin(), known.end(), arch) == known.end()) {
            throw input_error(last_path + ": checkpoint of unknown architecture '" + arch + "'");
        }
        train_options stored = train_options::from_config(state.config);
        stored.threads = opts.threads;
        stored.workers = opts.workers;
        stored.device = opts.device;
        stored.out_dir = opts.out_dir;
        if (opts.epochs > 0) {
            // Extending a run: the schedule is stretched over the new total from here on.
            stored.epochs = opts.epochs;
        }
        opts = stored;
        if (state.epochs_done >= opts.epochs) {
            log_info("run " + opts.out_dir + " already finished " + std::to_string(opts.epochs) + " epochs");
        }
    } else {
        opts.validate();
        std::error_code ec;
        if (fs::exists(last_path, ec)) {
            throw usage_error(opts.out_dir + " already holds a run; pass --resume to continue it or choose another --out");
        }
    }
    torch::set_num_threads(static_cast<int>(opts.threads));
    if (opts.device == "cuda" && !torch::cuda::is_available()) {
        throw usage_error("--device cuda: this libtorch has no CUDA device");
    }
    const torch::Device device(opts.device == "cuda" ? torch::kCUDA : torch::kCPU);

    log_info("loading training data " + opts.data + " [" + opts.train_split + "]");
    dataset full_train = load_dataset(opts.data, opts.train_split, static_cast<int>(opts.threads));
    if (!opts.teacher.empty()) {
        // Validated against the whole split (count, class order, fingerprint), then
        // carried through the holdout and --limit with the faces.
        full_train.soft = read_teachers(opts.teacher, full_train);
        opts.teacher = absolute_list(opts.teacher);
        char buf[160];
        std::snprintf(buf, sizeof buf, "distilling: loss = %.3g * T^2 KL(teacher_T || student_T) + %.3g * CE, T = %.3g",
                      opts.distill_alpha, 1 - opts.distill_alpha, opts.distill_temperature);
        log_info(buf + std::string(", teachers ") + opts.teacher);
    }
    dataset val_full;
    if (opts.val_split == "holdout") {
        holdout_indices h = holdout_split(full_train, opts.holdout, static_cast<uint64_t>(opts.holdout_seed));
        if (h.holdout.empty() || h.train.empty()) {
            throw input_error(opts.data + ": too few faces for a holdout of " + std::to_string(opts.holdout));
        }
        val_full = subset(full_train, h.holdout);
        full_train = subset(full_train, h.train);
        char buf[200];
        std::snprintf(buf, sizeof buf, "validation: holdout of %s (%.0f%% per class, seed %lld), %zu faces not trained on",
                      opts.train_split.c_str(), 100 * opts.holdout, static_cast<long long>(opts.holdout_seed),
                      val_full.size());
        log_info(buf);
    } else {
        const std::string val_src = opts.val_data.empty() ? opts.data : opts.val_data;
        log_info("loading validation data " + val_src + " [" + opts.val_split + "]");
        if (opts.val_split == "PublicTest") {
            log_warning("choosing epochs on PublicTest flatters the PublicTest figure; the default is --val-split holdout");
        }
        val_full = load_dataset(val_src, opts.val_split, static_cast<int>(opts.threads));
    }
    dataset train_set = subsample(full_train, static_cast<size_t>(opts.limit), static_cast<uint64_t>(opts.seed));
    dataset val_set = subsample(val_full, static_cast<size_t>(opts.val_limit), static_cast<uint64_t>(opts.seed) + 1);
    ensure_writable_dir(opts.out_dir);  // after loading, so bad data leaves no empty run folder
    log_info("training faces: " + std::to_string(train_set.size()) + ", validation faces: " +
             std::to_string(val_set.size()));

    torch::manual_seed(static_cast<uint64_t>(opts.seed));
    Net net = make_net(opts.arch);
    net->to(device);
    std::unique_ptr<torch::optim::Optimizer> opt = make_optimizer(opts, net);
    if (resume) {
        load_checkpoint_into(last_path, net, *opt);
        net->to(device);
        log_info("resuming " + opts.out_dir + " after epoch " + std::to_string(state.epochs_done));
    }
    if (group) {
        // Every rank built the same network from the seed (or the same checkpoint);
        // rank 0's copy to all makes sure they start equal.
        broadcast_module(*net, *group);
        if (opts.batch < group->size()) {
            throw usage_error("--batch " + std::to_string(opts.batch) + " is the global batch: at least one face per rank (" +
                              std::to_string(group->size()) + ")");
        }
    }
    if (leader) {
        write_file_atomic((out / "config.txt").string(), opts.to_config());
    }
    state.config = opts.to_config();
    std::vector<epoch_row> rows = resume ? read_rows(csv_path, state.epochs_done) : std::vector<epoch_row>{};

    torch::Tensor weights = class_weight_tensor(opts, train_set);
    auto loss_opts = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(opts.label_smoothing);
    if (weights.defined()) {
        loss_opts = loss_opts.weight(weights.to(device));
    }
    // --distill-weighted: the class weights on the teachers' term too (none with --class-weights none)
    const torch::Tensor soft_weights = opts.distill_weighted && weights.defined() ? weights.to(device) : torch::Tensor();

    const int64_t steps_per_epoch = (static_cast<int64_t>(train_set.size()) + opts.batch - 1) / opts.batch;
    const int64_t total_steps = steps_per_epoch * opts.epochs;
    train_result result;
    result.train_faces = train_set.size();
    result.val_faces = val_set.size();
    result.best_accuracy = state.best_accuracy;
    result.best_epoch = state.best_epoch;

    for (int64_t epoch = state.epochs_done; epoch < opts.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        // Everything random in an epoch derives from (seed, epoch): resuming at
        // an epoch boundary replays exactly what a straight run would do.
        torch::manual_seed(mix(static_cast<uint64_t>(opts.seed), static_cast<uint64_t>(epoch)) >> 1);
        std::vector<size_t> order(train_set.size());
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 shuffle_rng(mix(static_cast<uint64_t>(opts.seed) ^ 0xA5A5ULL, static_cast<uint64_t>(epoch)));
        std::shuffle(order.begin(), order.end(), shuffle_rng);

        net->train();
        batch_source source(train_set, order, opts.batch, opts.augment, opts, static_cast<uint64_t>(opts.seed), epoch,
                            static_cast<int>(opts.workers));
        char label[64];
        std::snprintf(label, sizeof label, "epoch %lld/%lld", static_cast<long long>(epoch + 1),
                      static_cast<long long>(opts.epochs));
        std::optional<progress_bar> bar;
        if (leader) {
            bar.emplace(label, static_cast<int64_t>(train_set.size()));
        }
        double loss_sum = 0;
        int64_t correct = 0, seen = 0;
        double lr = opts.lr;
        for (size_t i = 0; i < source.size(); ++i) {
            batch b = source.get(i);
            lr = lr_at(opts, epoch * steps_per_epoch + static_cast<int64_t>(i), total_steps);
            for (auto & g : opt->param_groups()) {
                g.options().set_lr(lr);
            }
            if (group) {
                const int64_t n = b.y.size(0);
                if (n < group->size()) {
                    continue;  // a last batch smaller than the rank count: skipped alike by every rank
                }
                // This rank's rows of the global batch (every rank made the same batch).
                const auto share = batch_share(n, group->rank(), group->size());
                const int64_t rows = share.second - share.first;
                const torch::Tensor y_all = b.y.to(device), t_all = b.t.defined() ? b.t.to(device) : torch::Tensor();
                const torch::Tensor x = b.x.narrow(0, share.first, rows).to(device);
                opt->zero_grad();
                torch::Tensor logits = data_parallel_forward(net, x, {n, share.first}, *group);
                // This rank's part of the global batch's loss: each mean term scaled by
                // the share of its normaliser (faces, or their class weights) in these rows.
                auto objective = [&](const torch::Tensor & targets_all, const torch::Tensor & labels_all) {
                    const torch::Tensor labels = labels_all.narrow(0, share.first, rows);
                    auto weight_of = [&](const torch::Tensor & l) {
                        return weights.defined() ? weights.index_select(0, l.cpu()).sum().item<double>()
                                                 : static_cast<double>(l.size(0));
                    };
                    torch::Tensor hard = torch::nn::functional::cross_entropy(logits, labels, loss_opts) *
                                         (weight_of(labels) / weight_of(labels_all));
                    if (!targets_all.defined() || opts.distill_alpha <= 0) {
                        return hard;
                    }
                    // --distill-weighted: each face's soft term weighted by its class, the share by weights too
                    const bool weighted = soft_weights.defined();
                    const torch::Tensor soft =
                        distillation_loss(logits, targets_all.narrow(0, share.first, rows), opts.distill_temperature,
                                          weighted ? soft_weights.index_select(0, labels) : torch::Tensor());
                    const double soft_share = weighted ? weight_of(labels) / weight_of(labels_all)
                                                       : static_cast<double>(rows) / static_cast<double>(n);
                    return opts.distill_alpha * soft * soft_share + (1 - opts.distill_alpha) * hard;
                };
                torch::Tensor loss = objective(t_all, y_all);
                if (b.mix.active) {
                    const torch::Tensor partner = torch::tensor(b.mix.partner, torch::kLong).to(device);
                    loss = b.mix.lambda * loss +
                           (1 - b.mix.lambda) * objective(t_all.defined() ? t_all.index_select(0, partner) : t_all,
                                                          y_all.index_select(0, partner));
                }
                loss.backward();
                // Gradients summed over the ranks (each loss is a share of the global
                // mean), with the loss and the correct count riding in the last bucket.
                torch::Tensor counters = torch::tensor(
                    {loss.item<float>(),
                     static_cast<float>(logits.argmax(1).eq(y_all.narrow(0, share.first, rows)).sum().item<int64_t>())});
                allreduce_gradients(net->parameters(), *group, counters);
                opt->step();
                const double l = counters[0].item<double>();
                if (!std::isfinite(l)) {
                    throw runtime_error("training diverged (loss " + std::to_string(l) + ") in epoch " +
                                        std::to_string(epoch + 1) + "; lower --lr");
                }
                loss_sum += l * static_cast<double>(n);
                correct += static_cast<int64_t>(std::llround(counters[1].item<double>()));
                seen += n;
            } else {
                torch::Tensor x = b.x.to(device), y = b.y.to(device);
                opt->zero_grad();
                torch::Tensor logits = net->forward(x);
                torch::Tensor t = b.t.defined() ? b.t.to(device) : torch::Tensor();
                auto objective = [&](const torch::Tensor & targets, const torch::Tensor & labels) {
                    return targets.defined() ? distillation_objective(logits, targets, labels, opts.distill_alpha,
                                                                      opts.distill_temperature, loss_opts, soft_weights)
                                             : torch::nn::functional::cross_entropy(logits, labels, loss_opts);
                };
                torch::Tensor loss = objective(t, y);
                if (b.mix.active) {
                    const torch::Tensor partner = torch::tensor(b.mix.partner, torch::kLong).to(device);
                    loss = b.mix.lambda * loss +
                           (1 - b.mix.lambda) * objective(t.defined() ? t.index_select(0, partner) : t,
                                                          y.index_select(0, partner));
                }
                loss.backward();
                opt->step();
                const int64_t n = y.size(0);
                const double l = loss.item<double>();
                if (!std::isfinite(l)) {
                    throw runtime_error("training diverged (loss " + std::to_string(l) + ") in epoch " +
                                        std::to_string(epoch + 1) + "; lower --lr");
                }
                loss_sum += l * static_cast<double>(n);
                correct += logits.argmax(1).eq(y).sum().item<int64_t>();
                seen += n;
            }
            char extra[96];
            std::snprintf(extra, sizeof extra, "loss %.4f acc %.2f%%", loss_sum / static_cast<double>(seen),
                          100.0 * static_cast<double>(correct) / static_cast<double>(seen));
            if (bar) {
                bar->update(seen, extra);
            }
        }
        const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!leader) {
            // Rank 0 validates, writes the run folder and reports; the others go
            // on and wait for it in the next epoch's first collective.
            state.epochs_done = epoch + 1;
            continue;
        }

        torch::Tensor probs = predict_probabilities(net, val_set, 256, false, false, device);
        metrics m = compute_metrics(val_set.labels, top_classes(probs), 7);
        torch::Tensor yv = torch::tensor(val_set.labels);
        const double val_loss =
            -probs.gather(1, yv.unsqueeze(1)).clamp_min(1e-12).log().mean().item<double>();

        epoch_row row{epoch + 1, lr, loss_sum / static_cast<double>(seen),
                      static_cast<double>(correct) / static_cast<double>(seen), val_loss, m.accuracy, m.macro_f1,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                      static_cast<double>(seen) / train_seconds};
        double run_seconds = row.seconds;
        for (const auto & r : rows) {
            run_seconds += r.seconds;
        }
        const double per_epoch = run_seconds / static_cast<double>(rows.size() + 1);
        char extra[200];
        std::snprintf(extra, sizeof extra, "loss %.4f acc %.2f%% | val loss %.4f acc %.2f%% F1 %.4f | run ETA %s",
                      row.train_loss, 100 * row.train_acc, val_loss, 100 * m.accuracy, m.macro_f1,
                      format_duration(per_epoch * static_cast<double>(opts.epochs - epoch - 1)).c_str());
        bar->finish(extra);

        state.epochs_done = epoch + 1;
        if (m.accuracy > state.best_accuracy) {
            state.best_accuracy = m.accuracy;
            state.best_epoch = epoch + 1;
            net->to(torch::kCPU);
            save_model(best_path, net);
            net->to(device);
        }
        rows.push_back(row);
        write_file_atomic(csv_path, rows_csv(rows));
        net->to(torch::kCPU);
        save_checkpoint(last_path, net, *opt, state);
        net->to(device);
        result.final_train_accuracy = row.train_acc;
    }
    result.best_accuracy = state.best_accuracy;
    result.best_epoch = state.best_epoch;
    result.epochs_done = state.epochs_done;
    if (!rows.empty()) {
        result.final_train_accuracy = rows.back().train_acc;
    }
    double total_s = 0;
    for (const auto & r : rows) {
        total_s += r.seconds;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "best epoch %lld: validation accuracy %.2f%%; %lld epochs in %s; model %s",
                  static_cast<long long>(state.best_epoch), 100 * state.best_accuracy,
                  static_cast<long long>(state.epochs_done), format_duration(total_s).c_str(), best_path.c_str());
    log_info(buf);
    return result;
}

}  // namespace fer
