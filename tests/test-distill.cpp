// Distillation: the loss against hand-computed values, teacher files (round
// trip, rejection of files that do not match the data), and a training run
// that follows its teacher.

#include "augment.h"
#include "checkpoint.h"
#include "dataset.h"
#include "distill.h"
#include "error.h"
#include "holdout.h"
#include "infer.h"
#include "log.h"
#include "models.h"
#include "teacher-file.h"
#include "test-util.h"
#include "trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using fer_test::expect_error;

torch::Tensor row(std::vector<float> v) { return torch::tensor(v).reshape({1, -1}); }

// ---- the loss ------------------------------------------------------------------
// Reference values computed by hand (and checked with a few lines of Python):
// teacher p = (1/2, 1/4, 1/4), student logits 0 (q = 1/3 each):
//   T = 1: KL = 1/2 ln(3/2) + 1/2 ln(3/4)                                  = 0.0588915178
//   T = 2: p_T = (sqrt(1/2), 1/2, 1/2) / (sqrt(1/2) + 1) = (0.41421, 0.29289, 0.29289)
//          T^2 KL = 4 * sum p_T ln(3 p_T)                                    = 0.0568823713
//          d/dlogits = T (q_T - p_T) = 2 * (1/3 - p_T) = (-0.16176046, 0.08088023, 0.08088023)

TEST(DistillLoss, HandComputedValues) {
    const torch::Tensor p = row({0.5f, 0.25f, 0.25f});
    const torch::Tensor zero = torch::zeros({1, 3});
    EXPECT_NEAR(fer::distillation_loss(zero, p, 1.0).item<double>(), 0.0588915178, 1e-6);
    EXPECT_NEAR(fer::distillation_loss(zero, p, 2.0).item<double>(), 0.0568823713, 1e-6);

    torch::Tensor logits = torch::zeros({1, 3}, torch::requires_grad());
    fer::distillation_loss(logits, p, 2.0).backward();
    const torch::Tensor g = logits.grad();
    EXPECT_NEAR(g[0][0].item<double>(), -0.16176046, 1e-6);
    EXPECT_NEAR(g[0][1].item<double>(), 0.08088023, 1e-6);
    EXPECT_NEAR(g[0][2].item<double>(), 0.08088023, 1e-6);
}

TEST(DistillLoss, SoftenedTeacher) {
    const torch::Tensor s = fer::soften(row({0.5f, 0.25f, 0.25f}), 2.0);
    EXPECT_NEAR(s[0][0].item<double>(), 0.41421356, 1e-6);
    EXPECT_NEAR(s[0][1].item<double>(), 0.29289322, 1e-6);
    // T = 1 leaves the probabilities as they are; a ruled-out class stays at 0.
    const torch::Tensor same = fer::soften(row({0.7f, 0.2f, 0.1f, 0.0f}), 1.0);
    EXPECT_NEAR(same[0][0].item<double>(), 0.7, 1e-6);
    EXPECT_EQ(fer::soften(row({0.9f, 0.1f, 0.0f}), 5.0)[0][2].item<double>(), 0.0);
}

TEST(DistillLoss, ZeroWhenTheStudentAgreesAtEveryTemperature) {
    // logits (ln 2, 0, 0) give q = (1/2, 1/4, 1/4) = p at T = 1, and p_T = q_T at any T.
    const torch::Tensor logits = row({static_cast<float>(std::log(2.0)), 0.0f, 0.0f});
    for (double t : {1.0, 2.0, 4.0, 10.0}) {
        // float32 rounding (~1e-7) scaled by T^2
        EXPECT_NEAR(fer::distillation_loss(logits, row({0.5f, 0.25f, 0.25f}), t).item<double>(), 0.0, 1e-6 * t * t) << t;
    }
}

