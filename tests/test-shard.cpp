// Sharded batch runs (tools/fer/shard.h, docs/scale-out.md): the shard
// arithmetic and launcher variables, then the real `fer` executable: N shards
// merged by `fer merge` equal one process byte for byte (JSONL and CSV, several
// N, fer predict and fer video), a shard killed midway and rerun with --resume
// redoes only its unfinished inputs, and mixed-up or incomplete runs are refused.
#include "shard.h"
#include "test-util.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using fer::shard_spec;
using fer_test::run_command;
using fer_test::temp_dir;

namespace {

const std::string k_source_dir = FER_SOURCE_DIR;

// ---- the arithmetic -------------------------------------------------------

TEST(ShardSpec, ParsesExplicitForm) {
    const shard_spec s = fer::parse_shard("2/5", "predict");
    EXPECT_EQ(s.index, 2);
    EXPECT_EQ(s.count, 5);
    for (const char * bad : {"5/5", "-1/3", "1", "1/0", "a/b", "1/3/4", "", "/3", "1/"}) {
        fer_test::expect_error([&] { fer::parse_shard(bad, "predict"); }, fer::error_kind::usage, "--shard");
    }
}

TEST(ShardSpec, ReadsSlurmArrayAndIndexedJobVariables) {
    std::map<std::string, std::string> env;
    auto get = [&](const char * n) -> const char * {
        auto it = env.find(n);
        return it == env.end() ? nullptr : it->second.c_str();
    };
    env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}, {"SLURM_ARRAY_TASK_MIN", "1"}};
    shard_spec s = fer::parse_shard("auto", "predict", get);  // --array=1-4: task 4 is the last shard
    EXPECT_EQ(s.index, 3);
    EXPECT_EQ(s.count, 4);
    fer_test::expect_error([&] { fer::parse_shard("auto/5", "predict", get); }, fer::error_kind::usage,
                           "SLURM_ARRAY_TASK_COUNT=4");
    env["SLURM_ARRAY_TASK_STEP"] = "2";
    fer_test::expect_error([&] { fer::parse_shard("auto", "predict", get); }, fer::error_kind::usage, "contiguous");

    env = {{"JOB_COMPLETION_INDEX", "7"}};
    s = fer::parse_shard("auto/8", "video", get);
    EXPECT_EQ(s.index, 7);
    EXPECT_EQ(s.count, 8);
    fer_test::expect_error([&] { fer::parse_shard("auto", "video", get); }, fer::error_kind::usage, "auto/N");
    fer_test::expect_error([&] { fer::parse_shard("auto/7", "video", get); }, fer::error_kind::usage, "out of range");
    env = {{"JOB_COMPLETION_INDEX", "x"}};
    fer_test::expect_error([&] { fer::parse_shard("auto/8", "video", get); }, fer::error_kind::usage,
                           "JOB_COMPLETION_INDEX='x'");
    env.clear();
    fer_test::expect_error([&] { fer::parse_shard("auto", "video", get); }, fer::error_kind::usage,
                           {"SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"});
}

TEST(ShardBounds, ContiguousBlocksCoverEveryInputOnce) {
    for (size_t total : {0, 1, 5, 24, 1000, 1001}) {
        for (int n : {1, 2, 3, 7, 64}) {
            size_t expected_begin = 0;
            for (int k = 0; k < n; ++k) {
                const auto b = fer::shard_bounds(total, {k, n});
                EXPECT_EQ(b.first, expected_begin) << total << " " << k << "/" << n;
                EXPECT_LE(b.second - b.first, total / static_cast<size_t>(n) + 1);
                EXPECT_GE(b.second - b.first, total / static_cast<size_t>(n));
                expected_begin = b.second;
            }
            EXPECT_EQ(expected_begin, total);
        }
    }
}

