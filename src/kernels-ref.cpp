#include "kernels.h"

#include <cfloat>
#include <cmath>

namespace fer_rt {

namespace {

inline float activate(float v, int act) {
    switch (act) {
    case act_relu: return v < 0.0f ? 0.0f : v;
    case act_relu6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case act_relu_n1_to_1: return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
    default: return v;
    }
}

}  // namespace

void fer_window_geometry(int in, int k, int stride, int dilation, bool same, int * out, int * pad_before) {
    const int eff = (k - 1) * dilation + 1;
    if (same) {
        *out = (in + stride - 1) / stride;
        const int total = (*out - 1) * stride + eff - in;
        *pad_before = total > 0 ? total / 2 : 0;
    } else {
        *out = in >= eff ? (in - eff) / stride + 1 : 0;
        *pad_before = 0;
    }
}

void fer_conv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c;
                for (int oc = 0; oc < p.out_c; ++oc) {
                    float acc = bias ? bias[oc] : 0.0f;
                    for (int ky = 0; ky < p.k_h; ++ky) {
                        const int iy = oy * p.stride_h - p.pad_top + ky * p.dil_h;
                        if (iy < 0 || iy >= p.in_h) {
                            continue;
                        }
                        for (int kx = 0; kx < p.k_w; ++kx) {
                            const int ix = ox * p.stride_w - p.pad_left + kx * p.dil_w;
                            if (ix < 0 || ix >= p.in_w) {
                                continue;
                            }
                            const float * x = in + ((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.in_c;
                            const float * k = w + ((static_cast<size_t>(oc) * p.k_h + ky) * p.k_w + kx) * p.in_c;
                            for (int ic = 0; ic < p.in_c; ++ic) {
                                acc += x[ic] * k[ic];
                            }
                        }
                    }
                    o[oc] = activate(acc, p.act);
                }
            }
        }
    }
}

void fer_dwconv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    const int m = p.depth_multiplier;
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c;
                for (int oc = 0; oc < p.out_c; ++oc) {
                    const int ic = oc / m;
                    float acc = bias ? bias[oc] : 0.0f;
                    for (int ky = 0; ky < p.k_h; ++ky) {
                        const int iy = oy * p.stride_h - p.pad_top + ky * p.dil_h;
                        if (iy < 0 || iy >= p.in_h) {
                            continue;
                        }
                        for (int kx = 0; kx < p.k_w; ++kx) {
                            const int ix = ox * p.stride_w - p.pad_left + kx * p.dil_w;
                            if (ix < 0 || ix >= p.in_w) {
                                continue;
                            }
                            acc += in[((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.in_c + ic] *
                                   w[(static_cast<size_t>(ky) * p.k_w + kx) * p.out_c + oc];
                        }
                    }
                    o[oc] = activate(acc, p.act);
                }
            }
        }
    }
}

namespace {

template <bool is_max>
void pool(const pool_params & p, const float * in, float * out) {
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                const int y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
                for (int c = 0; c < p.c; ++c) {
                    float acc = is_max ? -FLT_MAX : 0.0f;
                    int count = 0;
                    for (int fy = 0; fy < p.f_h; ++fy) {
                        const int iy = y0 + fy;
                        if (iy < 0 || iy >= p.in_h) {
                            continue;
                        }
                        for (int fx = 0; fx < p.f_w; ++fx) {
                            const int ix = x0 + fx;
                            if (ix < 0 || ix >= p.in_w) {
                                continue;
                            }
                            const float v = in[((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.c + c];
                            if (is_max) {
                                acc = v > acc ? v : acc;
                            } else {
                                acc += v;
                            }
                            ++count;
                        }
                    }
                    if (!is_max) {
                        acc = count ? acc / static_cast<float>(count) : 0.0f;
                    }
                    out[((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.c + c] = activate(acc, p.act);
                }
            }
        }
    }
}

}  // namespace

void fer_maxpool2d_f32__ref(const pool_params & p, const float * in, float * out) { pool<true>(p, in, out); }
void fer_avgpool2d_f32__ref(const pool_params & p, const float * in, float * out) { pool<false>(p, in, out); }

void fer_mean_f32__ref(const int * dims, int rank, unsigned axes_mask, const float * in, float * out) {
    // Pad to rank 4 and walk every input element once, accumulating into its
    // output cell (the output keeps the non-reduced axes in order).
    int d[4] = {1, 1, 1, 1};
    unsigned mask = 0;
    const int shift = 4 - rank;
    for (int i = 0; i < rank; ++i) {
        d[shift + i] = dims[i];
        if (axes_mask & (1u << i)) {
            mask |= 1u << (shift + i);
        }
    }
    int od[4];
    size_t n_out = 1, count = 1;
    for (int i = 0; i < 4; ++i) {
        od[i] = (mask & (1u << i)) ? 1 : d[i];
        n_out *= static_cast<size_t>(od[i]);
        if (mask & (1u << i)) {
            count *= static_cast<size_t>(d[i]);
        }
    }
    for (size_t i = 0; i < n_out; ++i) {
        out[i] = 0.0f;
    }
    size_t idx = 0;
    for (int a = 0; a < d[0]; ++a) {
        for (int b = 0; b < d[1]; ++b) {
            for (int c = 0; c < d[2]; ++c) {
                for (int e = 0; e < d[3]; ++e, ++idx) {
                    const size_t o = ((static_cast<size_t>(od[0] == 1 ? 0 : a) * od[1] + (od[1] == 1 ? 0 : b)) * od[2] +
                                      (od[2] == 1 ? 0 : c)) * od[3] + (od[3] == 1 ? 0 : e);
                    out[o] += in[idx];
                }
            }
        }
    }
    const float inv = 1.0f / static_cast<float>(count);
    for (size_t i = 0; i < n_out; ++i) {
        out[i] *= inv;
    }
}

void fer_add_f32__ref(size_t n, const float * a, const float * b, int act, float * out) {
    for (size_t i = 0; i < n; ++i) {
        out[i] = activate(a[i] + b[i], act);
    }
}

void fer_fc_f32__ref(int batch, int n_in, int n_out, const float * in, const float * w, const float * bias, int act,
                     float * out) {
    for (int b = 0; b < batch; ++b) {
        const float * x = in + static_cast<size_t>(b) * n_in;
        for (int o = 0; o < n_out; ++o) {
            const float * k = w + static_cast<size_t>(o) * n_in;
            float acc = bias ? bias[o] : 0.0f;
            for (int i = 0; i < n_in; ++i) {
                acc += x[i] * k[i];
            }
            out[static_cast<size_t>(b) * n_out + o] = activate(acc, act);
        }
    }
}

void fer_softmax_f32__ref(int rows, int n, float beta, const float * in, float * out) {
    for (int r = 0; r < rows; ++r) {
        const float * x = in + static_cast<size_t>(r) * n;
        float * y = out + static_cast<size_t>(r) * n;
        float mx = x[0];
        for (int i = 1; i < n; ++i) {
            mx = x[i] > mx ? x[i] : mx;
        }
        float sum = 0.0f;
        for (int i = 0; i < n; ++i) {
            y[i] = std::exp((x[i] - mx) * beta);
            sum += y[i];
        }
        const float inv = 1.0f / sum;
        for (int i = 0; i < n; ++i) {
            y[i] *= inv;
        }
    }
}

}  // namespace fer_rt
