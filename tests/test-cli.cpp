// End-to-end tests of the real `fer` executable: exit codes (0 ok, 1 usage,
// 2 bad input or model, 3 runtime failure), messages naming what is wrong,
// and the files each command writes.
#include "test-util.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace fs = std::filesystem;

namespace {

using run_result = fer_test::command_result;  // stdout and stderr together

run_result run(const std::string & args) { return fer_test::run_command(std::string(FER_EXE) + " " + args + " 2>&1"); }

std::string pixels(std::mt19937 & rng, int label) {
    std::string s;
    std::uniform_int_distribution<int> noise(0, 60);
    for (int i = 0; i < 48 * 48; ++i) {
        // A class-dependent brightness band, so a tiny model can learn something.
        const int row = i / 48;
        const int v = ((row / 7) == label ? 180 : 40) + noise(rng);
        s += (i ? " " : "") + std::to_string(v);
    }
    return s;
}

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("fer-cli-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string path(const std::string & name) const { return (dir_ / name).string(); }

    std::string write(const std::string & name, const std::string & text) const {
        std::ofstream(path(name), std::ios::binary) << text;
        return path(name);
    }

    // A small valid CSV: `per_class` Training and 2 PublicTest faces per class.
    std::string tiny_csv(int per_class = 6) const {
        std::mt19937 rng(3);
        std::string t = "emotion,pixels,Usage\n";
        for (int c = 0; c < 7; ++c) {
            for (int i = 0; i < per_class; ++i) t += std::to_string(c) + "," + pixels(rng, c) + ",Training\n";
            for (int i = 0; i < 2; ++i) t += std::to_string(c) + "," + pixels(rng, c) + ",PublicTest\n";
        }
        return write("tiny.csv", t);
    }

    // Trains one tiny epoch and returns the run folder.
    std::string tiny_run() const {
        const std::string csv = tiny_csv();
        const std::string out = path("run");
        run_result r = run("train --data " + csv + " --out " + out + " --epochs 2 --batch 16 --threads 1");
        EXPECT_EQ(r.code, 0) << r.out;
        return out;
    }

    fs::path dir_;
};

}  // namespace

TEST_F(Cli, NoCommandIsUsageError) {
    run_result r = run("");
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.out.find("usage: fer"), std::string::npos);
    EXPECT_EQ(run("frobnicate").code, 1);
}

TEST_F(Cli, EveryCommandHasHelp) {
    for (const char * c : {"train", "eval", "explain", "predict", "distill-targets"}) {
        run_result r = run(std::string(c) + " --help");
        EXPECT_EQ(r.code, 0) << c;
        EXPECT_NE(r.out.find(std::string("usage: fer ") + c), std::string::npos) << r.out;
    }
}

TEST_F(Cli, HoldoutTeacherFileAndStudent) {
    const std::string run_dir = tiny_run();  // 6 Training faces per class: 1 per class held out
    run_result e = run("eval --data " + path("tiny.csv") + " --model " + run_dir + " --split holdout --json");
    ASSERT_EQ(e.code, 0) << e.out;
    EXPECT_NE(e.out.find("\"n\": 7,"), std::string::npos) << e.out;
    EXPECT_NE(e.out.find("\"split\": \"holdout\""), std::string::npos) << e.out;
    // Another fraction: 2 faces per class of 6 (round(0.3 x 6)); a bad one is a usage error.
    run_result e3 = run("eval --data " + path("tiny.csv") + " --model " + run_dir + " --split holdout --holdout 0.3 --json");
    ASSERT_EQ(e3.code, 0) << e3.out;
    EXPECT_NE(e3.out.find("\"n\": 14,"), std::string::npos) << e3.out;
    EXPECT_EQ(run("eval --data " + path("tiny.csv") + " --model " + run_dir + " --split holdout --holdout 1.5").code, 1);

    const std::string teacher = path("t.teacher");
    run_result d = run("distill-targets --model " + run_dir + " --data " + path("tiny.csv") + " --out " + teacher);
    ASSERT_EQ(d.code, 0) << d.out;
    EXPECT_NE(d.out.find("teachers on the holdout of Training (7 faces): accuracy"), std::string::npos) << d.out;
    run_result s = run("train --arch fernet-s --data " + path("tiny.csv") + " --teacher " + teacher + "," + teacher +
                       " --out " + path("student") + " --epochs 1 --batch 16 --threads 1");
    ASSERT_EQ(s.code, 0) << s.out;
    EXPECT_NE(s.out.find("distilling"), std::string::npos) << s.out;
    std::ifstream cfg(path("student") + "/config.txt");
    const std::string config((std::istreambuf_iterator<char>(cfg)), std::istreambuf_iterator<char>());
    EXPECT_NE(config.find("arch=fernet-s\n"), std::string::npos) << config;
    EXPECT_NE(config.find("teacher=" + teacher + "," + teacher + "\n"), std::string::npos) << config;

    // The same teacher file with other data: an input error naming the file and the field.
    std::mt19937 rng(5);
    std::string other = "emotion,pixels,Usage\n";
    for (int c = 0; c < 7; ++c)
        for (int i = 0; i < 5; ++i) other += std::to_string(c) + "," + pixels(rng, c) + ",Training\n";
    write("other.csv", other);
    run_result bad = run("train --data " + path("other.csv") + " --teacher " + teacher + " --out " + path("bad") +
                         " --epochs 1 --threads 1");
    EXPECT_EQ(bad.code, 2) << bad.out;
    EXPECT_NE(bad.out.find("t.teacher"), std::string::npos) << bad.out;
    EXPECT_NE(bad.out.find("'count'"), std::string::npos) << bad.out;
    EXPECT_EQ(run("distill-targets --data " + path("tiny.csv") + " --out " + teacher).code, 1);
}

