// Pieces several subcommands share: finding the model, listing input images.
#pragma once

#include "log.h"  // terminal_safe

#include "fer-cpp.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fer {

// --model may name a model file or a run folder (its best.pt is used).
struct model_ref {
    std::string file;     // the .pt to load
    std::string run_dir;  // the run folder, when one was given
};
model_ref resolve_model(const std::string & arg);

// The TensorFlow Lite model the runtime commands (predict, video, live, serve)
// load when --model is not given: $FER_TFLITE_MODEL, else the shipped default
// models/fernet-int8.tflite (int8 agrees with float32 on 99.2% of PublicTest
// and scores 0.06 points higher; models/README.md).
std::string default_tflite_model_path();
// "a,b,,c" -> {a, b, c}.
std::vector<std::string> split_list(const std::string & s);
// One thread's contexts for an ensemble: one per model (just --model without
// one), in order, as fer_classify_ensemble takes them.
struct ensemble_contexts {
    std::vector<std::unique_ptr<fer_context, fer::context_deleter>> owned;
    std::vector<fer_context *> members;
    bool ok = true;  // false when a context could not get its memory
    explicit ensemble_contexts(const std::vector<const fer_model *> & models);
};

// The shipped ensemble of the best mode beside the default model (paths of the
// members listed in models/ensemble.txt); empty while none is shipped.
std::vector<std::string> best_mode_members();
// The Haar cascade the face detector loads when --detector is not given:
// $FER_CASCADE, else OpenCV's haarcascade_frontalface_alt2.xml (Debian's
// opencv-data; chosen by recall/precision in docs/face-detection.md).
std::string default_cascade_path();
// --detector NAME|FILE to a file: "yunet" (models/yunet-int8.tflite, shipped),
// "yunet-float32" (models/yunet.tflite), "haar" (default_cascade_path()),
// anything else is a file. Empty: $FER_DETECTOR when set, else "yunet".
std::string resolve_detector_path(const std::string & arg);

// Owning handles of the runtime's model and face detector (fer-cpp.h).
using runtime_model = fer::model;
using face_detector = fer::detector;
// A .tflite file loaded into fer's runtime; an input error names the file and
// the verifier's reason.
runtime_model load_runtime_model(const std::string & path);
// A face detector (YuNet .tflite, Haar cascade XML or FERHAAR1); an input
// error names the file and the reason.
face_detector load_face_detector(const std::string & path);

// Files named on the command line, folders searched recursively for images,
// sorted. Throws an input error for a path that does not exist, a folder that
// cannot be read, and a path that is not a regular file (a FIFO would block).
std::vector<std::string> list_images(const std::vector<std::string> & args);

class arg_parser;
// --tta MODE of `command` as a fer_tta (none, flip, ten-crop); a usage error
// for anything else. tta_name is the inverse.
int32_t parse_tta(const arg_parser & a, const std::string & command);
const char * tta_name(int32_t tta);
// --tta and --quality, shared by predict, video, live and eval; the fer_tta
// they ask for together (--quality best means ten-crop unless --tta is given).
void add_quality_options(arg_parser & a);
bool parse_quality_best(const arg_parser & a, const std::string & command);
int32_t parse_tta_quality(const arg_parser & a, const std::string & command);

std::vector<std::string> class_names();
// Class index from a name or number; throws a usage error otherwise.
int parse_class(const std::string & s);

// The inside of a JSON string: quotes, backslashes and control bytes (DEL too)
// escaped; every byte that is not part of a valid UTF-8 sequence replaced by
// U+FFFD, so that the output is valid UTF-8 JSON whatever the input (file
// names are bytes on Linux, HTTP headers and multipart names are anything).
std::string json_escape(const std::string & s);

}  // namespace fer
