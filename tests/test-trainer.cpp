// The trainer end to end on tiny synthetic data: a run that must overfit, an
// interrupted-and-resumed run that must equal a straight one bit for bit, and
// bad input (options, data, output folders) that must fail cleanly.

#include "test-util.h"
#include "checkpoint.h"
#include "dataset.h"
#include "error.h"
#include "holdout.h"
#include "infer.h"
#include "log.h"
#include "models.h"
#include "trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

class temp_dir : public fer_test::temp_dir {
public:
    temp_dir() : fer_test::temp_dir("fer-test-trainer") {}
};

std::string read_bytes(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::set<std::string> list_tree(const fs::path & root) {
    std::set<std::string> out;
    std::error_code ec;
    if (!fs::exists(root, ec)) return out;
    for (const auto & e : fs::recursive_directory_iterator(root)) {
        out.insert(fs::relative(e.path(), root).string());
    }
    return out;
}

// A synthetic face of class c: a texture that survives global average pooling
// (stripes of four orientations, a checkerboard, flat bright, flat dark), with a
// random phase and pixel noise so that no two faces are equal.
std::vector<int> synthetic_face(int c, std::mt19937 & rng) {
    std::uniform_int_distribution<int> phase_d(0, 5), noise_d(-25, 25);
    const int phase = phase_d(rng);
    std::vector<int> px(48 * 48);
    for (int y = 0; y < 48; ++y) {
        for (int x = 0; x < 48; ++x) {
            bool on = false;
            switch (c) {
                case 0: on = ((y + phase) / 3) % 2; break;
                case 1: on = ((x + phase) / 3) % 2; break;
                case 2: on = ((x + y + phase) / 3) % 2; break;
                case 3: on = ((x - y + 48 + phase) / 3) % 2; break;
                case 4: on = ((x / 4) + (y / 4) + phase) % 2; break;
                case 5: on = (y + phase) % 2; break;
                default: on = (x + phase) % 6 < 2 && (y + phase) % 6 < 2; break;
            }
            px[static_cast<size_t>(y * 48 + x)] = std::clamp((on ? 200 : 50) + noise_d(rng), 0, 255);
        }
    }
    return px;
}

// A FER2013-format CSV with `per_class_train` Training and `per_class_val`
// PublicTest faces of every class, rows interleaved.
void write_synthetic_csv(const std::string & path, int per_class_train, int per_class_val, unsigned seed) {
    std::mt19937 rng(seed);
    std::ofstream out(path);
    out << "emotion,pixels,Usage\n";
    auto emit = [&](int c, const char * usage) {
        std::vector<int> px = synthetic_face(c, rng);
        out << c << ",";
        for (size_t i = 0; i < px.size(); ++i) out << (i ? " " : "") << px[i];
        out << "," << usage << "\n";
    };
    for (int k = 0; k < std::max(per_class_train, per_class_val); ++k) {
        for (int c = 0; c < 7; ++c) {
            if (k < per_class_train) emit(c, "Training");
            if (k < per_class_val) emit(c, "PublicTest");
        }
    }
}

fer::train_options tiny_options(const std::string & data, const std::string & out_dir) {
    fer::train_options o;
    o.arch = "fernet";
    o.data = data;
    o.out_dir = out_dir;
    // One libtorch thread: with two, every operation ends on a barrier, and on
    // a loaded machine (tests beside a training job) a descheduled thread makes
    // the whole run 10x slower. Determinism does not depend on it either way.
    o.threads = 1;
    o.workers = 1;
    o.seed = 3;
    // The mechanics tests validate on the CSV's PublicTest rows (the default,
    // a holdout of Training, has its own test: HoldoutIsValidatedOnNotTrainedOn).
    o.val_split = "PublicTest";
    return o;
}

using fer_test::expect_error;

// metrics.csv rows without the timing columns (seconds, images_per_s).
std::vector<std::string> metrics_rows_without_timing(const std::string & path) {
    std::ifstream in(path);
    std::string line;
    std::vector<std::string> rows;
    if (!std::getline(in, line)) return rows;
    rows.push_back(line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::istringstream ls(line);
        for (std::string x; std::getline(ls, x, ',');) f.push_back(x);
        if (f.size() < 2) {
            rows.push_back("malformed: " + line);
            continue;
        }
        f.resize(f.size() - 2);
        std::string joined;
        for (size_t i = 0; i < f.size(); ++i) joined += (i ? "," : "") + f[i];
        rows.push_back(joined);
    }
    return rows;
}

void expect_no_temporaries(const fs::path & dir) {
    for (const auto & name : list_tree(dir)) {
        EXPECT_EQ(name.find(".tmp."), std::string::npos) << "leftover temporary " << name;
        EXPECT_EQ(name.find(".write-test"), std::string::npos) << "leftover probe " << name;
    }
}

class Trainer : public testing::Test {
protected:
    static void SetUpTestSuite() { fer::log_set_quiet(true); }
};

// ---- a tiny run overfits ------------------------------------------------------

TEST_F(Trainer, TinyRunOverfits) {
    temp_dir tmp;
    const std::string csv = tmp / "tiny.csv";
    write_synthetic_csv(csv, 6, 2, 11);  // 42 training faces, 14 validation faces
    fer::train_options o = tiny_options(csv, tmp / "run");
    o.augment = false;
    o.label_smoothing = 0;
    o.class_weights = "none";
    o.epochs = 30;
    o.batch = 14;  // 3 steps per epoch
    o.schedule = "onecycle";
    o.optimizer = "adamw";
    o.lr = 1e-3;
    const auto t0 = std::chrono::steady_clock::now();
    fer::train_result r = fer::train(o, false);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    RecordProperty("train_seconds", std::to_string(seconds));

    EXPECT_EQ(r.epochs_done, 30);
    EXPECT_GE(r.final_train_accuracy, 0.95);
    // The textures are learnable, not just memorisable: held-out faces of the
    // same classes are recognised too.
    EXPECT_GE(r.best_accuracy, 0.9);
    EXPECT_GE(r.best_epoch, 1);
    EXPECT_LE(r.best_epoch, 30);

    const fs::path run = tmp.path() / "run";
    for (const char * f : {"last.pt", "best.pt", "metrics.csv", "config.txt"}) {
        EXPECT_TRUE(fs::is_regular_file(run / f)) << f;
    }
    expect_no_temporaries(run);
    std::vector<std::string> rows = metrics_rows_without_timing((run / "metrics.csv").string());
    ASSERT_EQ(rows.size(), 31u);  // header + one row per epoch
    EXPECT_EQ(rows[0].rfind("epoch,lr,train_loss,train_accuracy", 0), 0u) << rows[0];
    EXPECT_EQ(rows[30].rfind("30,", 0), 0u) << rows[30];
    // It learnt: the training loss fell by far.
    auto train_loss = [](const std::string & row) {
        std::istringstream ls(row);
        std::string epoch, lr, loss;
        std::getline(ls, epoch, ',');
        std::getline(ls, lr, ',');
        std::getline(ls, loss, ',');
        return std::stod(loss);
    };
    EXPECT_GT(train_loss(rows[1]), 5 * train_loss(rows[30])) << rows[1] << "\n" << rows[30];

    // best.pt is a model load_model reads back, scoring best_accuracy on the validation faces.
    fer::Net best = fer::load_model((run / "best.pt").string());
    EXPECT_EQ(best->arch, "fernet");
    fer::dataset val = fer::load_csv(csv, "PublicTest");
    torch::Tensor pred = fer::predict_probabilities(best, val).argmax(1);
    int64_t correct = 0;
    for (size_t i = 0; i < val.size(); ++i) {
        correct += pred[static_cast<int64_t>(i)].item<int64_t>() == val.labels[i];
    }
    EXPECT_NEAR(static_cast<double>(correct) / static_cast<double>(val.size()), r.best_accuracy, 1e-9);

    // The options are recorded.
    const std::string config = read_bytes((run / "config.txt").string());
    EXPECT_NE(config.find("epochs=30"), std::string::npos) << config;
    EXPECT_NE(config.find("arch=fernet"), std::string::npos) << config;
}

// ---- resume equals a straight run -----------------------------------------------

// Largest absolute difference over every parameter and buffer of two model files.
double max_weight_difference(const std::string & a_path, const std::string & b_path) {
    fer::Net a = fer::load_model(a_path);
    fer::Net b = fer::load_model(b_path);
    auto pa = a->named_parameters(), pb = b->named_parameters();
    EXPECT_EQ(pa.size(), pb.size());
    double max_diff = 0;
    for (const auto & p : pa) {
        if (!pb.contains(p.key())) {
            ADD_FAILURE() << "missing parameter " << p.key();
            return INFINITY;
        }
        max_diff = std::max(max_diff, (p.value() - pb[p.key()]).abs().max().item<double>());
    }
    auto ba = a->named_buffers(), bb = b->named_buffers();
    for (const auto & p : ba) {
        if (!bb.contains(p.key())) {
            ADD_FAILURE() << "missing buffer " << p.key();
            return INFINITY;
        }
        max_diff = std::max(max_diff,
                            (p.value().to(torch::kDouble) - bb[p.key()].to(torch::kDouble)).abs().max().item<double>());
    }
    return max_diff;
}

void expect_same_weights(const std::string & a_path, const std::string & b_path) {
    EXPECT_LT(max_weight_difference(a_path, b_path), 1e-6) << "weights of " << a_path << " and " << b_path << " differ";
}

TEST_F(Trainer, ResumeEqualsStraightRun) {
    temp_dir tmp;
    const std::string csv = tmp / "resume.csv";
    write_synthetic_csv(csv, 3, 1, 21);  // 21 training faces (batches of 8, 8, 5), 7 validation faces
    // Augmentation, dropout, label smoothing and class weights all on: every
    // random draw must replay exactly. Constant schedule: the learning rate
    // does not depend on the total epoch count, so 2 + 2 epochs = 4 epochs.
    fer::train_options o = tiny_options(csv, tmp / "A");
    o.epochs = 4;
    o.batch = 8;
    o.schedule = "constant";
    o.lr = 0.01;
    o.augment = true;

    fer::train_result ra = fer::train(o, false);
    ASSERT_EQ(ra.epochs_done, 4);

    fer::train_options ob = o;
    ob.out_dir = tmp / "B";
    ob.epochs = 2;
    fer::train_result rb1 = fer::train(ob, false);
    ASSERT_EQ(rb1.epochs_done, 2);
    // Resume with a larger epoch count (trainer.h: opts.epochs > 0 sets the
    // run's new total), and another number of batch workers, which must not
    // change any batch.
    ob.epochs = 4;
    ob.workers = 2;
    fer::train_result rb = fer::train(ob, true);
    EXPECT_EQ(rb.epochs_done, 4);
    EXPECT_EQ(rb.best_epoch, ra.best_epoch);
    EXPECT_EQ(rb.best_accuracy, ra.best_accuracy);
    EXPECT_EQ(rb.final_train_accuracy, ra.final_train_accuracy);

    expect_same_weights(tmp / "A/last.pt", tmp / "B/last.pt");
    expect_same_weights(tmp / "A/best.pt", tmp / "B/best.pt");
    EXPECT_EQ(metrics_rows_without_timing(tmp / "A/metrics.csv"), metrics_rows_without_timing(tmp / "B/metrics.csv"));
    EXPECT_EQ(metrics_rows_without_timing(tmp / "B/metrics.csv").size(), 5u);
    expect_no_temporaries(tmp.path() / "B");

    // Resuming a finished run trains nothing and changes nothing.
    const std::string last_before = read_bytes(tmp / "B/last.pt");
    const std::string csv_before = read_bytes(tmp / "B/metrics.csv");
    fer::train_result again = fer::train(ob, true);
    EXPECT_EQ(again.epochs_done, 4);
    EXPECT_EQ(read_bytes(tmp / "B/last.pt"), last_before);
    EXPECT_EQ(read_bytes(tmp / "B/metrics.csv"), csv_before);
    // trainer.h: epochs 0 on resume keeps the stored epoch count.
    ob.epochs = 0;
    again = fer::train(ob, true);
    EXPECT_EQ(again.epochs_done, 4);
    EXPECT_EQ(read_bytes(tmp / "B/last.pt"), last_before);
}

// Two straight runs with the same options are identical (the premise of the
// resume test, checked on its own so a failure says which part broke).
TEST_F(Trainer, SameSeedSameWeights) {
    temp_dir tmp;
    const std::string csv = tmp / "det.csv";
    write_synthetic_csv(csv, 2, 1, 5);
    fer::train_options o = tiny_options(csv, tmp / "A");
    o.epochs = 2;
    o.batch = 8;
    fer::train(o, false);
    o.out_dir = tmp / "B";
    fer::train(o, false);
    expect_same_weights(tmp / "A/last.pt", tmp / "B/last.pt");
    EXPECT_EQ(metrics_rows_without_timing(tmp / "A/metrics.csv"), metrics_rows_without_timing(tmp / "B/metrics.csv"));
    // Control: the comparison does see a different run.
    o.out_dir = tmp / "C";
    o.seed += 1;
    fer::train(o, false);
    EXPECT_GT(max_weight_difference(tmp / "A/last.pt", tmp / "C/last.pt"), 1e-4);
}

// ---- the holdout ------------------------------------------------------------------

TEST_F(Trainer, HoldoutIsValidatedOnNotTrainedOn) {
    temp_dir tmp;
    const std::string csv = tmp / "h.csv";
    write_synthetic_csv(csv, 10, 1, 21);  // 70 Training faces, 7 PublicTest faces
    fer::train_options o = tiny_options(csv, tmp / "run");
    o.val_split = "holdout";
    o.epochs = 2;
    o.batch = 16;
    const fer::train_result r = fer::train(o, false);
    // round(10% of 10) = 1 face per class validated on, the other 63 trained on.
    EXPECT_EQ(r.val_faces, 7u);
    EXPECT_EQ(r.train_faces, 63u);
    const std::string config = read_bytes(tmp / "run/config.txt");
    EXPECT_NE(config.find("val_split=holdout\n"), std::string::npos) << config;
    EXPECT_NE(config.find("holdout=0.1"), std::string::npos) << config;
    EXPECT_NE(config.find("holdout_seed=2013\n"), std::string::npos) << config;
    // best_accuracy is the accuracy of best.pt on exactly the holdout faces of holdout_split.
    fer::dataset training = fer::load_csv(csv, "Training");
    fer::dataset held = fer::subset(training, fer::holdout_split(training).holdout);
    ASSERT_EQ(held.size(), 7u);
    fer::Net best = fer::load_model(tmp / "run/best.pt");
    torch::Tensor pred = fer::predict_probabilities(best, held).argmax(1);
    int64_t correct = 0;
    for (size_t i = 0; i < held.size(); ++i) correct += pred[static_cast<int64_t>(i)].item<int64_t>() == held.labels[i];
    EXPECT_NEAR(static_cast<double>(correct) / 7.0, r.best_accuracy, 1e-9);
    // Resuming reads the holdout back from config.txt and validates on the same faces.
    o.epochs = 3;
    const fer::train_result r2 = fer::train(o, true);
    EXPECT_EQ(r2.val_faces, 7u);
    EXPECT_EQ(r2.train_faces, 63u);
    EXPECT_EQ(r2.epochs_done, 3);
}

TEST_F(Trainer, HoldoutTakesNoValidationData) {
    temp_dir tmp;
    fer::train_options o = tiny_options(tmp / "a.csv", tmp / "run");
    o.val_split = "holdout";
    o.val_data = tmp / "b.csv";
    expect_error([&] { o.validate(); }, fer::error_kind::usage, "holdout");
    o.val_data.clear();
    o.holdout = 1.0;
    expect_error([&] { o.validate(); }, fer::error_kind::usage, "--holdout");
}

// ---- bad input --------------------------------------------------------------------

class TrainerBadInput : public Trainer {
protected:
    void SetUp() override {
        csv_ = tmp_ / "data.csv";
        write_synthetic_csv(csv_, 1, 1, 1);
    }
    temp_dir tmp_;
    std::string csv_;
};

TEST_F(TrainerBadInput, ZeroEpochsIsUsageErrorAndWritesNothing) {
    fer::train_options o = tiny_options(csv_, tmp_ / "run");
    o.epochs = 0;
    expect_error([&] { fer::train(o, false); }, fer::error_kind::usage, "epochs");
    EXPECT_FALSE(fs::exists(tmp_ / "run"));
}

TEST_F(TrainerBadInput, InvalidOptionsAreUsageErrors) {
    const std::vector<std::pair<std::string, std::function<void(fer::train_options &)>>> cases = {
        {"arch", [](fer::train_options & o) { o.arch = "nope"; }},
        {"epochs", [](fer::train_options & o) { o.epochs = -3; }},
        {"batch", [](fer::train_options & o) { o.batch = 0; }},
        {"lr", [](fer::train_options & o) { o.lr = 0; }},
        {"optimizer", [](fer::train_options & o) { o.optimizer = "rmsprop"; }},
        {"schedule", [](fer::train_options & o) { o.schedule = "step"; }},
        {"class-weights", [](fer::train_options & o) { o.class_weights = "balanced"; }},
        {"label-smoothing", [](fer::train_options & o) { o.label_smoothing = 1.0; }},
        {"threads", [](fer::train_options & o) { o.threads = 0; }},
        {"workers", [](fer::train_options & o) { o.workers = 0; }},
        {"device", [](fer::train_options & o) { o.device = "tpu"; }},
        {"train on PublicTest", [](fer::train_options & o) { o.train_split = "PublicTest"; o.val_split = "PrivateTest"; }},
        {"same splits", [](fer::train_options & o) { o.val_split = "Training"; }},
        {"data", [](fer::train_options & o) { o.data = ""; }},
    };
    for (const auto & [name, mutate] : cases) {
        SCOPED_TRACE(name);
        fer::train_options o = tiny_options(csv_, tmp_ / "run");
        o.epochs = 1;
        mutate(o);
        expect_error([&] { fer::train(o, false); }, fer::error_kind::usage, "");
        EXPECT_FALSE(fs::exists(tmp_ / "run")) << "an invalid run must not create its folder";
    }
}

TEST_F(TrainerBadInput, MissingDataFileIsInputError) {
    const std::string missing = tmp_ / "no-such.csv";
    fer::train_options o = tiny_options(missing, tmp_ / "run");
    o.epochs = 1;
    expect_error([&] { fer::train(o, false); }, fer::error_kind::input, missing);
    EXPECT_TRUE(list_tree(tmp_.path() / "run").empty()) << "no files from a run that could not start";
    // Nor a broken validation file.
    o.val_data = tmp_ / "no-val.csv";
    o.data = csv_;
    expect_error([&] { fer::train(o, false); }, fer::error_kind::input, o.val_data);
    EXPECT_FALSE(fs::exists(tmp_ / "run/last.pt"));
}

TEST_F(TrainerBadInput, MalformedDataIsInputError) {
    const std::string bad = tmp_ / "bad.csv";
    std::ofstream(bad) << "emotion,pixels,Usage\n3,1 2 3,Training\n";
    fer::train_options o = tiny_options(bad, tmp_ / "run");
    o.epochs = 1;
    expect_error([&] { fer::train(o, false); }, fer::error_kind::input, bad + ":2");
    EXPECT_FALSE(fs::exists(tmp_ / "run/last.pt"));
}

TEST_F(TrainerBadInput, UnwritableOutputFolderFailsWithoutPartialFiles) {
    // Tests may run as root, for whom permissions do not block writes: use a
    // path whose parent is a regular file instead.
    const std::string blocker = tmp_ / "blocker";
    std::ofstream(blocker) << "a regular file";
    const std::set<std::string> before = list_tree(tmp_.path());
    fer::train_options o = tiny_options(csv_, blocker + "/run");
    o.epochs = 1;
    try {
        fer::train(o, false);
        ADD_FAILURE() << "no exception thrown";
    } catch (const fer::error & e) {
        EXPECT_NE(std::string(e.what()).find(blocker), std::string::npos) << e.what();
    } catch (const std::exception & e) {
        ADD_FAILURE() << "expected fer::error, got: " << e.what();
    }
    EXPECT_EQ(list_tree(tmp_.path()), before);
    EXPECT_EQ(read_bytes(blocker), "a regular file");
}

TEST_F(TrainerBadInput, ExistingRunWithoutResumeIsUsageError) {
    fer::train_options o = tiny_options(csv_, tmp_ / "run");
    o.epochs = 1;
    o.batch = 8;
    fer::train(o, false);
    ASSERT_TRUE(fs::is_regular_file(tmp_ / "run/last.pt"));
    const std::string last = read_bytes(tmp_ / "run/last.pt");
    const std::string metrics = read_bytes(tmp_ / "run/metrics.csv");
    const std::string config = read_bytes(tmp_ / "run/config.txt");
    o.epochs = 2;
    expect_error([&] { fer::train(o, false); }, fer::error_kind::usage, tmp_ / "run");
    EXPECT_EQ(read_bytes(tmp_ / "run/last.pt"), last);
    EXPECT_EQ(read_bytes(tmp_ / "run/metrics.csv"), metrics);
    EXPECT_EQ(read_bytes(tmp_ / "run/config.txt"), config);
}

TEST_F(TrainerBadInput, ResumeWithoutOrWithBrokenCheckpointIsInputError) {
    fer::train_options o = tiny_options(csv_, tmp_ / "empty-run");
    o.epochs = 1;
    expect_error([&] { fer::train(o, true); }, fer::error_kind::input, "last.pt");

    fs::create_directories(tmp_.path() / "broken-run");
    std::ofstream(tmp_ / "broken-run/last.pt") << "not a checkpoint";
    o.out_dir = tmp_ / "broken-run";
    expect_error([&] { fer::train(o, true); }, fer::error_kind::input, "last.pt");

    // A model file (no optimizer state, no epoch count) is not a checkpoint either.
    fs::create_directories(tmp_.path() / "model-run");
    fer::Net net = fer::make_net("fernet");
    fer::save_model(tmp_ / "model-run/last.pt", net);
    o.out_dir = tmp_ / "model-run";
    expect_error([&] { fer::train(o, true); }, fer::error_kind::input, "last.pt");
}

// ---- options ----------------------------------------------------------------------

TEST(TrainOptions, ConfigRoundTrip) {
    fer::train_options o;
    o.arch = "seed";
    o.data = "/some/where/fer2013.csv";
    o.val_data = "/else/where";
    o.train_split = "Training";
    o.val_split = "PrivateTest";
    o.epochs = 17;
    o.batch = 33;
    o.optimizer = "adamw";
    o.lr = 0.0123456789;
    o.momentum = 0.85;
    o.weight_decay = 1e-5;
    o.schedule = "cosine";
    o.warmup = 0.3;
    o.label_smoothing = 0.05;
    o.class_weights = "inverse";
    o.augment = false;
    o.seed = 987654321;
    o.limit = 500;
    o.val_limit = 50;
    o.holdout = 0.2;
    o.holdout_seed = 77;
    o.teacher = "/t/a.bin,/t/b.bin";
    o.distill_alpha = 0.25;
    o.distill_temperature = 3.5;
    o.distill_weighted = true;
    o.mix = "cutmix";
    o.mix_alpha = 0.3;
    o.mix_prob = 0.75;
    fer::train_options p = fer::train_options::from_config(o.to_config());
    EXPECT_EQ(p.to_config(), o.to_config());
    EXPECT_EQ(p.arch, "seed");
    EXPECT_EQ(p.val_data, "/else/where");
    EXPECT_EQ(p.val_split, "PrivateTest");
    EXPECT_EQ(p.epochs, 17);
    EXPECT_EQ(p.batch, 33);
    EXPECT_EQ(p.optimizer, "adamw");
    EXPECT_EQ(p.lr, 0.0123456789);
    EXPECT_EQ(p.weight_decay, 1e-5);
    EXPECT_EQ(p.schedule, "cosine");
    EXPECT_EQ(p.class_weights, "inverse");
    EXPECT_FALSE(p.augment);
    EXPECT_EQ(p.seed, 987654321);
    EXPECT_EQ(p.limit, 500);
    EXPECT_EQ(p.val_limit, 50);
    EXPECT_EQ(p.holdout, 0.2);
    EXPECT_EQ(p.holdout_seed, 77);
    EXPECT_EQ(p.teacher, "/t/a.bin,/t/b.bin");
    EXPECT_EQ(p.distill_alpha, 0.25);
    EXPECT_EQ(p.distill_temperature, 3.5);
    EXPECT_TRUE(p.distill_weighted);
    EXPECT_EQ(p.mix, "cutmix");
    EXPECT_EQ(p.mix_alpha, 0.3);
    EXPECT_EQ(p.mix_prob, 0.75);
}

TEST(TrainOptions, BadConfigIsError) {
    for (const std::string text : {"colour=blue\n", "epochs=many\n", "no equals sign\n", "lr=\n"}) {
        SCOPED_TRACE(text);
        EXPECT_THROW(fer::train_options::from_config(text), fer::error);
    }
}

TEST(TrainOptions, DefaultsValidate) {
    fer::train_options o;
    o.data = "x.csv";
    EXPECT_NO_THROW(o.validate());
    EXPECT_EQ(o.val_split, "holdout");  // selection never on PublicTest unless asked
}

TEST(TrainOptions, OldConfigWithoutHoldoutKeysReads) {
    // Runs started before the holdout existed (val_split=PublicTest) still resume.
    fer::train_options p = fer::train_options::from_config("arch=fernet\nval_split=PublicTest\nepochs=3\n");
    EXPECT_EQ(p.val_split, "PublicTest");
    EXPECT_EQ(p.holdout, 0.1);
}

}  // namespace
