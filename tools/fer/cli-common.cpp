#include "cli-common.h"

#include "args.h"

#include "commands.h"
#include "error.h"
#include "fer-pipeline.h"
#include "fer.h"
#include "image-io.h"

#include <dirent.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace fer {

// Installed copy beside the executable (share/fer/models/NAME) or the source tree's.
static std::string shipped_model(const std::string & name) {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed = exe.parent_path().parent_path() / "share" / "fer" / "models" / name;
        if (fs::exists(installed, ec)) {
            return installed.string();
        }
    }
    return std::string(FER_SOURCE_DIR) + "/models/" + name;
}

std::string default_model_path() {
    if (const char * env = std::getenv("FER_MODEL"); env && *env) {
        return env;
    }
    return shipped_model("fernet.pt");
}

std::string default_tflite_model_path() {
    if (const char * env = std::getenv("FER_TFLITE_MODEL"); env && *env) {
        return env;
    }
    return shipped_model("fernet-int8.tflite");
}

std::vector<std::string> split_list(const std::string & s) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= s.size() && !s.empty()) {
        const size_t comma = s.find(',', start);
        const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!item.empty()) {
            out.push_back(item);
        }
        if (comma == std::string::npos) {
            break;
        }
        start = comma + 1;
    }
    return out;
}

ensemble_contexts::ensemble_contexts(const std::vector<const fer_model *> & models) {
    for (const fer_model * m : models) {
        owned.emplace_back(fer_context_new(m));
        members.push_back(owned.back().get());
        ok = ok && members.back() != nullptr;
    }
}

std::vector<std::string> best_mode_members() {
    // models/ensemble.txt: one .tflite file of the models folder a line ('#'
    // starts a comment); absent while no ensemble is shipped.
    const fs::path list = fs::path(shipped_model("ensemble.txt"));
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::exists(list, ec)) {
        return out;
    }
    std::ifstream in(list);
    if (!in) {
        throw input_error(list.string() + ": cannot read");
    }
    std::string line;
    while (std::getline(in, line)) {
        line = line.substr(0, line.find('#'));
        while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
            line.pop_back();
        }
        if (!line.empty()) {
            out.push_back((list.parent_path() / line).string());
        }
    }
    return out;
}

std::string default_cascade_path() {
    if (const char * env = std::getenv("FER_CASCADE"); env && *env) {
        return env;
    }
    // The copy installed with fer (share/fer/cascades, tools/fer/CMakeLists.txt), else OpenCV's.
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path installed =
            exe.parent_path().parent_path() / "share" / "fer" / "cascades" / "haarcascade_frontalface_alt2.xml";
        if (fs::exists(installed, ec)) {
            return installed.string();
        }
    }
    return "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
}

std::string resolve_detector_path(const std::string & arg) {
    std::string name = arg;
    if (name.empty()) {
        const char * env = std::getenv("FER_DETECTOR");
        name = env && *env ? env : "yunet";
    }
    if (name == "yunet") {
        return shipped_model("yunet-int8.tflite");
    }
    if (name == "yunet-float32") {
        return shipped_model("yunet.tflite");
    }
    if (name == "haar") {
        return default_cascade_path();
    }
    return name;
}

runtime_model load_runtime_model(const std::string & path) {
    std::string log;
    fer_model_params p = fer_model_default_params();
    p.log_user_data = &log;
    p.log_callback = [](int level, const char * message, void * user) {
        if (level == FER_LOG_ERROR) {
            auto * s = static_cast<std::string *>(user);
            *s += (s->empty() ? "" : "; ") + std::string(message);
        }
    };
    runtime_model m = fer::model::load(path.c_str(), p);
    if (!m) {
        throw input_error(path + ": cannot load the model: " + (log.empty() ? "unknown reason" : log) +
                          " (--model, $FER_TFLITE_MODEL)");
    }
    return m;
}

face_detector load_face_detector(const std::string & path) {
    std::string log;
    fer_detector_params p = fer_detector_default_params();
    p.log_user_data = &log;
    p.log_callback = [](int level, const char * message, void * user) {
        if (level == FER_LOG_ERROR) {
            auto * s = static_cast<std::string *>(user);
            *s += (s->empty() ? "" : "; ") + std::string(message);
        }
    };
    face_detector d = fer::detector::load(path.c_str(), p);
    if (!d) {
        throw input_error(path + ": cannot load the face detector: " + (log.empty() ? "unknown reason" : log) +
                          " (--detector, $FER_DETECTOR)");
    }
    return d;
}

model_ref resolve_model(const std::string & arg) {
    model_ref r;
    const std::string path = arg.empty() ? default_model_path() : arg;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        r.run_dir = path;
        r.file = (fs::path(path) / "best.pt").string();
        if (!fs::exists(r.file, ec)) {
            throw input_error(path + ": run folder without best.pt");
        }
    } else {
        r.file = path;
    }
    return r;
}

