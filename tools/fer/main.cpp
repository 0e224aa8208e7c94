// fer: facial emotion recognition. One command, one subcommand per job.
//
// Built twice from this file: `fer` (the runtime commands; no libtorch, so
// predict, video, live, serve and eval of .tflite start fast and build on a
// machine without it) and, when libtorch is found, `fer-torch` with the
// training commands (FER_TORCH_COMMANDS). `fer train ...` runs fer-torch with
// the same arguments (found beside fer, or in ../libexec/fer when installed).
#include "allocator.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"

#ifdef FER_TORCH_COMMANDS
#include <c10/util/Exception.h>
#endif

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

namespace {

struct command {
    const char * name;
    int (*run)(int, char **);  // NULL in fer: a libtorch command, run by fer-torch
    const char * summary;
};

// Each executable holds its own half of the table; the other half is NULL.
#ifdef FER_TORCH_COMMANDS
#define FER_TORCH_COMMAND(f) f
#define FER_RUNTIME_COMMAND(f) nullptr
#else
#define FER_TORCH_COMMAND(f) nullptr
#define FER_RUNTIME_COMMAND(f) f
#endif

const command k_commands[] = {
    {"predict", FER_RUNTIME_COMMAND(fer::cmd_predict), "classify the emotion of face images"},
    {"train", FER_TORCH_COMMAND(fer::cmd_train), "train a network on FER2013 (CSV or image folders)"},
    {"eval", fer::cmd_eval, "accuracy, macro-F1, per-class metrics and confusion matrix"},
    {"distill-targets", FER_TORCH_COMMAND(fer::cmd_distill_targets),
     "store teacher networks' soft outputs for fer train --teacher"},
    {"explain", FER_TORCH_COMMAND(fer::cmd_explain), "Grad-CAM heatmaps of what drives a prediction"},
    {"export", FER_TORCH_COMMAND(fer::cmd_export), "export a model to TensorFlow Lite (float32 or int8) and check it"},
    {"video", FER_RUNTIME_COMMAND(fer::cmd_video), "faces, track ids and smoothed emotions through a video file"},
    {"live", FER_RUNTIME_COMMAND(fer::cmd_live), "camera view with faces and their emotion (--headless: JSON lines)"},
#ifdef FER_WITH_SERVER
    {"serve", FER_RUNTIME_COMMAND(fer::cmd_serve), "HTTP(S) API for emotion recognition, and the web app's files"},
#endif
    {"merge", FER_RUNTIME_COMMAND(fer::cmd_merge), "combine the outputs of sharded predict/video runs (--shard K/N)"},
};

#ifdef FER_WITH_TORCH_HELPER
constexpr bool k_have_torch = true;
#elif defined(FER_TORCH_COMMANDS)
constexpr bool k_have_torch = true;
#else
constexpr bool k_have_torch = false;
#endif

void print_usage(FILE * out) {
    std::fprintf(out, "usage: fer COMMAND [OPTIONS]\n\nFacial emotion recognition (FER2013 classes: angry, disgust, "
                      "fear, happy, sad, surprise, neutral).\n\ncommands:\n");
    for (const auto & c : k_commands) {
        if (c.run || k_have_torch) {
            std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
        }
    }
    if (!k_have_torch) {
        std::fprintf(out, "\n(built without libtorch: train, export, distill-targets, explain and eval of .pt\n"
                          "files are not available)\n");
    }
    std::fprintf(out, "\n`fer COMMAND --help` describes each command.\n"
                      "exit codes: 0 ok, 1 usage error, 2 bad input or model, 3 runtime failure\n");
}

#ifndef FER_TORCH_COMMANDS
// Replaces this process with fer-torch on the same arguments; returns an exit
// code only when that is impossible.
int run_torch_helper(int argc, char ** argv, const std::string & what) {
    if (!k_have_torch) {
        std::fprintf(stderr, "error: %s needs libtorch, and this fer was built without it "
                             "(FER_BUILD_TRAINING=OFF or libtorch not found)\n", what.c_str());
        return 1;
    }
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
    for (const fs::path & helper : {dir / "fer-torch", dir.parent_path() / "libexec" / "fer" / "fer-torch"}) {
        if (!ec && fs::exists(helper, ec)) {
            std::vector<char *> args(argv, argv + argc);
            args.push_back(nullptr);
            ::execv(helper.c_str(), args.data());
            std::fprintf(stderr, "error: cannot run %s: %s\n", helper.c_str(), std::strerror(errno));
            return 3;
        }
    }
    std::fprintf(stderr, "error: %s needs fer-torch (beside fer or in ../libexec/fer), which is missing\n",
                 what.c_str());
    return 3;
}
#endif

}  // namespace

int main(int argc, char ** argv) {
#ifdef FER_TORCH_COMMANDS
    fer::tune_allocator();
#endif
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    for (const auto & c : k_commands) {
        if (std::strcmp(argv[1], c.name) != 0) {
            continue;
        }
        try {
#ifndef FER_TORCH_COMMANDS
            if (!c.run) {
                return run_torch_helper(argc, argv, std::string("fer ") + c.name);
            }
            try {
                return c.run(argc - 2, argv + 2);
            } catch (const fer::needs_libtorch & e) {
                return run_torch_helper(argc, argv, e.what);
            }
#else
            if (!c.run) {
                std::fprintf(stderr, "error: fer-torch runs the libtorch commands only; run fer %s\n", c.name);
                return 1;
            }
            return c.run(argc - 2, argv + 2);
#endif
        } catch (const fer::error & e) {
            std::fprintf(stderr, "error: %s\n", fer::terminal_safe(e.what()).c_str());
            return static_cast<int>(e.kind());
#ifdef FER_TORCH_COMMANDS
        } catch (const c10::Error & e) {
            std::fprintf(stderr, "error: %s\n", e.what_without_backtrace());
            return 3;
#endif
        } catch (const std::bad_alloc &) {
            std::fprintf(stderr, "error: out of memory\n");
            return 3;
        } catch (const std::exception & e) {
            std::fprintf(stderr, "error: %s\n", fer::terminal_safe(e.what()).c_str());
            return 3;
        }
    }
    std::fprintf(stderr, "error: unknown command '%s'\n\n", argv[1]);
    print_usage(stderr);
    return 1;
}
