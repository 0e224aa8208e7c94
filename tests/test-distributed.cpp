// Data-parallel training (train/distributed.h): the real `fer train` as two
// processes over loopback, joined through the launcher variables (RANK,
// WORLD_SIZE, MASTER_ADDR, MASTER_PORT) as torchrun, srun or a PyTorchJob set
// them. Training steps on a global batch split over 2 ranks give the weights
// the single process gives on the whole batch (float tolerance); killing one
// rank ends the other with a clear message; bad launcher variables are usage
// errors. Needs the FER2013 sample (../shared/data); skips without it.
#include "checkpoint.h"
#include "distributed.h"
#include "test-util.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

namespace fs = std::filesystem;
using fer_test::temp_dir;

namespace {

const std::string k_sample = std::string(FER_SHARED_DATA) + "/fer2013-sample.csv";

TEST(LaunchEnv, ReadsTheLauncherVariables) {
    std::map<std::string, std::string> env;
    auto get = [&](const char * n) -> const char * {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    EXPECT_FALSE(fer::read_launch_env(get).distributed()) << "no WORLD_SIZE: one process";
    env = {{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29500"}};
    const fer::launch_env e = fer::read_launch_env(get);
    EXPECT_TRUE(e.distributed());
    EXPECT_EQ(e.rank, 3);
    EXPECT_EQ(e.world_size, 4);
    EXPECT_EQ(e.local_rank, 1);
    EXPECT_EQ(e.master_addr, "node7");
    EXPECT_EQ(e.master_port, 29500);
    env["RANK"] = "4";
    fer_test::expect_error([&] { fer::read_launch_env(get); }, fer::error_kind::usage, "RANK='4'");
    env["RANK"] = "0";
    env.erase("MASTER_PORT");
    fer_test::expect_error([&] { fer::read_launch_env(get); }, fer::error_kind::usage, "MASTER_PORT");
    env["MASTER_PORT"] = "http";
    fer_test::expect_error([&] { fer::read_launch_env(get); }, fer::error_kind::usage, "MASTER_PORT='http'");
}

TEST(BatchShare, ContiguousNearlyEqualRows) {
    for (int64_t n : {2, 13, 128}) {
        for (int w : {1, 2, 3}) {
            int64_t at = 0;
            for (int r = 0; r < w; ++r) {
                const auto s = fer::batch_share(n, r, w);
                EXPECT_EQ(s.first, at);
                EXPECT_GE(s.second - s.first, n / w);
                EXPECT_LE(s.second - s.first, n / w + 1);
                at = s.second;
            }
            EXPECT_EQ(at, n);
        }
    }
}

#ifdef FER_EXE

// A port nobody listens on now (the kernel's pick for a socket bound to 0).
int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
        ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len) != 0) {
        return 29517;
    }
    ::close(s);
    return ntohs(a.sin_port);
}

pid_t spawn(const std::string & cmd) {
    const pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    return pid;
}

// The exit code (128 + signal), or -1 when it did not end within `limit`.
int wait_for(pid_t pid, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
}

std::string read_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class DistributedTrain : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(k_sample)) {
            GTEST_SKIP() << k_sample << " is absent (the project's shared data)";
        }
    }

    // `ranks` processes of `fer train args --out out`; returns their exit codes.
    std::vector<int> run_ranks(int ranks, const std::string & args, const std::string & out) {
        const std::string port = std::to_string(free_port());
        std::vector<pid_t> pids;
        for (int r = 0; r < ranks; ++r) {
            pids.push_back(spawn("env WORLD_SIZE=" + std::to_string(ranks) + " RANK=" + std::to_string(r) +
                                 " LOCAL_RANK=" + std::to_string(r) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port +
                                 " " + FER_EXE + " train " + args + " --out " + out + " > " + out + "-rank" +
                                 std::to_string(r) + ".log 2>&1"));
        }
        std::vector<int> codes;
        for (pid_t p : pids) {
            codes.push_back(wait_for(p, std::chrono::seconds(240)));
            if (codes.back() < 0) {
                kill(p, SIGKILL);
                waitpid(p, nullptr, 0);
            }
        }
        return codes;
    }

    // How far apart two models' parameters are (L2 over all of them), and the
    // largest difference of their buffers (batch norm running statistics).
    struct model_gap {
        double params = 0, buffers = 0;
    };
    static model_gap gap(const std::string & a_path, const std::string & b_path) {
        fer::Net a = fer::load_model(a_path), b = fer::load_model(b_path);
        model_gap g;
        const auto pb = b->named_parameters();
        for (const auto & p : a->named_parameters()) {
            g.params += (p.value() - pb[p.key()]).pow(2).sum().item<double>();
        }
        g.params = std::sqrt(g.params);
        const auto bb = b->named_buffers();
        for (const auto & p : a->named_buffers()) {
            const double d = (p.value().to(torch::kDouble) - bb[p.key()].to(torch::kDouble)).abs().max().item<double>();
            g.buffers = std::max(g.buffers, d);
        }
        return g;
    }

    // train_loss, train_accuracy, val_loss, val_accuracy of the first epoch in metrics.csv.
    static std::vector<double> epoch_metrics(const std::string & run) {
        const std::string csv = read_file(run + "/metrics.csv");
        std::vector<double> v(9, -1);
        std::sscanf(csv.c_str() + csv.find('\n') + 1, "%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
        return {v[2], v[3], v[4], v[5]};
    }

    std::string train_single(const std::string & args, const std::string & name, const std::string & env = "") {
        const std::string out = dir_ / name;
        const auto r = fer_test::run_command(env + " " + FER_EXE + " train " + args + " --out " + out + " 2>&1");
        EXPECT_EQ(r.code, 0) << r.out;
        return out;
    }

    std::string initial_model() {
        const std::string init = dir_ / "init.pt";
        torch::manual_seed(1);  // what fer train --seed 1 does before building the network
        fer::Net net = fer::make_net("fernet");
        fer::save_model(init, net);
        return init;
    }

    // `tolerance`: of the step's size (L2 over all parameters).
    void expect_same_training(const std::string & args, double tolerance) {
        const std::string single = train_single(args, "single"), dist = dir_ / "dist";
        const std::vector<int> codes = run_ranks(2, args, dist);
        ASSERT_EQ(codes, (std::vector<int>{0, 0})) << read_file(dist + "-rank0.log") << read_file(dist + "-rank1.log");
        EXPECT_NE(read_file(dist + "-rank0.log").find("distributed: rank 0 of 2 (gloo"), std::string::npos);
        EXPECT_EQ(read_file(dist + "-rank1.log").find("best epoch"), std::string::npos) << "rank 1 reports nothing";
        EXPECT_FALSE(fs::exists(dist + "/rank1")) << "one run folder";

        // The step moved the weights, and 2 ranks moved them as 1 process did. Not
        // to the bit: the ranks sum batch statistics in another order, and a max
        // pool turns a last-bit difference between near-equal values (flat image
        // regions) into another winner, hence a differently routed gradient in the
        // layers below it (seen: 1e-6 of a step without, 0.35% with such a flip).
        // A real fault -- a gradient not summed, a wrong loss share or batch
        // statistic -- is tens of percent.
        const double moved = gap(initial_model(), single + "/best.pt").params;
        const model_gap apart = gap(single + "/best.pt", dist + "/best.pt");
        EXPECT_GT(moved, 0.05) << "the training steps changed the network";
        EXPECT_LT(apart.params, tolerance * moved) << "2 ranks and 1 process differ by " << apart.params
                                              << " (L2); the steps moved the weights by " << moved;
        EXPECT_LT(apart.buffers, 1e-3) << "batch norm running statistics";
        // Metrics are the global batch's: rank 0 reports what the single run does.
        const std::vector<double> ms = epoch_metrics(single), md = epoch_metrics(dist);
        for (size_t i = 0; i < ms.size(); ++i) {
            EXPECT_NEAR(ms[i], md[i], 2e-3) << "metric " << i;
        }
        std::fprintf(stderr, "2 ranks vs 1 process: parameters %.3g apart (L2) after moving %.3g\n", apart.params, moved);
    }

    temp_dir dir_{"fer-dist"};
};

