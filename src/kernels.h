// Reference kernels (float32, NHWC, TFLite semantics). Readable loops, the
// twins every optimised variant is tested against. Shapes were validated at
// model load; the kernels do not re-check them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fer_rt {

enum activation : int { act_none = 0, act_relu = 1, act_relu_n1_to_1 = 2, act_relu6 = 3 };

struct conv_params {
    int n = 1, in_h = 0, in_w = 0, in_c = 0;
    int out_h = 0, out_w = 0, out_c = 0;
    int k_h = 0, k_w = 0;
    int stride_h = 1, stride_w = 1;
    int dil_h = 1, dil_w = 1;
    int pad_top = 0, pad_left = 0;
    int depth_multiplier = 1;  // depthwise only
    int act = act_none;
};

struct pool_params {
    int n = 1, in_h = 0, in_w = 0, c = 0;
    int out_h = 0, out_w = 0;
    int f_h = 0, f_w = 0;
    int stride_h = 1, stride_w = 1;
    int pad_top = 0, pad_left = 0;
    int act = act_none;
};

// Output size and leading padding of a window op (TFLite's SAME/VALID rules).
void fer_window_geometry(int in, int k, int stride, int dilation, bool same, int * out, int * pad_before);

// weights OHWI [out_c, k_h, k_w, in_c]; bias [out_c] or null
void fer_conv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out);
// weights 1HWC [1, k_h, k_w, in_c * depth_multiplier]
void fer_dwconv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out);
void fer_maxpool2d_f32__ref(const pool_params & p, const float * in, float * out);
// divides by the number of window cells inside the input (TFLite)
void fer_avgpool2d_f32__ref(const pool_params & p, const float * in, float * out);
// Mean over the axes set in `axes_mask` (bit i = axis i) of a tensor of rank <= 4.
void fer_mean_f32__ref(const int * dims, int rank, unsigned axes_mask, const float * in, float * out);
void fer_add_f32__ref(size_t n, const float * a, const float * b, int act, float * out);
// weights [n_out, n_in]; in [batch, n_in]
void fer_fc_f32__ref(int batch, int n_in, int n_out, const float * in, const float * w, const float * bias, int act,
                     float * out);
// along the last axis of [rows, n]
void fer_softmax_f32__ref(int rows, int n, float beta, const float * in, float * out);

}  // namespace fer_rt