TEST(DistillLoss, BatchMeanWithAOneHotTeacher) {
    // T = 3. Row 1: p = (1/2, 1/4, 1/4), logits 0: 9 * KL = 0.0558634410.
    // Row 2: p = (1, 0, 0), logits (1, 2, 3): 9 * -ln softmax((1,2,3)/3)_0 = 13.2178061352.
    const torch::Tensor p = torch::tensor({0.5f, 0.25f, 0.25f, 1.0f, 0.0f, 0.0f}).reshape({2, 3});
    const torch::Tensor logits = torch::tensor({0.0f, 0.0f, 0.0f, 1.0f, 2.0f, 3.0f}).reshape({2, 3});
    EXPECT_NEAR(fer::distillation_loss(logits, p, 3.0).item<double>(), (0.0558634410 + 13.2178061352) / 2, 1e-5);
}

TEST(DistillLoss, FaceWeightsGiveTheWeightedMean) {
    // The two rows above with weights 1 and 3: (0.0558634410 + 3 * 13.2178061352) / 4.
    const torch::Tensor p = torch::tensor({0.5f, 0.25f, 0.25f, 1.0f, 0.0f, 0.0f}).reshape({2, 3});
    const torch::Tensor logits = torch::tensor({0.0f, 0.0f, 0.0f, 1.0f, 2.0f, 3.0f}).reshape({2, 3});
    EXPECT_NEAR(fer::distillation_loss(logits, p, 3.0, torch::tensor({1.0f, 3.0f})).item<double>(),
                (0.0558634410 + 3 * 13.2178061352) / 4, 1e-5);
    // equal weights are the plain mean
    EXPECT_NEAR(fer::distillation_loss(logits, p, 3.0, torch::tensor({2.0f, 2.0f})).item<double>(),
                (0.0558634410 + 13.2178061352) / 2, 1e-5);
    // through the objective, class weights by label: labels (2, 0), class weights (3, 5, 1) -> faces 1 and 3
    auto ce = torch::nn::functional::CrossEntropyFuncOptions();
    const torch::Tensor y = torch::tensor({2, 0}, torch::kLong);
    EXPECT_NEAR(fer::distillation_objective(logits, p, y, 1.0, 3.0, ce, torch::tensor({3.0f, 5.0f, 1.0f}))
                    .item<double>(),
                (0.0558634410 + 3 * 13.2178061352) / 4, 1e-5);
}

TEST(DistillLoss, ObjectiveMixesSoftAndHardTerms) {
    // alpha 0.7, T 2, logits 0, label 0: 0.7 * 0.0568823713 + 0.3 * ln 3 = 0.3694013465.
    const torch::Tensor p = row({0.5f, 0.25f, 0.25f});
    const torch::Tensor y = torch::zeros({1}, torch::kLong);
    auto ce = torch::nn::functional::CrossEntropyFuncOptions();
    EXPECT_NEAR(fer::distillation_objective(torch::zeros({1, 3}), p, y, 0.7, 2.0, ce).item<double>(), 0.3694013465,
                1e-6);
    // alpha 0 is the plain cross-entropy; alpha 1 the soft term alone.
    EXPECT_NEAR(fer::distillation_objective(torch::zeros({1, 3}), p, y, 0.0, 2.0, ce).item<double>(), std::log(3.0),
                1e-6);
    EXPECT_NEAR(fer::distillation_objective(torch::zeros({1, 3}), p, y, 1.0, 2.0, ce).item<double>(), 0.0568823713,
                1e-6);
}

TEST(Augment, ReportsWhetherItMirrored) {
    fer::augment_options plain;
    plain.shift_px = plain.rotate_deg = plain.scale = plain.brightness = plain.contrast = plain.erase_prob = 0;
    std::vector<uint8_t> face(fer::k_image_pixels);
    for (size_t i = 0; i < face.size(); ++i) face[i] = static_cast<uint8_t>((i * 7 + i / 48) % 256);
    std::vector<float> as_is(face.size()), mirrored(face.size()), out(face.size());
    fer::normalise_face(face.data(), as_is.data());
    fer::flip_face(as_is.data(), mirrored.data());
    std::mt19937_64 rng(5);
    int flips = 0;
    for (int k = 0; k < 40; ++k) {
        const bool flipped = fer::augment_face(face.data(), out.data(), rng, plain);
        flips += flipped;
        const std::vector<float> & want = flipped ? mirrored : as_is;
        for (size_t i = 0; i < out.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-4) << "draw " << k << " pixel " << i;
    }
    EXPECT_GT(flips, 5);
    EXPECT_LT(flips, 35);
}