TEST_F(Cli, SeedSummaryMatchesTheKerasTable) {
    run_result r = run("train --arch seed --summary");
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("Total params: 1,329,543"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Trainable params: 1,329,287"), std::string::npos);
    EXPECT_NE(r.out.find("Non-trainable params: 256"), std::string::npos);
    EXPECT_NE(r.out.find("(12, 12, 128)"), std::string::npos);
    EXPECT_NE(r.out.find("1,179,712"), std::string::npos);
    run_result d = run("train --arch fernet --summary");
    EXPECT_EQ(d.code, 0);
    EXPECT_NE(d.out.find("GlobalAveragePooling2D"), std::string::npos);
}

TEST_F(Cli, UnknownOptionAndBadValuesAreUsageErrors) {
    EXPECT_EQ(run("train --bogus 1").code, 1);
    EXPECT_EQ(run("train --data x.csv --epochs 0").code, 1);
    EXPECT_EQ(run("train --data x.csv --epochs many").code, 1);
    EXPECT_EQ(run("train --arch resnet500 --summary").code, 1);
    EXPECT_EQ(run("eval --data x.csv --tta rotate").code, 1);
}

TEST_F(Cli, MissingAndEmptyDataAreInputErrors) {
    run_result r = run("train --data " + path("nope.csv") + " --out " + path("o"));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("nope.csv"), std::string::npos) << r.out;
    const std::string empty = write("empty.csv", "");
    r = run("train --data " + empty + " --out " + path("o"));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("empty file"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(path("o"))) << "a failed run must not leave a run folder";
}

TEST_F(Cli, MalformedRowsNameFileAndLine) {
    std::mt19937 rng(1);
    const std::string good = pixels(rng, 0);
    const std::string cases[] = {
        "7," + good + ",Training",                                // label 7
        "0," + good.substr(0, good.rfind(' ')) + ",Training",     // 2,303 pixels
        "0,256" + good.substr(good.find(' ')) + ",Training",      // pixel 256
        "0," + good + ",Validation",                              // unknown Usage
    };
    for (const auto & bad : cases) {
        const std::string csv = write("bad.csv", "emotion,pixels,Usage\n0," + good + ",Training\n" + bad + "\n");
        run_result r = run("train --data " + csv + " --out " + path("o"));
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_NE(r.out.find("bad.csv:3"), std::string::npos) << r.out;
    }
    const std::string garbage = write("garbage.csv", std::string("\x89PNG\r\n\x1a\n\0\0\xff\xfe", 14));
    run_result r = run("train --data " + garbage + " --out " + path("o"));
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("garbage.csv:1"), std::string::npos) << r.out;
}

TEST_F(Cli, UnwritableOutputFolderIsRuntimeError) {
    const std::string csv = tiny_csv(2);
    const std::string file = write("a-file", "x");
    run_result r = run("train --data " + csv + " --out " + file + "/run --epochs 1 --threads 1");
    EXPECT_EQ(r.code, 3) << r.out;
    EXPECT_NE(r.out.find("a-file/run"), std::string::npos) << r.out;
}

TEST_F(Cli, BrokenModelFilesAreInputErrors) {
    const std::string csv = tiny_csv(1);
    for (const std::string & content : {std::string(), std::string("not a model at all"), std::string(5000, '\x07')}) {
        const std::string model = write("broken.pt", content);
        run_result r = run("eval --data " + csv + " --model " + model);
        EXPECT_EQ(r.code, 2) << r.out;
        EXPECT_NE(r.out.find("broken.pt"), std::string::npos) << r.out;
    }
    run_result r = run("eval --data " + csv + " --model " + path("missing.pt"));
    EXPECT_EQ(r.code, 2);
    // .tflite files go to fer's runtime, whose verifier names the problem
    const std::string tfl = write("broken.tflite", std::string(64, '\x01'));
    r = run("eval --data " + csv + " --model " + tfl);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find("broken.tflite"), std::string::npos) << r.out;
}