// The data-parallel code path (batch share, synchronised batch norm, sliced
// dropout, loss share, bucketed gradient sum) on a single rank is plain
// training up to float rounding, over two steps: its formulas are libtorch's.
TEST_F(DistributedTrain, DataParallelPathOnOneRankIsPlainTraining) {
    const std::string args = "--data " + k_sample + " --limit 26 --batch 13 --epochs 1 --val-limit 40 "
                             "--schedule constant --lr 0.05 --threads 1 --workers 1 --seed 3";
    const std::string plain = train_single(args, "plain");
    const std::string one_rank = train_single(args, "one-rank",
                                              "env FER_FORCE_DATA_PARALLEL=1 WORLD_SIZE=1 RANK=0 MASTER_ADDR=127.0.0.1 "
                                              "MASTER_PORT=" + std::to_string(free_port()));
    const model_gap g = gap(plain + "/best.pt", one_rank + "/best.pt");
    const double moved = gap(initial_model(), plain + "/best.pt").params;
    EXPECT_GT(moved, 0.05);
    EXPECT_LT(g.params, 1e-5 * moved) << "float rounding only (the batch statistics are summed in another order)";
    EXPECT_LT(g.buffers, 1e-6);
}

// One step on a global batch of 26 faces (13 per rank), augmentation, dropout,
// class weights and label smoothing on.
TEST_F(DistributedTrain, OneStepOnTwoRanksIsTheStepOnTheWholeBatch) {
    expect_same_training("--data " + k_sample + " --limit 26 --batch 26 --epochs 1 --val-limit 40 --schedule constant "
                         "--lr 0.05 --threads 1 --workers 1 --seed 1", 1e-3);
}