TEST(InputList, ReadsOnePathALine) {
    temp_dir dir("fer-shard");
    std::ofstream(dir / "list.txt") << "a.jpg\r\n\nsub dir/b c.png\nlast.jpg";
    const std::vector<std::string> got = fer::read_input_list(dir / "list.txt");
    EXPECT_EQ(got, (std::vector<std::string>{"a.jpg", "sub dir/b c.png", "last.jpg"}));
    fer_test::expect_error([&] { fer::read_input_list(dir / "missing.txt"); }, fer::error_kind::input, "missing.txt");
    std::ofstream(dir / "nul.txt") << "a.jpg\n" << std::string("b\0c", 3) << "\n";
    fer_test::expect_error([&] { fer::read_input_list(dir / "nul.txt"); }, fer::error_kind::input, "nul.txt:2");
}

#ifdef FER_EXE

// ---- end to end -----------------------------------------------------------

fer_test::command_result fer_run(const std::string & args, const std::string & env = "") {
    return run_command(env + " " + FER_EXE + " " + args + " 2>&1");
}

std::string fer_stdout(const std::string & args, int * code = nullptr) {
    const auto r = run_command(std::string(FER_EXE) + " " + args + " 2>/dev/null");
    if (code) {
        *code = r.code;
    }
    return r.out;
}

std::string read_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string q(const std::string & s) { return "'" + s + "'"; }

// 24 pictures in two folders (the samples, some enlarged onto a canvas so the
// detector finds faces, group-photo.jpg as it is) plus a file that is not an
// image, and a --from list naming a few of them again and a missing file.
class ShardRun : public ::testing::Test {
protected:
    void SetUp() override {
        if (!fs::exists(k_source_dir + "/models/fernet-int8.tflite") || !fs::exists(k_source_dir + "/models/yunet-int8.tflite")) {
            GTEST_SKIP() << "the shipped models (models/fernet-int8.tflite, yunet-int8.tflite) are missing";
        }
        std::vector<std::string> samples;
        for (const auto & e : fs::directory_iterator(k_source_dir + "/samples")) {
            if (e.path().extension() == ".jpg") {
                samples.push_back(e.path().string());
            }
        }
        std::sort(samples.begin(), samples.end());
        ASSERT_GE(samples.size(), 8u);
        fs::create_directories(dir_.path() / "pics/a");
        fs::create_directories(dir_.path() / "pics/b");
        int n = 0;
        for (int copy = 0; copy < 3; ++copy) {
            for (const auto & s : samples) {
                cv::Mat img = cv::imread(s, cv::IMREAD_COLOR);
                ASSERT_FALSE(img.empty()) << s;
                if (copy == 1 && img.cols <= 64) {
                    cv::Mat canvas(240, 320, CV_8UC3, cv::Scalar(120, 125, 130)), big;
                    cv::resize(img, big, cv::Size(150, 150), 0, 0, cv::INTER_LINEAR);
                    big.copyTo(canvas(cv::Rect(80 + 10 * (n % 5), 40, 150, 150)));
                    img = canvas;
                }
                char name[64];
                std::snprintf(name, sizeof name, "pics/%s/%02d-%s", copy == 2 ? "b" : "a", n++,
                              fs::path(s).filename().c_str());
                ASSERT_TRUE(cv::imwrite(dir_ / name, img));
            }
        }
        std::ofstream(dir_ / "pics/b/broken.jpg") << "not a jpeg at all";
        std::ofstream(dir_ / "list.txt") << dir_ / "pics/a/00-" + fs::path(samples[0]).filename().string() << "\n"
                                         << dir_ / "pics/missing.jpg" << "\n";
        inputs_ = q(dir_ / "pics/a") + " " + q(dir_ / "pics/b") + " --from " + q(dir_ / "list.txt");
    }

    // The shards 0..n-1 of `args` run one after another, then fer merge.
    std::string sharded(const std::string & args, int n, const std::string & shard_dir, int * merge_code) {
        for (int k = 0; k < n; ++k) {
            const auto r = fer_run(args + " --shard " + std::to_string(k) + "/" + std::to_string(n) + " --shard-dir " +
                                   q(shard_dir));
            EXPECT_EQ(r.code, 0) << r.out;
        }
        return fer_stdout("merge " + q(shard_dir), merge_code);
    }