std::vector<std::string> list_images(const std::vector<std::string> & args) {
    std::vector<std::string> out;
    for (const auto & a : args) {
        std::error_code ec;
        if (fs::is_directory(a, ec)) {
            // skip_permission_denied would also silently skip the folder named here:
            // open that one ourselves so that an unreadable folder is an error.
            if (DIR * d = ::opendir(a.c_str())) {
                ::closedir(d);
            } else {
                throw input_error(a + ": cannot read the folder (" + std::strerror(errno) + ")");
            }
            std::vector<std::string> found;
            fs::recursive_directory_iterator it(a, fs::directory_options::skip_permission_denied, ec), end;
            for (; !ec && it != end; it.increment(ec)) {
                const auto & e = *it;
                std::error_code ec2;
                if (e.is_regular_file(ec2) && is_image_file_name(e.path().string()) &&
                    e.path().filename().string()[0] != '.') {
                    found.push_back(e.path().string());
                }
            }
            if (ec) {
                throw input_error(a + ": cannot list the folder (" + ec.message() + ")");
            }
            std::sort(found.begin(), found.end());
            out.insert(out.end(), found.begin(), found.end());
        } else if (fs::is_regular_file(a, ec)) {
            out.push_back(a);
        } else if (fs::exists(a, ec)) {
            // Opening a FIFO would block until a writer comes; a device could be endless.
            throw input_error(a + ": not a regular file (a FIFO, socket or device?); give image files or folders");
        } else {
            throw input_error(a + ": no such file or directory");
        }
    }
    return out;
}

std::vector<std::string> class_names() {
    std::vector<std::string> n;
    for (int i = 0; i < FER_N_CLASSES; ++i) {
        n.emplace_back(fer_class_name(i));
    }
    return n;
}

int32_t parse_tta(const arg_parser & a, const std::string & command) {
    const std::string tta = a.get("tta");
    if (tta == "none") {
        return FER_TTA_NONE;
    }
    if (tta == "flip") {
        return FER_TTA_FLIP;
    }
    if (tta == "ten-crop") {
        return FER_TTA_TEN_CROP;
    }
    throw usage_error(command + ": --tta must be none, flip or ten-crop, not '" + tta + "'");
}

void add_quality_options(arg_parser & a) {
    a.option("tta", "MODE", "test-time augmentation: none; flip (each face and its mirror image, ~1 point more\n"
                            "accurate, 2x the classification time); ten-crop (10 views, 10x)", "none");
    a.option("quality", "Q", "fast, or best: --tta ten-crop (unless --tta is given) and, in predict and eval, the\n"
                             "members of the shipped ensemble (models/ensemble.txt) when there is one", "fast");
}

bool parse_quality_best(const arg_parser & a, const std::string & command) {
    const std::string q = a.get("quality");
    if (q != "fast" && q != "best") {
        throw usage_error(command + ": --quality must be fast or best, not '" + q + "'");
    }
    return q == "best";
}

int32_t parse_tta_quality(const arg_parser & a, const std::string & command) {
    const int32_t tta = parse_tta(a, command);
    return parse_quality_best(a, command) && !a.has("tta") ? FER_TTA_TEN_CROP : tta;
}

const char * tta_name(int32_t tta) {
    return tta == FER_TTA_FLIP ? "flip" : tta == FER_TTA_TEN_CROP ? "ten-crop" : "none";
}

int parse_class(const std::string & s) {
    if (s.size() == 1 && s[0] >= '0' && s[0] <= '6') {
        return s[0] - '0';
    }
    const int c = fer_class_from_name(s.c_str());
    if (c < 0) {
        throw usage_error("unknown class '" + s + "' (expected angry, disgust, fear, happy, sad, surprise, neutral or 0..6)");
    }
    return c;
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (1..4), or 0 when the bytes there
// are not one: stray continuation bytes, overlong forms, surrogates, code
// points above U+10FFFF, sequences cut short.
size_t utf8_sequence(const std::string & s, size_t i) {
    const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    if (c < 0x80) {
        return 1;
    }
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (i + n > s.size() || b(1) < lo || b(1) > hi) {
        return 0;
    }
    for (size_t k = 2; k < n; ++k) {
        if (b(k) < 0x80 || b(k) > 0xBF) {
            return 0;
        }
    }
    return n;
}

}  // namespace

std::string json_escape(const std::string & s) {
    std::string o;
    o.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = utf8_sequence(s, i);
        if (n == 0) {
            o += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per invalid byte
            ++i;
        } else if (c == '"' || c == '\\') {
            o += '\\';
            o += static_cast<char>(c);
            ++i;
        } else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
            ++i;
        } else {
            o.append(s, i, n);
            i += n;
        }
    }
    return o;
}

}  // namespace fer