TEST_F(Cli, TrainEvalExplainPredictOnATinyRun) {
    const std::string run_dir = tiny_run();
    for (const char * f : {"best.pt", "last.pt", "metrics.csv", "config.txt"}) {
        EXPECT_TRUE(fs::exists(fs::path(run_dir) / f)) << f;
    }
    // Continuing a run needs --resume; resuming a finished run changes nothing.
    EXPECT_EQ(run("train --data " + path("tiny.csv") + " --out " + run_dir + " --epochs 2").code, 1);
    run_result res = run("train --out " + run_dir + " --resume --threads 1");
    EXPECT_EQ(res.code, 0) << res.out;

    run_result e = run("eval --data " + path("tiny.csv") + " --model " + run_dir + " --json --tta flip --out " +
                       path("eval"));
    ASSERT_EQ(e.code, 0) << e.out;
    for (const char * key : {"\"accuracy\"", "\"macro_f1\"", "\"n\": 14", "\"per_class\"", "\"confusion_matrix\"",
                             "\"tta_flip\""}) {
        EXPECT_NE(e.out.find(key), std::string::npos) << key << " in " << e.out;
    }
    for (const char * f : {"metrics.json", "confusion.png", "confusion-tta.png", "curves.png"}) {
        EXPECT_TRUE(fs::exists(fs::path(path("eval")) / f)) << f;
    }
    // The exported float32 file, evaluated through fer's runtime, scores like the checkpoint.
    ASSERT_EQ(run("export --model " + run_dir + " --out " + path("tiny.tflite") + " --check-faces 2").code, 0);
    run_result et = run("eval --data " + path("tiny.csv") + " --model " + path("tiny.tflite") + " --json --tta flip");
    ASSERT_EQ(et.code, 0) << et.out;
    auto field = [](const std::string & js, const std::string & key) {
        const size_t at = js.find("\"" + key + "\"");
        return at == std::string::npos ? std::string() : js.substr(at, js.find("]]", at) - at);
    };
    EXPECT_NE(field(e.out, "confusion_matrix"), "");
    EXPECT_EQ(field(e.out, "confusion_matrix"), field(et.out, "confusion_matrix")) << e.out << "\n" << et.out;
    EXPECT_NE(et.out.find("\"precision\": \"float32\""), std::string::npos) << et.out;
    run_result text = run("eval --data " + path("tiny.csv") + " --model " + run_dir);
    EXPECT_EQ(text.code, 0);
    EXPECT_NE(text.out.find("confusion matrix, row-normalised"), std::string::npos) << text.out;

    // Face images for explain and predict, plus a file that is not an image.
    fs::create_directories(path("faces"));
    {
        std::ofstream pgm(path("faces/face.pgm"), std::ios::binary);
        pgm << "P5 48 48 255\n";
        for (int i = 0; i < 48 * 48; ++i) pgm.put(static_cast<char>((i * 7) % 256));
    }
    write("faces/broken.png", "this is not a png");
    run_result x = run("explain --model " + run_dir + " " + path("faces/face.pgm") + " --out " + path("cam"));
    ASSERT_EQ(x.code, 0) << x.out;
    EXPECT_TRUE(fs::exists(path("cam/face-cam.png")));
    EXPECT_TRUE(fs::exists(path("cam/face.json")));
    EXPECT_EQ(run("explain --model " + run_dir + " " + path("faces/face.pgm") + " --out " + path("cam") +
                  " --class contempt").code, 1);

    // predict runs the shipped TFLite model (not the run's .pt); --whole: each file is one face crop.
    run_result p = run("predict --json --whole " + path("faces"));
    EXPECT_EQ(p.code, 2) << "one unreadable image must make the exit code 2";
    EXPECT_NE(p.out.find("broken.png"), std::string::npos) << p.out;
    EXPECT_NE(p.out.find("\"probabilities\""), std::string::npos) << "the readable face is still classified";
}

TEST_F(Cli, ShippedModelClassifiesTheBundledSamples) {
    const fs::path model = fs::path(FER_SOURCE_DIR) / "models" / "fernet.pt";
    const fs::path samples = fs::path(FER_SOURCE_DIR) / "samples";
    if (!fs::exists(model) || !fs::exists(samples)) {
        GTEST_SKIP() << "no shipped model in models/ yet";
    }
    run_result r = run("predict --json --whole " + samples.string());
    ASSERT_EQ(r.code, 0) << r.out;
    size_t n = 0;
    for (size_t at = 0; (at = r.out.find("\"emotion\"", at)) != std::string::npos; ++at) ++n;
    EXPECT_GE(n, 7u) << r.out;
}