    temp_dir dir_{"fer-shard"};
    std::string inputs_;
};

TEST_F(ShardRun, MergedShardsEqualOneProcessByteForByte) {
    // Each fer process costs a second or so of start-up here: few, telling counts.
    const std::vector<std::pair<std::string, std::vector<int>>> cases = {{"--jsonl", {1, 2, 7}}, {"--csv", {3}}};
    for (const auto & c : cases) {
        const std::string args = "predict " + c.first + " --threads 2 " + inputs_;
        int single_code = -1;
        const std::string single = fer_stdout(args, &single_code);
        EXPECT_EQ(single_code, 2) << "the broken and the missing file fail, as in any run";
        ASSERT_GT(std::count(single.begin(), single.end(), '\n'), 20) << single;
        ASSERT_NE(single.find("happy"), std::string::npos) << "faces were found and classified";
        for (int n : c.second) {
            int merge_code = -1;
            const std::string shard_dir = dir_ / ("shards" + c.first + std::to_string(n));
            const std::string merged = sharded(args, n, shard_dir, &merge_code);
            EXPECT_EQ(merged, single) << c.first << " with " << n << " shards";
            EXPECT_EQ(merge_code, 2) << "merge reports the two failed inputs";
        }
    }
    // More shards than inputs: some shards are empty, and the merge is still the run.
    const std::string list_only = "predict --jsonl --from " + q(dir_ / "list.txt");
    int code = -1;
    EXPECT_EQ(sharded(list_only, 4, dir_ / "shards-empty", &code), fer_stdout(list_only));
    EXPECT_EQ(code, 2);
    // merge --output writes the same bytes to a file.
    const auto r = fer_run("merge " + q(dir_ / "shards--csv3") + " --output " + q(dir_ / "merged.csv"));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("broken.jpg"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("missing.jpg"), std::string::npos) << r.out;
    EXPECT_EQ(read_file(dir_ / "merged.csv"), fer_stdout("predict --csv " + inputs_));
}

