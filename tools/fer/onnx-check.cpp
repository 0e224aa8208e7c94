#include "onnx-check.h"

#include "error.h"

#include <opencv2/dnn.hpp>

#include <algorithm>
#include <cmath>

namespace fer {

onnx_parity onnx_opencv_parity(const std::string & onnx_bytes, const fer_model * runtime_model, const dataset & d) {
    onnx_parity r;
    cv::dnn::Net net;
    try {
        net = cv::dnn::readNetFromONNX(onnx_bytes.data(), onnx_bytes.size());
        net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
        net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    } catch (const cv::Exception & e) {
        throw input_error(std::string("OpenCV cannot read the ONNX file: ") + e.what());
    }
    fer_context * ctx = fer_context_new(runtime_model);
    if (!ctx) {
        throw runtime_error("export: out of memory");
    }
    const size_t batch = 64;
    for (size_t from = 0; from < d.size(); from += batch) {
        const int n = static_cast<int>(std::min(batch, d.size() - from));
        const int shape[4] = {n, 1, FER_INPUT_SIZE, FER_INPUT_SIZE};
        cv::Mat blob(4, shape, CV_32F);
        float * x = blob.ptr<float>();
        const size_t px = FER_INPUT_SIZE * FER_INPUT_SIZE;
        for (size_t i = 0; i < static_cast<size_t>(n) * px; ++i) {
            x[i] = (static_cast<float>(d.image(from + i / px)[i % px]) - FER_PIXEL_MEAN) / FER_PIXEL_STD;
        }
        cv::Mat probs;
        try {
            net.setInput(blob, "input");
            probs = net.forward("probabilities");
        } catch (const cv::Exception & e) {
            fer_context_free(ctx);
            throw input_error(std::string("OpenCV cannot run the ONNX file: ") + e.what());
        }
        for (int i = 0; i < n; ++i) {
            fer_result res;
            if (fer_classify(ctx, d.image(from + static_cast<size_t>(i)), FER_INPUT_SIZE, &res) != FER_OK) {
                fer_context_free(ctx);
                throw runtime_error("export: the runtime failed to classify face " + std::to_string(from + i));
            }
            const float * p = probs.ptr<float>(i);
            int top = 0;
            for (int k = 0; k < FER_N_CLASSES; ++k) {
                r.max_abs = std::max(r.max_abs, static_cast<double>(std::fabs(p[k] - res.probabilities[k])));
                top = p[k] > p[top] ? k : top;
            }
            r.top_mismatch += top != res.top_class;
            r.correct += top == d.labels[from + static_cast<size_t>(i)];
        }
    }
    r.n = d.size();
    fer_context_free(ctx);
    return r;
}

}  // namespace fer