// ---- teacher files ---------------------------------------------------------------

class temp_dir : public fer_test::temp_dir {
public:
    temp_dir() : fer_test::temp_dir("fer-test-distill") {}
};

fer::dataset faces(int n, const std::string & folder = "/d") {
    fer::dataset d;
    for (int i = 0; i < n; ++i) {
        std::vector<uint8_t> px(fer::k_image_pixels, static_cast<uint8_t>(i));
        d.append(px.data(), i % 7, folder + "/Training_" + std::to_string(i) + ".jpg");
    }
    return d;
}

// Face i, view v: probability 0.4 on class (i + v) % 7, 0.1 elsewhere.
std::vector<float> probs_for(const fer::dataset & d) {
    std::vector<float> p(d.size() * fer::k_soft_width, 0.1f);
    for (size_t i = 0; i < d.size(); ++i)
        for (int v = 0; v < 2; ++v) p[i * fer::k_soft_width + v * 7 + (i + v) % 7] = 0.4f;
    return p;
}

std::string read_all(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write_all(const std::string & path, const std::string & bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(TeacherFile, RoundTripAndHeader) {
    temp_dir tmp;
    const fer::dataset d = faces(20);
    fer::write_teacher_file(tmp / "t.teacher", d, probs_for(d), "data [Training]", "m.pt");
    EXPECT_EQ(fer::read_teacher_file(tmp / "t.teacher", d), probs_for(d));
    // The same faces from another folder: the fingerprint ignores folders.
    EXPECT_EQ(fer::read_teacher_file(tmp / "t.teacher", faces(20, "/elsewhere")), probs_for(d));
    const std::string bytes = read_all(tmp / "t.teacher");
    EXPECT_EQ(bytes.rfind("fer-teacher 1\ncount 20\nclasses angry,disgust,fear,happy,sad,surprise,neutral\n", 0), 0u);
    EXPECT_EQ(bytes.size(), bytes.find("end\n") + 4 + 20 * 14 * sizeof(float));
}

TEST(TeacherFile, MeanOfSeveral) {
    temp_dir tmp;
    const fer::dataset d = faces(10);
    std::vector<float> a = probs_for(d), b(a.size(), 1.0f / 7);
    fer::write_teacher_file(tmp / "a", d, a, "s", "a");
    fer::write_teacher_file(tmp / "b", d, b, "s", "b");
    const std::vector<float> m = fer::read_teachers(tmp / "a" + "," + tmp / "b", d);
    ASSERT_EQ(m.size(), a.size());
    for (size_t i = 0; i < m.size(); ++i) EXPECT_NEAR(m[i], (a[i] + b[i]) / 2, 1e-7);
}

TEST(TeacherFile, RejectedWhenCountDiffers) {
    temp_dir tmp;
    const fer::dataset d = faces(20);
    fer::write_teacher_file(tmp / "t", d, probs_for(d), "s", "m");
    expect_error([&] { fer::read_teacher_file(tmp / "t", faces(19)); }, fer::error_kind::input,
                 std::vector<std::string>{tmp / "t", "'count'", "20", "19"});
}

TEST(TeacherFile, RejectedWhenClassOrderDiffers) {
    temp_dir tmp;
    const fer::dataset d = faces(20);
    fer::write_teacher_file(tmp / "t", d, probs_for(d), "s", "m");
    std::string bytes = read_all(tmp / "t");
    const std::string order = fer::class_order();
    bytes.replace(bytes.find(order), order.size(), "angry,disgust,fear,happy,sad,neutral,surprise");
    write_all(tmp / "t2", bytes);
    expect_error([&] { fer::read_teacher_file(tmp / "t2", d); }, fer::error_kind::input,
                 std::vector<std::string>{tmp / "t2", "'classes'", "neutral,surprise"});
}

TEST(TeacherFile, RejectedWhenMadeOnOtherData) {
    temp_dir tmp;
    const fer::dataset d = faces(20);
    fer::write_teacher_file(tmp / "t", d, probs_for(d), "s", "m");
    fer::dataset relabelled = d;
    relabelled.labels[4] = 0;
    expect_error([&] { fer::read_teacher_file(tmp / "t", relabelled); }, fer::error_kind::input,
                 std::vector<std::string>{tmp / "t", "'fingerprint'"});
    fer::dataset reordered = fer::subset(d, {1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
    expect_error([&] { fer::read_teacher_file(tmp / "t", reordered); }, fer::error_kind::input, "'fingerprint'");
}

TEST(TeacherFile, RejectedWhenTruncatedLongGarbledOrNotProbabilities) {
    temp_dir tmp;
    const fer::dataset d = faces(10);
    fer::write_teacher_file(tmp / "t", d, probs_for(d), "s", "m");
    const std::string good = read_all(tmp / "t");
    write_all(tmp / "short", good.substr(0, good.size() - 3));
    expect_error([&] { fer::read_teacher_file(tmp / "short", d); }, fer::error_kind::input, "bytes");
    write_all(tmp / "long", good + "x");
    expect_error([&] { fer::read_teacher_file(tmp / "long", d); }, fer::error_kind::input, "more");
    write_all(tmp / "garbage", "PK\x03\x04 not a teacher file");
    expect_error([&] { fer::read_teacher_file(tmp / "garbage", d); }, fer::error_kind::input, "not a teacher file");
    expect_error([&] { fer::read_teacher_file(tmp / "missing", d); }, fer::error_kind::input, "missing");
    std::vector<float> p = probs_for(d);
    p[3 * 14 + 7 + 2] = -0.5f;  // face 3, mirrored view
    fer::write_teacher_file(tmp / "neg", d, p, "s", "m");
    expect_error([&] { fer::read_teacher_file(tmp / "neg", d); }, fer::error_kind::input,
                 std::vector<std::string>{"face 3", "Training_3.jpg", "mirrored"});
    p = probs_for(d);
    p[5 * 14] = NAN;
    fer::write_teacher_file(tmp / "nan", d, p, "s", "m");
    expect_error([&] { fer::read_teacher_file(tmp / "nan", d); }, fer::error_kind::input, "face 5");
}

// ---- a student follows its teacher ------------------------------------------------

// A CSV of textured synthetic faces (7 learnable classes), Training and PublicTest.
void write_csv(const std::string & path, int per_class, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(-20, 20), phase_d(0, 5);
    std::ofstream out(path);
    out << "emotion,pixels,Usage\n";
    for (int k = 0; k < per_class; ++k) {
        for (int c = 0; c < 7; ++c) {
            for (const char * usage : {"Training", "PublicTest"}) {
                const int phase = phase_d(rng);
                out << c << ",";
                for (int i = 0; i < 48 * 48; ++i) {
                    const int x = i % 48, y = i / 48;
                    const int period = 2 + c;  // stripes of a class-specific period
                    const bool on = ((c % 2 ? x : y) + phase) % (2 * period) < period;
                    out << (i ? " " : "") << std::clamp((on ? 190 : 60) + noise(rng), 0, 255);
                }
                out << "," << usage << "\n";
            }
        }
    }
}

TEST(Distill, StudentLearnsWhatTheTeacherSaysNotTheLabels) {
    fer::log_set_quiet(true);
    temp_dir tmp;
    const std::string csv = tmp / "s.csv";
    write_csv(csv, 8, 4);
    const fer::dataset train = fer::load_csv(csv, "Training");
    // A teacher that disagrees with every label: it says class (label + 1) % 7, in both views.
    std::vector<float> p(train.size() * fer::k_soft_width, 0.0f);
    for (size_t i = 0; i < train.size(); ++i)
        for (int v = 0; v < 2; ++v) p[i * fer::k_soft_width + v * 7 + (train.labels[i] + 1) % 7] = 1.0f;
    fer::write_teacher_file(tmp / "t.teacher", train, p, csv, "shifted");

    fer::train_options o;
    o.data = csv;
    o.out_dir = tmp / "run";
    o.val_split = "PublicTest";
    o.threads = 1;
    o.epochs = 25;
    o.batch = 14;
    o.optimizer = "adamw";
    o.lr = 2e-3;
    o.augment = false;
    o.class_weights = "none";
    o.teacher = tmp / "t.teacher";
    o.distill_alpha = 1.0;  // the labels play no part
    o.distill_temperature = 1.0;
    fer::train(o, false);
    const std::string config = read_all(tmp / "run/config.txt");
    EXPECT_NE(config.find("teacher=" + (tmp / "t.teacher")), std::string::npos) << config;
    EXPECT_NE(config.find("distill_alpha=1\n"), std::string::npos) << config;

    fer::Net net = fer::load_model(tmp / "run/last.pt");
    const fer::dataset val = fer::load_csv(csv, "PublicTest");
    const std::vector<int64_t> top = fer::top_classes(fer::predict_probabilities(net, val));
    int shifted = 0;
    for (size_t i = 0; i < val.size(); ++i) shifted += top[i] == (val.labels[i] + 1) % 7;
    EXPECT_GE(shifted, static_cast<int>(val.size()) * 8 / 10) << shifted << " of " << val.size();

    // A teacher file of other data is refused before anything is written.
    const std::string other = tmp / "o.csv";
    write_csv(other, 7, 4);
    o.data = other;
    o.out_dir = tmp / "run2";
    expect_error([&] { fer::train(o, false); }, fer::error_kind::input, std::vector<std::string>{"t.teacher", "'count'"});
    EXPECT_FALSE(std::filesystem::exists(tmp / "run2/config.txt"));
}

// Largest absolute difference between the parameters of two model files.
double weight_difference(const std::string & a, const std::string & b) {
    fer::Net na = fer::load_model(a), nb = fer::load_model(b);
    auto pa = na->named_parameters(), pb = nb->named_parameters();
    double d = 0;
    for (const auto & p : pa) d = std::max(d, (p.value() - pb[p.key()]).abs().max().item<double>());
    return d;
}

TEST(Distill, ResumeWithTeacherAndCutMixEqualsAStraightRun) {
    fer::log_set_quiet(true);
    temp_dir tmp;
    const std::string csv = tmp / "r.csv";
    write_csv(csv, 4, 9);
    const fer::dataset train = fer::load_csv(csv, "Training");
    std::vector<float> p(train.size() * fer::k_soft_width);
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.05f, 1.0f);
    for (size_t i = 0; i < p.size(); i += 7) {
        float sum = 0;
        for (size_t c = 0; c < 7; ++c) sum += (p[i + c] = u(rng));
        for (size_t c = 0; c < 7; ++c) p[i + c] /= sum;
    }
    fer::write_teacher_file(tmp / "t.teacher", train, p, csv, "random");
    // Constant schedule: 2 + 2 epochs equal 4 epochs (see test-trainer's resume test).
    fer::train_options o;
    o.data = csv;
    o.threads = 1;
    o.batch = 8;
    o.schedule = "constant";
    o.lr = 0.01;
    o.teacher = tmp / "t.teacher";
    o.mix = "cutmix";
    o.mix_prob = 1.0;
    o.epochs = 4;
    o.out_dir = tmp / "A";
    const fer::train_result ra = fer::train(o, false);
    o.out_dir = tmp / "B";
    o.epochs = 2;
    fer::train(o, false);
    o.epochs = 4;
    const fer::train_result rb = fer::train(o, true);
    EXPECT_EQ(rb.epochs_done, 4);
    EXPECT_EQ(rb.final_train_accuracy, ra.final_train_accuracy);
    EXPECT_LT(weight_difference(tmp / "A/last.pt", tmp / "B/last.pt"), 1e-6);
    // Control: without the teacher the weights differ, so the teacher did act.
    o.teacher.clear();
    o.out_dir = tmp / "C";
    fer::train(o, false);
    EXPECT_GT(weight_difference(tmp / "A/last.pt", tmp / "C/last.pt"), 1e-4);
}

}  // namespace