TEST_F(ShardRun, KilledShardResumesOnlyItsUnfinishedInputs) {
    const std::string args = "predict --jsonl " + inputs_;
    const std::string single = fer_stdout(args);
    const std::string shard_dir = dir_ / "shards";
    const std::string run0 = args + " --shard 0/2 --shard-dir " + q(shard_dir);
    ASSERT_EQ(fer_run(run0).code, 0);
    // 27 inputs: pics/a (16), pics/b (9), list.txt (2). Shard 1 (inputs 13..26)
    // dies by SIGKILL after 5 records, as a preempted job would.
    const std::string run1 = args + " --shard 1/2 --shard-dir " + q(shard_dir);
    const auto killed = fer_run(run1, "FER_SHARD_KILL_AFTER=5");
    ASSERT_EQ(killed.code, 128 + SIGKILL) << killed.out;
    const std::string progress = shard_dir + "/shard-00001-of-00002.progress";
    ASSERT_TRUE(fs::exists(progress));
    EXPECT_FALSE(fs::exists(shard_dir + "/shard-00001-of-00002.done")) << "no marker for an unfinished shard";
    EXPECT_FALSE(fs::exists(shard_dir + "/shard-00001-of-00002.jsonl")) << "no output for an unfinished shard";
    int code = -1;
    fer_stdout("merge " + q(shard_dir), &code);
    EXPECT_EQ(code, 2) << "merge refuses an incomplete run";

    // A record cut short by the kill (as if it died inside write): dropped on resume.
    std::ofstream(progress, std::ios::app) << "20 ok 999 0123456789abcdef\n{\"file\": \"half";
    // Shard 1's first input (13) finished before the kill; input 23 did not.
    // Remove both: resuming must not read the first again, and must read the other.
    const auto b = fer::shard_bounds(27, {1, 2});
    ASSERT_EQ(b.first, 13u);
    std::vector<std::string> files;
    for (const auto & f : fs::recursive_directory_iterator(dir_ / "pics")) {
        if (f.is_regular_file()) files.push_back(f.path().string());
    }
    std::sort(files.begin(), files.end());  // the folders' order: pics/a then pics/b, sorted within
    ASSERT_EQ(files.size(), 25u);
    const std::string finished = files[13], unfinished = files[23];  // 24 is the broken one
    // (Overwritten, not deleted: the folders' listing, hence the run, stays the same.)
    std::ofstream(finished, std::ios::trunc) << "no longer an image";
    std::ofstream(unfinished, std::ios::trunc) << "no longer an image";

    const auto resumed = fer_run(run1 + " --resume");
    EXPECT_EQ(resumed.code, 0) << resumed.out;
    EXPECT_NE(resumed.out.find("5 of 14 inputs done by an earlier attempt"), std::string::npos) << resumed.out;
    EXPECT_NE(resumed.out.find("9 now, 5 earlier"), std::string::npos) << resumed.out;
    EXPECT_NE(resumed.out.find("dropping"), std::string::npos) << "the torn record is dropped: " << resumed.out;
    EXPECT_FALSE(fs::exists(progress)) << "a complete shard keeps only its output and marker";

    const auto merged = fer_run("merge " + q(shard_dir) + " --output " + q(dir_ / "merged.jsonl"));
    EXPECT_EQ(merged.code, 2) << merged.out;
    EXPECT_EQ(merged.out.find(fs::path(finished).filename().string()), std::string::npos)
        << "the input finished before the kill was not read again: " << merged.out;
    EXPECT_NE(merged.out.find(fs::path(unfinished).filename().string()), std::string::npos)
        << "the unfinished input was read on resume (and is no image now): " << merged.out;
    // The merge is the single run less the line of the input removed before it was read.
    std::string expected;
    std::istringstream lines(single);
    for (std::string line; std::getline(lines, line);) {
        if (line.find(fs::path(unfinished).filename().string()) == std::string::npos) expected += line + "\n";
    }
    EXPECT_EQ(read_file(dir_ / "merged.jsonl"), expected);

    // Resuming a complete shard does nothing.
    const auto again = fer_run(run1 + " --resume");
    EXPECT_EQ(again.code, 0);
    EXPECT_NE(again.out.find("already complete"), std::string::npos) << again.out;
}

TEST_F(ShardRun, KilledFromOutsideAtAnyPointStillMergesToTheSingleRun) {
    const std::string args = "predict --jsonl --threads 2 " + inputs_;
    const std::string single = fer_stdout(args);
    const std::string shard_dir = dir_ / "shards";
    const std::string cmd = std::string(FER_EXE) + " " + args + " --shard 0/1 --shard-dir " + q(shard_dir);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + cmd + " 2>/dev/null").c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    // Kill it once its progress file holds a few records (or it finishes first, on a fast machine).
    const std::string progress = shard_dir + "/shard-00000-of-00001.progress";
    int status = 0;
    bool exited = false;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = true;
            break;
        }
        const std::string p = read_file(progress);
        if (std::count(p.begin(), p.end(), '\n') >= 6) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    const auto resumed = fer_run(args + " --shard 0/1 --shard-dir " + q(shard_dir) + " --resume");
    EXPECT_EQ(resumed.code, 0) << resumed.out;
    int code = -1;
    EXPECT_EQ(fer_stdout("merge " + q(shard_dir), &code), single);
    EXPECT_EQ(code, 2);
}