// Uneven shares (6 and 7 of 13): the loss shares must weigh them right.
TEST_F(DistributedTrain, OneStepWithUnevenSharesIsTheStepOnTheWholeBatch) {
    expect_same_training("--data " + k_sample + " --limit 13 --batch 13 --epochs 1 --val-limit 40 --schedule constant "
                         "--lr 0.05 --threads 1 --workers 1 --seed 1", 1e-3);
}

// Mixup pairs faces across the ranks' shares of the batch (a max-pool flip
// shows here: 0.35% of the step, below conv3).
TEST_F(DistributedTrain, OneStepWithMixupIsTheStepOnTheWholeBatch) {
    expect_same_training("--data " + k_sample + " --limit 24 --batch 24 --epochs 1 --val-limit 40 --schedule constant "
                         "--lr 0.05 --mix mixup --mix-prob 1 --threads 1 --workers 1 --seed 1", 2e-2);
}

// Distillation with the class weights on the teachers' term (--distill-weighted):
// each rank's weighted mean of its share, scaled by its share of the weights,
// sums to the whole batch's weighted mean.
TEST_F(DistributedTrain, OneStepWithWeightedDistillationIsTheStepOnTheWholeBatch) {
    const std::string teacher = dir_ / "teacher.bin";
    const auto r = fer_test::run_command(std::string(FER_EXE) + " distill-targets --model " + FER_SOURCE_DIR +
                                         "/models/fernet.pt --data " + k_sample + " --out " + teacher +
                                         " --threads 1 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    expect_same_training("--data " + k_sample + " --limit 26 --batch 26 --epochs 1 --val-limit 40 --schedule constant "
                         "--lr 0.05 --teacher " + teacher + " --distill-weighted --threads 1 --workers 1 --seed 1",
                         1e-3);
}

// One rank killed mid-run: the other stops with a message that says so,
// within the collective timeout (not a hang).
TEST_F(DistributedTrain, KilledRankStopsTheJobWithAClearError) {
    const std::string out = dir_ / "run";
    const std::string port = std::to_string(free_port());
    std::vector<pid_t> pids;
    for (int r = 0; r < 2; ++r) {
        pids.push_back(spawn("env WORLD_SIZE=2 RANK=" + std::to_string(r) + " MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                             port + " " + FER_EXE + " train --data " + k_sample +
                             " --limit 400 --batch 8 --epochs 50 --val-limit 16 --threads 1 --workers 1"
                             " --dist-timeout 60 --out " + out + " > " + out + "-rank" + std::to_string(r) + ".log 2>&1"));
    }
    // Wait until rank 0 is training (its progress bar or first epoch line), then kill rank 1.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (std::chrono::steady_clock::now() < deadline &&
           read_file(out + "-rank0.log").find("training faces") == std::string::npos) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // into the steps (not needed for the outcome)
    kill(pids[1], SIGKILL);
    EXPECT_EQ(wait_for(pids[1], std::chrono::seconds(30)), 128 + SIGKILL);
    const int code = wait_for(pids[0], std::chrono::seconds(150));
    if (code < 0) {
        kill(pids[0], SIGKILL);
        waitpid(pids[0], nullptr, 0);
    }
    const std::string log = read_file(out + "-rank0.log");
    EXPECT_EQ(code, 3) << "rank 0 must stop (runtime failure), not hang: " << log;
    EXPECT_NE(log.find("another rank died"), std::string::npos) << log;
    EXPECT_NE(log.find("--resume"), std::string::npos) << log;
}

