// fer-convert-yunet: YuNet-n (ONNX, ../shared/models/yunet/) -> fer's TFLite
// subset, float32 and (with calibration photos) int8. The one command that
// made models/yunet.tflite and models/yunet-int8.tflite is in models/README.md.
//
// Exit codes as the fer command: 0 ok, 1 usage, 2 bad input, 3 runtime failure.

#include "calib-images.h"
#include "onnx-reader.h"
#include "onnx-to-tflite.h"
#include "yunet-model.h"

#include "checkpoint.h"
#include "error.h"
#include "export-tflite.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

const char * k_usage =
    "usage: fer-convert-yunet --onnx FILE --out FLOAT.tflite [--source-commit FILE]\n"
    "                         [--out-int8 INT8.tflite --calibration DIR|IMAGE ... [--float-tail N]\n"
    "                         [--calibration-method mse|minmax]] [--size N]\n"
    "  --onnx FILE           yunet_n_dynamic.onnx\n"
    "  --out FILE            the float32 .tflite (written atomically)\n"
    "  --source-commit FILE  SOURCE-COMMIT of the weights (default: next to the ONNX file)\n"
    "  --out-int8 FILE       also the int8 .tflite, calibrated on the photos of --calibration\n"
    "  --calibration PATH    a photo or a folder of photos (repeatable; letterboxed to the input size)\n"
    "  --float-tail N        int8: keep the last N convolutions of each head float (default 2: the\n"
    "                        1x1 and 3x3 head convs; 0: every convolution int8)\n"
    "  --calibration-method M  activation ranges: mse (default, MSE-optimal clipping) or minmax\n"
    "  --size N              input height and width in the file (default 320; a multiple of 32)\n";

int run(int argc, char ** argv) {
    std::string onnx_path, out, out_int8, commit_file;
    std::vector<std::string> calib;
    int size = 320, float_tail = 2;
    fer::calibration_method method = fer::calibration_method::mse;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw fer::usage_error(a + " needs a value\n" + k_usage);
            }
            return argv[++i];
        };
        if (a == "--onnx") {
            onnx_path = value();
        } else if (a == "--out") {
            out = value();
        } else if (a == "--out-int8") {
            out_int8 = value();
        } else if (a == "--calibration") {
            calib.push_back(value());
        } else if (a == "--source-commit") {
            commit_file = value();
        } else if (a == "--float-tail") {
            const std::string v = value();
            float_tail = std::atoi(v.c_str());
            if (float_tail < 0 || float_tail > 8 || v.find_first_not_of("0123456789") != std::string::npos) {
                throw fer::usage_error("--float-tail " + v + ": a number from 0 to 8 is needed");
            }
        } else if (a == "--calibration-method") {
            const std::string v = value();
            if (v != "mse" && v != "minmax") {
                throw fer::usage_error("--calibration-method " + v + ": mse or minmax");
            }
            method = v == "mse" ? fer::calibration_method::mse : fer::calibration_method::minmax;
        } else if (a == "--size") {
            const std::string v = value();
            size = std::atoi(v.c_str());
            if (size < 32 || size % 32 || size > 4096) {
                throw fer::usage_error("--size " + v + ": a multiple of 32 from 32 to 4096 is needed");
            }
        } else if (a == "--help" || a == "-h") {
            std::fputs(k_usage, stdout);
            return 0;
        } else {
            throw fer::usage_error("unknown argument '" + a + "'\n" + k_usage);
        }
    }
    if (onnx_path.empty() || out.empty()) {
        throw fer::usage_error(std::string("--onnx and --out are required\n") + k_usage);
    }
    if (!out_int8.empty() && calib.empty()) {
        throw fer::usage_error("--out-int8 needs at least one --calibration photo or folder");
    }
    if (commit_file.empty()) {
        const size_t slash = onnx_path.find_last_of('/');
        commit_file = (slash == std::string::npos ? std::string() : onnx_path.substr(0, slash + 1)) + "SOURCE-COMMIT";
    }

    const fer::onnx::model m = fer::onnx::read_model_file(onnx_path);
    std::vector<std::string> notes;
    fer::tfl_model f = fer::yunet_to_tflite(m, onnx_path, commit_file, size, &notes);
    for (const auto & n : notes) {
        std::printf("note: %s\n", n.c_str());
    }
    fer::write_file_atomic(out, fer::tflite_serialize(f));
    std::printf("%s: %zu ops (%s), %zu tensors\n", out.c_str(), f.ops.size(), fer::tflite_op_list(f).c_str(),
                f.tensors.size());
    if (out_int8.empty()) {
        return 0;
    }
    const std::vector<std::vector<float>> inputs = fer::load_calibration_inputs(calib, size, size);
    std::printf("calibration: %zu inputs (each photo whole and its centre square), letterboxed to %dx%d BGR\n",
                inputs.size(), size, size);
    const auto ranges = fer::calibrate_tflite(f, inputs, method);
    const fer::tfl_model q = fer::quantize_tflite_int8(f, ranges, true, float_tail);
    fer::write_file_atomic(out_int8, fer::tflite_serialize(q));
    std::printf("%s: %zu ops (%s)\n", out_int8.c_str(), q.ops.size(), fer::tflite_op_list(q).c_str());
    return 0;
}

}  // namespace

int main(int argc, char ** argv) {
    try {
        return run(argc, argv);
    } catch (const fer::error & e) {
        std::fprintf(stderr, "fer-convert-yunet: %s\n", e.what());
        return static_cast<int>(e.kind());
    } catch (const std::exception & e) {
        std::fprintf(stderr, "fer-convert-yunet: %s\n", e.what());
        return 3;
    }
}
