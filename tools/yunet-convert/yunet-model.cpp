#include "yunet-model.h"

#include "error.h"
#include "onnx-to-tflite.h"

#include <fstream>
#include <sstream>

namespace fer {

const char * const k_yunet_outputs[12] = {"cls_8",  "cls_16",  "cls_32",  "obj_8", "obj_16", "obj_32",
                                          "bbox_8", "bbox_16", "bbox_32", "kps_8", "kps_16", "kps_32"};

int yunet_output_channels(int k) {
    static const int c[4] = {1, 1, 4, 10};
    return c[k / 3];
}

int yunet_output_stride(int k) { return 8 << (k % 3); }

namespace {

std::string first_line(const std::string & path) {
    std::ifstream f(path);
    std::string line;
    if (!f || !std::getline(f, line) || line.empty()) {
        throw input_error(path + ": cannot read the weights' source commit (SOURCE-COMMIT: '<sha> <date>')");
    }
    return line;
}

std::string base_name(const std::string & path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

tfl_model yunet_to_tflite(const onnx::model & m, const std::string & onnx_path, const std::string & commit_file,
                          int size, std::vector<std::string> * notes) {
    const std::string commit = first_line(commit_file);
    onnx_convert_options opt;
    opt.what = onnx_path;
    opt.input_height = opt.input_width = size;
    tfl_model t = onnx_to_tflite(m, opt, notes);

    // Outputs in the order the runtime expects (the ONNX file lists them so
    // too, but the check costs nothing and names what differs).
    std::vector<int32_t> outs;
    for (int k = 0; k < 12; ++k) {
        int32_t found = -1;
        for (int32_t o : t.outputs) {
            if (t.tensors[static_cast<size_t>(o)].name == k_yunet_outputs[k]) {
                found = o;
            }
        }
        if (found < 0) {
            throw input_error(onnx_path + ": graph output '" + k_yunet_outputs[k] + "' is missing: not YuNet's layout");
        }
        const int s = yunet_output_stride(k);
        const std::vector<int32_t> want = {1, size / s, size / s, yunet_output_channels(k)};
        if (t.tensors[static_cast<size_t>(found)].shape != want) {
            throw input_error(onnx_path + ": output '" + k_yunet_outputs[k] + "' does not have the shape [1, " +
                              std::to_string(size / s) + ", " + std::to_string(size / s) + ", " +
                              std::to_string(yunet_output_channels(k)) + "]");
        }
        outs.push_back(found);
    }
    if (t.outputs.size() != 12) {
        throw input_error(onnx_path + ": " + std::to_string(t.outputs.size()) + " graph outputs, YuNet has 12");
    }
    t.outputs = outs;

    std::ostringstream info;
    info << "format=fer-tflite 1\n"
         << "model=yunet-n\n"
         << "task=face_detector\n"
         << "detector=yunet\n"
         << "precision=float32\n"
         << "input=bgr\n"
         << "input_format=1x" << size << "x" << size << "x3 NHWC float32, B, G, R in 0..255, no normalisation\n"
         << "input_height=" << size << "\n"
         << "input_width=" << size << "\n"
         << "input_channels=3\n"
         << "strides=8,16,32\n"
         << "outputs=cls_8,cls_16,cls_32,obj_8,obj_16,obj_32,bbox_8,bbox_16,bbox_32,kps_8,kps_16,kps_32"
            " ([1, H/stride, W/stride, C], C = 1, 1, 4, 10; cls and obj after LOGISTIC)\n"
         << "licence=Apache-2.0; converted from YuNet weights, Copyright (c) 2022 Shiqi Yu and 2018-2023 "
            "OpenMMLab; notice and licence text in models/LICENSE-yunet\n"
         << "source=" << base_name(onnx_path) << " (ShiqiYu/libfacedetection.train " << commit << ")\n"
         << "converter=fer-convert-yunet (tools/yunet-convert)\n";
    t.metadata = {{fer::k_meta_info, info.str()}};
    t.description = "fer yunet-n: face detector (YuNet, Apache-2.0), float32";
    return t;
}

}  // namespace fer