// A distributed run resumed (every rank reads rank 0's last.pt) continues as a
// single-process run resumed the same way does.
TEST_F(DistributedTrain, ResumesLikeOneProcess) {
    const std::string args = "--data " + k_sample + " --limit 64 --batch 32 --val-limit 32 --threads 1 --workers 1 --seed 1";
    const std::string single = train_single(args + " --epochs 1", "single");
    train_single("--resume --epochs 2 --threads 1 --workers 1", "single");
    const std::string dist = dir_ / "dist";
    ASSERT_EQ(run_ranks(2, args + " --epochs 1", dist), (std::vector<int>{0, 0})) << read_file(dist + "-rank0.log");
    ASSERT_EQ(run_ranks(2, "--resume --epochs 2 --threads 1 --workers 1", dist), (std::vector<int>{0, 0}))
        << read_file(dist + "-rank0.log") << read_file(dist + "-rank1.log");
    EXPECT_NE(read_file(dist + "-rank0.log").find("resuming"), std::string::npos);
    const std::string ms = read_file(single + "/metrics.csv"), md = read_file(dist + "/metrics.csv");
    ASSERT_EQ(std::count(md.begin(), md.end(), '\n'), 3) << md;  // header + 2 epochs
    double sl = 0, dl = 0;
    ASSERT_EQ(std::sscanf(ms.c_str() + ms.rfind("\n2,"), "\n2,%*f,%lf", &sl), 1) << ms;
    ASSERT_EQ(std::sscanf(md.c_str() + md.rfind("\n2,"), "\n2,%*f,%lf", &dl), 1) << md;
    EXPECT_NEAR(sl, dl, 0.02) << "the second epoch's training loss, resumed: 1 process " << sl << ", 2 ranks " << dl;
}

// The launcher itself: torchrun (Debian's python3-torch, PyTorch 1.13: underscore
// options; --redirects/--tee 2 avoid its Python 3.11 crash with the default 0).
TEST_F(DistributedTrain, TorchrunStartsTwoRanks) {
    if (fer_test::run_command("command -v torchrun >/dev/null 2>&1").code != 0) {
        GTEST_SKIP() << "torchrun is not installed (Debian python3-torch: scripts/setup.sh --bench)";
    }
    const std::string out = dir_ / "torchrun";
    const auto r = fer_test::run_command("torchrun --standalone --nproc_per_node 2 --redirects 2 --tee 2 --no_python " +
                                         std::string(FER_EXE) + " train --data " + k_sample +
                                         " --limit 32 --batch 16 --epochs 1 --val-limit 16 --threads 1 --workers 1 --out " +
                                         out + " 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("distributed: rank 0 of 2 (gloo"), std::string::npos) << r.out;
    EXPECT_TRUE(fs::exists(out + "/best.pt"));
    EXPECT_TRUE(fs::exists(out + "/metrics.csv"));
}

TEST_F(DistributedTrain, BadLauncherVariablesAreUsageErrors) {
    auto r = fer_test::run_command("env WORLD_SIZE=2 RANK=5 MASTER_ADDR=127.0.0.1 MASTER_PORT=1234 " +
                                   std::string(FER_EXE) + " train --data " + k_sample + " --out " + (dir_ / "x") + " 2>&1");
    EXPECT_EQ(r.code, 1) << r.out;
    EXPECT_NE(r.out.find("RANK='5'"), std::string::npos) << r.out;
    // A rank whose peers never come: a clear error after --dist-timeout, not a hang.
    r = fer_test::run_command("env WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()) +
                              " " + FER_EXE + " train --data " + k_sample + " --limit 16 --dist-timeout 3 --out " +
                              (dir_ / "y") + " 2>&1");
    EXPECT_EQ(r.code, 3) << r.out;
    EXPECT_NE(r.out.find("cannot meet the others"), std::string::npos) << r.out;
}

#endif  // FER_EXE

}  // namespace
