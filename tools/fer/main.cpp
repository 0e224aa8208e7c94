// fer: facial emotion recognition. One executable, one subcommand per job.
#include "allocator.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"

#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {

struct command {
    const char * name;
    int (*run)(int, char **);
    const char * summary;
};

const command k_commands[] = {
    {"predict", fer::cmd_predict, "classify the emotion of face images"},
    {"train", fer::cmd_train, "train a network on FER2013 (CSV or image folders)"},
    {"eval", fer::cmd_eval, "accuracy, macro-F1, per-class metrics and confusion matrix"},
    {"distill-targets", fer::cmd_distill_targets, "store teacher networks' soft outputs for fer train --teacher"},
    {"explain", fer::cmd_explain, "Grad-CAM heatmaps of what drives a prediction"},
    {"export", fer::cmd_export, "export a model to TensorFlow Lite (float32 or int8) and check it"},
    {"video", fer::cmd_video, "faces, track ids and smoothed emotions through a video file"},
    {"live", fer::cmd_live, "camera view with faces and their emotion (--headless: JSON lines)"},
    {"serve", fer::cmd_serve, "HTTP(S) API for emotion recognition, and the web app's files"},
    {"merge", fer::cmd_merge, "combine the outputs of sharded predict/video runs (--shard K/N)"},
};

void print_usage(FILE * out) {
    std::fprintf(out, "usage: fer COMMAND [OPTIONS]\n\nFacial emotion recognition (FER2013 classes: angry, disgust, "
                      "fear, happy, sad, surprise, neutral).\n\ncommands:\n");
    for (const auto & c : k_commands) {
        std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
    }
    std::fprintf(out, "\n`fer COMMAND --help` describes each command.\n"
                      "exit codes: 0 ok, 1 usage error, 2 bad input or model, 3 runtime failure\n");
}

}  // namespace

int main(int argc, char ** argv) {
    fer::tune_allocator();
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        print_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    for (const auto & c : k_commands) {
        if (std::strcmp(argv[1], c.name) != 0) {
            continue;
        }
        try {
            return c.run(argc - 2, argv + 2);
        } catch (const fer::error & e) {
            std::fprintf(stderr, "error: %s\n", fer::terminal_safe(e.what()).c_str());
            return static_cast<int>(e.kind());
        } catch (const c10::Error & e) {
            std::fprintf(stderr, "error: %s\n", e.what_without_backtrace());
            return 3;
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