TEST_F(ShardRun, RefusesMixedOrIncompleteRuns) {
    const std::string args = "predict --jsonl " + inputs_;
    const std::string shard_dir = dir_ / "shards";
    ASSERT_EQ(fer_run(args + " --shard 0/3 --shard-dir " + q(shard_dir)).code, 0);
    auto r = fer_run("merge " + q(shard_dir));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("2 of 3 shards are not complete (no marker): 1, 2"), std::string::npos) << r.out;
    // Shard 1 with other options: a different run, refused by merge.
    ASSERT_EQ(fer_run(args + " --min-confidence 0.5 --shard 1/3 --shard-dir " + q(shard_dir)).code, 0);
    ASSERT_EQ(fer_run(args + " --shard 2/3 --shard-dir " + q(shard_dir)).code, 0);
    r = fer_run("merge " + q(shard_dir));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("another run"), std::string::npos) << r.out;
    // An output changed after its marker was written.
    ASSERT_EQ(fer_run(args + " --shard 1/3 --shard-dir " + q(shard_dir)).code, 0);
    std::ofstream(shard_dir + "/shard-00002-of-00003.jsonl", std::ios::app) << "{}\n";
    r = fer_run("merge " + q(shard_dir));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("do not match"), std::string::npos) << r.out;
    // Bad uses.
    EXPECT_EQ(fer_run(args + " --shard 3/3 --shard-dir " + q(shard_dir)).code, 1);
    EXPECT_EQ(fer_run(args + " --shard 0/3").code, 1);
    EXPECT_EQ(fer_run("predict " + inputs_ + " --shard 0/3 --shard-dir " + q(shard_dir)).code, 1) << "table output";
    r = fer_run(args + " --shard auto --shard-dir " + q(shard_dir), "env -u SLURM_ARRAY_TASK_ID -u JOB_COMPLETION_INDEX");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("JOB_COMPLETION_INDEX"), std::string::npos) << r.out;
    EXPECT_EQ(fer_run("merge " + q(dir_ / "nowhere")).code, 2);
}

TEST_F(ShardRun, IndexedJobVariablePicksTheShard) {
    const std::string args = "predict --csv " + inputs_;
    const std::string shard_dir = dir_ / "shards";
    for (int k = 0; k < 3; ++k) {
        const auto r = fer_run(args + " --shard auto/3 --shard-dir " + q(shard_dir),
                               "env -u SLURM_ARRAY_TASK_ID JOB_COMPLETION_INDEX=" + std::to_string(k));
        ASSERT_EQ(r.code, 0) << r.out;
    }
    EXPECT_EQ(fer_stdout("merge " + q(shard_dir)), fer_stdout(args));
}

// fer video --jsonl over several short clips: shards merged equal one process.
TEST_F(ShardRun, VideoShardsMergeToTheSingleRun) {
    const cv::Mat face = cv::imread(k_source_dir + "/samples/happy-PublicTest_10245799.jpg", cv::IMREAD_COLOR);
    ASSERT_FALSE(face.empty());
    std::string list;
    for (int v = 0; v < 3; ++v) {
        const std::string path = dir_ / ("clip" + std::to_string(v) + ".avi");
        cv::VideoWriter w(path, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(320, 240));
        ASSERT_TRUE(w.isOpened());
        for (int i = 0; i < 5; ++i) {
            cv::Mat canvas(240, 320, CV_8UC3, cv::Scalar(110, 120, 130)), big;
            cv::resize(face, big, cv::Size(120, 120));
            big.copyTo(canvas(cv::Rect(20 + 20 * v + 4 * i, 50, 120, 120)));
            w.write(canvas);
        }
        list += path + "\n";
    }
    list += dir_ / "pics/b/broken.jpg";
    std::ofstream(dir_ / "videos.txt") << list;
    const std::string args = "video --jsonl --no-progress --from " + q(dir_ / "videos.txt");
    int code = -1;
    const std::string single = fer_stdout(args, &code);
    EXPECT_EQ(code, 2) << "the broken file is no video";
    ASSERT_EQ(std::count(single.begin(), single.end(), '\n'), 3) << single;
    EXPECT_NE(single.find("\"track_id\""), std::string::npos) << single;
    for (int n : {2, 4}) {
        EXPECT_EQ(sharded(args, n, dir_ / ("video" + std::to_string(n)), &code), single) << n << " shards";
        EXPECT_EQ(code, 2);
    }
}

#endif  // FER_EXE

}  // namespace