TEST_F(Cli, KilledRunResumesFromItsLastCompleteEpoch) {
    const std::string csv = tiny_csv(4);
    const std::string out = path("killed");
    const std::string cmd = std::string(FER_EXE) + " train --data " + csv + " --out " + out +
                            " --epochs 40 --batch 8 --threads 1 > " + path("log.txt") + " 2>&1";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    // Wait until two epochs are logged, then kill without warning, mid-epoch.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    auto lines = [&] {
        std::ifstream in(out + "/metrics.csv");
        std::string l;
        int n = 0;
        while (std::getline(in, l)) ++n;
        return n - 1;
    };
    while (lines() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_GE(lines(), 2) << "the run never finished two epochs";
    ASSERT_LT(lines(), 40) << "the run finished before it could be killed";
    // Whatever moment it died at, the files on disk are whole and usable.
    run_result e = run("eval --data " + csv + " --model " + out + " --json");
    EXPECT_EQ(e.code, 0) << e.out;
    run_result r = run("train --out " + out + " --resume --threads 1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(lines(), 40);
    for (const auto & f : fs::directory_iterator(out)) {
        EXPECT_EQ(f.path().string().find(".tmp."), std::string::npos) << "left behind: " << f.path();
    }
}

// The input and output loose ends of issue 16.
namespace {
const std::string k_sample = std::string(FER_SOURCE_DIR) + "/samples/happy-PublicTest_10245799.jpg";
}

TEST_F(Cli, PredictOnAnUnreadableFolderIsAnInputError) {
    const std::string locked = path("locked");
    fs::create_directories(locked);
    fs::copy_file(k_sample, locked + "/face.jpg");
    fs::permissions(locked, fs::perms::none);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    // root reads every folder: run as nobody then (setpriv, util-linux).
    std::string as_user;
    if (::geteuid() == 0) {
        if (std::system("command -v setpriv >/dev/null 2>&1") != 0) {
            GTEST_SKIP() << "running as root without setpriv: cannot make a folder unreadable";
        }
        as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    }
    const run_result r = fer_test::run_command(as_user + FER_EXE + " predict --whole " + locked + " 2>&1");
    fs::permissions(locked, fs::perms::owner_all);
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(locked + ": cannot read the folder"), std::string::npos) << r.out;
}

TEST_F(Cli, PredictRefusesAFifoInsteadOfBlocking) {
    const std::string fifo = path("pipe.jpg");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    // timeout: a blocked open would otherwise hang the test (exit 124 then).
    const run_result r = fer_test::run_command("timeout 20 " + std::string(FER_EXE) + " predict " + fifo + " 2>&1");
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_NE(r.out.find(fifo + ": not a regular file"), std::string::npos) << r.out;
}

TEST_F(Cli, PredictCsvNeutralisesFormulaCellsAndJsonStaysUtf8) {
    for (const char * name : {"=HYPERLINK(1).jpg", "+1.jpg", "@SUM.jpg", "\xff\xfe.jpg"}) {
        fs::copy_file(k_sample, path(name));
    }
    const std::string cd = "cd " + dir_.string() + " && " + FER_EXE + " predict --whole ";
    run_result r = fer_test::run_command(cd + "--csv =HYPERLINK\\(1\\).jpg +1.jpg @SUM.jpg 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\n'=HYPERLINK(1).jpg,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n'+1.jpg,"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\n'@SUM.jpg,"), std::string::npos) << r.out;
    // A file name that is not UTF-8: U+FFFD in the JSON, one per invalid byte.
    r = fer_test::run_command(cd + "--jsonl $(printf '\\377\\376.jpg') 2>&1");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("{\"file\": \"\xEF\xBF\xBD\xEF\xBF\xBD.jpg\""), std::string::npos) << r.out;
}

TEST_F(Cli, EvalDoesNotEchoTerminalEscapesFromACsvHeader) {
    const std::string csv = write("evil.csv", "\x1b]0;owned\x07\x1b[31memotion,pixels,Usage\x1b[0m\n0,1 2,PublicTest\n");
    const run_result r = run("eval --data " + csv + " --out " + path("report"));
    EXPECT_EQ(r.code, 2) << r.out;
    EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << "raw ESC echoed";
    EXPECT_EQ(r.out.find('\x07'), std::string::npos) << "raw BEL echoed";
    EXPECT_NE(r.out.find("\\x1b]0;owned\\x07"), std::string::npos) << r.out;
}
