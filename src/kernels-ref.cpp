#include "kernels.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace fer_rt {

namespace {

// Every (output pixel, output channel) of a convolution in NHWC order, each
// with its kernel taps that fall inside the input (padding contributes
// nothing), in the order ky, kx. visit(o_index, oc, taps) is called once per
// output value; taps(tap) calls tap(x, t) for each of them, x the input pixel's
// first channel and t = ky * k_w + kx.
template <class T, class Visit>
void for_each_output(const conv_params & p, const T * in, Visit && visit) {
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                const size_t o = ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c;
                auto taps = [&](auto && tap) { for_each_window_tap(p, in, b, oy, ox, tap); };
                for (int oc = 0; oc < p.out_c; ++oc) {
                    visit(o + static_cast<size_t>(oc), oc, taps);
                }
            }
        }
    }
}

// Every output value of a pooling (NHWC), with the window cells inside the
// input: visit(o_index, cells), where cells(cell) calls cell(x) with x the
// input pixel's channel of that output, in the order fy, fx.
template <class T, class Visit>
void for_each_pooled(const pool_params & p, const T * in, Visit && visit) {
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                const int y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
                const size_t o = ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.c;
                for (int c = 0; c < p.c; ++c) {
                    visit(o + static_cast<size_t>(c), [&](auto && cell) {
                        for (int iy = y0 < 0 ? 0 : y0; iy < y0 + p.f_h && iy < p.in_h; ++iy) {
                            for (int ix = x0 < 0 ? 0 : x0; ix < x0 + p.f_w && ix < p.in_w; ++ix) {
                                cell(in[((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * p.c + c]);
                            }
                        }
                    });
                }
            }
        }
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
    for_each_output(p, in, [&](size_t o, int oc, auto && taps) {
        float acc = bias ? bias[oc] : 0.0f;
        taps([&](const float * x, int t) {
            const float * k = w + (static_cast<size_t>(oc) * p.k_h * p.k_w + static_cast<size_t>(t)) * p.in_c;
            for (int ic = 0; ic < p.in_c; ++ic) {
                acc += x[ic] * k[ic];
            }
        });
        out[o] = activate_f32(acc, p.act);
    });
}

void fer_dwconv2d_f32__ref(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    for_each_output(p, in, [&](size_t o, int oc, auto && taps) {
        const int ic = oc / p.depth_multiplier;
        float acc = bias ? bias[oc] : 0.0f;
        taps([&](const float * x, int t) { acc += x[ic] * w[static_cast<size_t>(t) * p.out_c + oc]; });
        out[o] = activate_f32(acc, p.act);
    });
}

namespace {

template <bool is_max>
void pool(const pool_params & p, const float * in, float * out) {
    for_each_pooled(p, in, [&](size_t o, auto && cells) {
        float acc = is_max ? -FLT_MAX : 0.0f;
        int count = 0;
        cells([&](float v) {
            if (is_max) {
                acc = v > acc ? v : acc;
            } else {
                acc += v;
            }
            ++count;
        });
        if (!is_max) {
            acc = count ? acc / static_cast<float>(count) : 0.0f;
        }
        out[o] = activate_f32(acc, p.act);
    });
}

}  // namespace

void fer_conv2d_pack_f32(const conv_params & p, const float * w_ohwi, const float * bias, float * w_packed,
                         float * bias_padded) {
    const int oc_pad = conv_padded_channels(p.out_c);
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            for (int ic = 0; ic < p.in_c; ++ic) {
                float * row = w_packed + ((static_cast<size_t>(ky) * p.k_w + kx) * p.in_c + ic) * oc_pad;
                for (int oc = 0; oc < oc_pad; ++oc) {
                    row[oc] = oc < p.out_c ? w_ohwi[((static_cast<size_t>(oc) * p.k_h + ky) * p.k_w + kx) * p.in_c + ic]
                                           : 0.0f;
                }
            }
        }
    }
    for (int oc = 0; oc < oc_pad; ++oc) {
        bias_padded[oc] = (bias && oc < p.out_c) ? bias[oc] : 0.0f;
    }
}

namespace {

// The int8 packings' bias (or zeros) and requantisation scales, padded with
// zeros to oc_pad output channels.
void pad_bias_and_scales(int out_c, int oc_pad, const int32_t * bias, const float * scale, int32_t * bias_padded,
                         float * scale_padded) {
    for (int oc = 0; oc < oc_pad; ++oc) {
        bias_padded[oc] = (bias && oc < out_c) ? bias[oc] : 0;
        scale_padded[oc] = oc < out_c ? scale[oc] : 0.0f;
    }
}

}  // namespace

void fer_conv2d_pack_s8(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias, const float * scale,
                        int16_t * w_packed, int32_t * bias_padded, float * scale_padded) {
    const int oc_pad = conv_padded_channels(p.out_c), n_icp = (p.in_c + 1) / 2;
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            for (int icp = 0; icp < n_icp; ++icp) {
                int16_t * row = w_packed + ((static_cast<size_t>(ky) * p.k_w + kx) * n_icp + icp) * oc_pad * 2;
                for (int oc = 0; oc < oc_pad; ++oc) {
                    for (int j = 0; j < 2; ++j) {
                        const int ic = 2 * icp + j;
                        row[2 * oc + j] = (oc < p.out_c && ic < p.in_c)
                            ? w_ohwi[((static_cast<size_t>(oc) * p.k_h + ky) * p.k_w + kx) * p.in_c + ic]
                            : 0;
                    }
                }
            }
        }
    }
    pad_bias_and_scales(p.out_c, oc_pad, bias, scale, bias_padded, scale_padded);
}

void fer_conv2d_pack_s8_vnni(const conv_params & p, int in_zp, const int8_t * w_ohwi, const int32_t * bias,
                             const float * scale, int8_t * w_packed, int32_t * bias_padded, float * scale_padded) {
    const int oc_pad = conv_padded_channels(p.out_c), words = (p.in_c + 3) / 4;
    for (int oc = 0; oc < oc_pad; ++oc) {
        int64_t sum_w = 0;
        for (int ky = 0; ky < p.k_h; ++ky) {
            for (int kx = 0; kx < p.k_w; ++kx) {
                for (int k = 0; k < words; ++k) {
                    int8_t * quad = w_packed + (((static_cast<size_t>(ky) * p.k_w + kx) * words + k) * oc_pad + oc) * 4;
                    for (int j = 0; j < 4; ++j) {
                        const int ic = 4 * k + j;
                        quad[j] = (oc < p.out_c && ic < p.in_c)
                            ? w_ohwi[((static_cast<size_t>(oc) * p.k_h + ky) * p.k_w + kx) * p.in_c + ic]
                            : 0;
                        sum_w += quad[j];
                    }
                }
            }
        }
        const int64_t b = (bias && oc < p.out_c) ? bias[oc] : 0;
        bias_padded[oc] = static_cast<int32_t>(b - (128 + static_cast<int64_t>(in_zp)) * sum_w);
        scale_padded[oc] = oc < p.out_c ? scale[oc] : 0.0f;
    }
}

bool fer_conv2d_s8_row_runs(const conv_params & p, conv_params * runs) {
    if (p.in_c % 2 == 0 || p.dil_w != 1 || (p.stride_w * p.in_c) % 2 || (p.pad_left * p.in_c) % 2 ||
        (p.in_w * p.in_c) % 2 || p.k_w * p.in_c > 64) {
        return false;
    }
    *runs = p;
    runs->in_c = 2;
    runs->in_w = p.in_w * p.in_c / 2;
    runs->k_w = (p.k_w * p.in_c + 1) / 2;
    runs->stride_w = p.stride_w * p.in_c / 2;
    runs->pad_left = p.pad_left * p.in_c / 2;
    return true;
}

void fer_conv2d_s8_row_run_weights(const conv_params & p, const conv_params & runs, const int8_t * w_ohwi,
                                   int8_t * w_runs) {
    const int row = p.k_w * p.in_c, run_row = runs.k_w * runs.in_c;  // values of one kernel row
    for (int oc = 0; oc < p.out_c; ++oc) {
        for (int ky = 0; ky < p.k_h; ++ky) {
            const int8_t * src = w_ohwi + (static_cast<size_t>(oc) * p.k_h + ky) * row;  // (kx, c) is one run
            int8_t * dst = w_runs + (static_cast<size_t>(oc) * p.k_h + ky) * run_row;
            for (int v = 0; v < run_row; ++v) {
                dst[v] = v < row ? src[v] : 0;
            }
        }
    }
}

bool fer_conv2d_pack_s8_pairs(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias, const float * scale,
                              conv_params * tiles, std::vector<int16_t> * w_packed, std::vector<int32_t> * bias_padded,
                              std::vector<float> * scale_padded) {
    *tiles = p;
    std::vector<int8_t> w_runs;
    const bool runs = fer_conv2d_s8_row_runs(p, tiles);
    if (runs) {
        w_runs.resize(static_cast<size_t>(p.out_c) * static_cast<size_t>(p.k_h) * static_cast<size_t>(tiles->k_w) *
                      static_cast<size_t>(tiles->in_c));
        fer_conv2d_s8_row_run_weights(p, *tiles, w_ohwi, w_runs.data());
        w_ohwi = w_runs.data();
    }
    const conv_params & t = *tiles;
    const size_t oc_pad = static_cast<size_t>(conv_padded_channels(t.out_c));
    w_packed->assign(static_cast<size_t>(t.k_h) * static_cast<size_t>(t.k_w) * static_cast<size_t>((t.in_c + 1) / 2) *
                         oc_pad * 2,
                     0);
    bias_padded->assign(oc_pad, 0);
    scale_padded->assign(oc_pad, 0.0f);
    fer_conv2d_pack_s8(t, w_ohwi, bias, scale, w_packed->data(), bias_padded->data(), scale_padded->data());
    return runs;
}

void fer_conv2d_s8_window(const conv_params & p, int * rows, int * cols) {
    *rows = (p.out_h - 1) * p.stride_h + (p.k_h - 1) * p.dil_h + 1;
    *cols = (p.out_w - 1) * p.stride_w + (p.k_w - 1) * p.dil_w + 1;
}

size_t fer_conv2d_s8_scratch(const conv_params & p, int channels_per_word) {
    int rows = 0, cols = 0;
    fer_conv2d_s8_window(p, &rows, &cols);
    return static_cast<size_t>(rows) * static_cast<size_t>(cols) *
           static_cast<size_t>((p.in_c + channels_per_word - 1) / channels_per_word);
}

bool fer_conv2d_s8_winograd_fits(const conv_params & p) {
    return p.k_h == 3 && p.k_w == 3 && p.stride_h == 1 && p.stride_w == 1 && p.dil_h == 1 && p.dil_w == 1 &&
           p.in_c >= 8 && p.in_c <= fer_conv2d_s8_winograd_max_in_c;
}

fer_winograd_geometry fer_conv2d_s8_winograd_geometry(const conv_params & p) {
    fer_winograd_geometry g{};
    g.words = (p.in_c + 1) / 2;
    g.tiles_h = (p.out_h + 1) / 2;
    g.tiles_w = (p.out_w + 1) / 2;
    g.rows = 2 * g.tiles_h + 2;
    g.cols = 2 * g.tiles_w + 2;
    // bands of whole tile rows whose transformed inputs take about 128 KiB
    const size_t row_words = static_cast<size_t>(16) * static_cast<size_t>(g.tiles_w) * static_cast<size_t>(g.words);
    const size_t band_rows = std::max<size_t>(1, (size_t{128} << 10) / 4 / row_words);
    g.band_tiles = static_cast<int>(std::min<size_t>(band_rows, static_cast<size_t>(g.tiles_h))) * g.tiles_w;
    g.window_words = static_cast<size_t>(g.rows) * static_cast<size_t>(g.cols) * static_cast<size_t>(g.words);
    // and the words of fer_conv2d_s8_winograd_max_tile_px - 1 spare tiles after the last element's,
    // which a last group of tiles may read (conv-s8-winograd.h, wino_block)
    g.band_words = (static_cast<size_t>(16) * static_cast<size_t>(g.band_tiles) +
                    static_cast<size_t>(fer_conv2d_s8_winograd_max_tile_px - 1)) *
                   static_cast<size_t>(g.words);
    g.products_words = static_cast<size_t>(fer_conv2d_s8_winograd_block_tiles) * 16 * fer_conv2d_s8_winograd_max_block;
    return g;
}

size_t fer_conv2d_s8_winograd_scratch(const conv_params & p) {
    const fer_winograd_geometry g = fer_conv2d_s8_winograd_geometry(p);
    return g.window_words + g.band_words + g.products_words;
}

void fer_conv2d_pack_s8_winograd(const conv_params & p, const int8_t * w_ohwi, const int32_t * bias,
                                 const float * scale, std::vector<int16_t> * u_packed,
                                 std::vector<int32_t> * bias_padded, std::vector<float> * scale_padded) {
    const int oc_pad = conv_padded_channels(p.out_c), words = (p.in_c + 1) / 2;
    static const int gp[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};  // G' = 2 G
    u_packed->assign(static_cast<size_t>(16) * static_cast<size_t>(words) * static_cast<size_t>(oc_pad) * 2, 0);
    for (int oc = 0; oc < p.out_c; ++oc) {
        for (int ic = 0; ic < p.in_c; ++ic) {
            int g[3][3];
            for (int ky = 0; ky < 3; ++ky) {
                for (int kx = 0; kx < 3; ++kx) {
                    g[ky][kx] = w_ohwi[((static_cast<size_t>(oc) * 3 + ky) * 3 + kx) * p.in_c + ic];
                }
            }
            for (int i = 0; i < 4; ++i) {
                for (int j = 0; j < 4; ++j) {
                    int u = 0;  // (G' g G'^T)[i][j], at most 9 x 128 in magnitude
                    for (int ky = 0; ky < 3; ++ky) {
                        for (int kx = 0; kx < 3; ++kx) {
                            u += gp[i][ky] * g[ky][kx] * gp[j][kx];
                        }
                    }
                    const size_t at = ((static_cast<size_t>(4 * i + j) * words + ic / 2) * oc_pad + oc) * 2 + ic % 2;
                    (*u_packed)[at] = static_cast<int16_t>(u);
                }
            }
        }
    }
    bias_padded->resize(static_cast<size_t>(oc_pad));
    scale_padded->resize(static_cast<size_t>(oc_pad));
    pad_bias_and_scales(p.out_c, oc_pad, bias, scale, bias_padded->data(), scale_padded->data());
}

void fer_maxpool2d_f32__ref(const pool_params & p, const float * in, float * out) { pool<true>(p, in, out); }
void fer_avgpool2d_f32__ref(const pool_params & p, const float * in, float * out) { pool<false>(p, in, out); }

namespace {

// MEAN's shapes padded to rank 4: input d, output od (1 on reduced axes, which
// the output keeps in order), output size and cells averaged per output.
struct mean_shape {
    int d[4] = {1, 1, 1, 1};
    int od[4] = {1, 1, 1, 1};
    size_t n_out = 1;
    size_t count = 1;
};

mean_shape make_mean_shape(const int * dims, int rank, unsigned axes_mask) {
    mean_shape m;
    const int shift = 4 - rank;
    for (int i = 0; i < rank; ++i) {
        m.d[shift + i] = dims[i];
        const bool reduced = (axes_mask & (1u << i)) != 0;
        m.od[shift + i] = reduced ? 1 : dims[i];
        m.n_out *= static_cast<size_t>(m.od[shift + i]);
        m.count *= reduced ? static_cast<size_t>(dims[i]) : 1u;
    }
    return m;
}

}  // namespace

void fer_mean_f32__ref(const int * dims, int rank, unsigned axes_mask, const float * in, float * out) {
    // Walk every input element once, accumulating into its output cell.
    const mean_shape m = make_mean_shape(dims, rank, axes_mask);
    const int * d = m.d;
    const int * od = m.od;
    const size_t n_out = m.n_out, count = m.count;
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
        out[i] = activate_f32(a[i] + b[i], act);
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
            out[static_cast<size_t>(b) * n_out + o] = activate_f32(acc, act);
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

// ---------------------------------------------------------------------------
// int8
// ---------------------------------------------------------------------------

#include <climits>
#include <cstdint>

namespace fer_rt {

void fer_quantize_multiplier(double m, int32_t * q, int * shift) {
    if (m == 0.0) {
        *q = 0;
        *shift = 0;
        return;
    }
    const double frac = std::frexp(m, shift);  // m = frac * 2^shift, frac in [0.5, 1)
    int64_t fixed = static_cast<int64_t>(std::round(frac * static_cast<double>(1ll << 31)));
    if (fixed == (1ll << 31)) {
        fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        fixed = 0;
    }
    *q = static_cast<int32_t>(fixed);
}

namespace {

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
    const bool overflow = a == b && a == INT32_MIN;
    const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    const int32_t high = static_cast<int32_t>((ab + nudge) / (1ll << 31));
    return overflow ? INT32_MAX : high;
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
    const int32_t mask = static_cast<int32_t>((1ll << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

inline int8_t clamp8(int32_t v, int32_t lo, int32_t hi) {
    return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace

int32_t fer_multiply_by_quantized_multiplier(int32_t x, int32_t q, int shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(static_cast<int32_t>(
                                      static_cast<int64_t>(x) * (1ll << left)), q), right);
}

void fer_conv2d_s8__ref(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                        const int32_t * bias, int8_t * out) {
    for_each_output(p, in, [&](size_t o, int oc, auto && taps) {
        int32_t acc = 0;
        taps([&](const int8_t * x, int t) {
            const int8_t * k = w + (static_cast<size_t>(oc) * p.k_h * p.k_w + static_cast<size_t>(t)) * p.in_c;
            for (int ic = 0; ic < p.in_c; ++ic) {
                acc += (static_cast<int32_t>(x[ic]) - q.in_zp) * static_cast<int32_t>(k[ic]);
            }
        });
        if (bias) {
            acc += bias[oc];
        }
        out[o] = fer_requantize_s8(acc, q.scale[oc], q);
    });
}

void fer_dwconv2d_s8__ref(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                          const int32_t * bias, int8_t * out) {
    for_each_output(p, in, [&](size_t o, int oc, auto && taps) {
        const int ic = oc / p.depth_multiplier;
        int32_t acc = 0;
        taps([&](const int8_t * x, int t) {
            acc += (static_cast<int32_t>(x[ic]) - q.in_zp) * static_cast<int32_t>(w[static_cast<size_t>(t) * p.out_c + oc]);
        });
        if (bias) {
            acc += bias[oc];
        }
        out[o] = fer_requantize_s8(acc, q.scale[oc], q);
    });
}

void fer_fc_s8__ref(int batch, int n_in, int n_out, const quant_params & q, const int8_t * in, const int8_t * w,
                    const int32_t * bias, int8_t * out) {
    for (int b = 0; b < batch; ++b) {
        const int8_t * x = in + static_cast<size_t>(b) * n_in;
        for (int o = 0; o < n_out; ++o) {
            const int8_t * k = w + static_cast<size_t>(o) * n_in;
            int32_t acc = 0;
            for (int i = 0; i < n_in; ++i) {
                acc += (static_cast<int32_t>(x[i]) - q.in_zp) * static_cast<int32_t>(k[i]);
            }
            if (bias) {
                acc += bias[o];
            }
            out[static_cast<size_t>(b) * n_out + o] = fer_requantize_s8(acc, q.scale[o], q);
        }
    }
}

namespace {

void avgpool_s8(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out) {
    for_each_pooled(p, in, [&](size_t o, auto && cells) {
        int32_t acc = 0;
        int32_t count = 0;
        cells([&](int32_t v) {
            acc += v;
            ++count;
        });
        // round half away from zero
        acc = count == 0 ? 0 : (acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count);
        out[o] = clamp8(acc, act_min, act_max);
    });
}

}  // namespace

// Max pooling walks the channels innermost, in the output row itself (the max
// of int8 values is an int8), so compilers vectorise the loop: 5-6x faster
// than the channel-outer order of avgpool_s8, with the same output.
void fer_maxpool2d_s8__ref(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out) {
    const size_t c_n = static_cast<size_t>(p.c);
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                int8_t * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * c_n;
                for (size_t c = 0; c < c_n; ++c) {
                    o[c] = -128;
                }
                const int y0 = oy * p.stride_h - p.pad_top, x0 = ox * p.stride_w - p.pad_left;
                for (int iy = y0 < 0 ? 0 : y0; iy < y0 + p.f_h && iy < p.in_h; ++iy) {
                    for (int ix = x0 < 0 ? 0 : x0; ix < x0 + p.f_w && ix < p.in_w; ++ix) {
                        const int8_t * x = in + ((static_cast<size_t>(b) * p.in_h + iy) * p.in_w + ix) * c_n;
                        for (size_t c = 0; c < c_n; ++c) {
                            o[c] = x[c] > o[c] ? x[c] : o[c];
                        }
                    }
                }
                for (size_t c = 0; c < c_n; ++c) {
                    o[c] = clamp8(o[c], act_min, act_max);
                }
            }
        }
    }
}

void fer_avgpool2d_s8__ref(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out) {
    avgpool_s8(p, act_min, act_max, in, out);
}

void fer_mean_s8__ref(const int * dims, int rank, unsigned axes_mask, int32_t in_zp, float in_scale, int32_t out_zp,
                      float out_scale, const int8_t * in, int8_t * out) {
    const mean_shape m = make_mean_shape(dims, rank, axes_mask);
    const int * d = m.d;
    const int * od = m.od;
    const int64_t count = static_cast<int64_t>(m.count);
    const float scale = in_scale / (out_scale * static_cast<float>(count));
    const float lo = static_cast<float>(-128 - out_zp), hi = static_cast<float>(127 - out_zp);
    // Walk the output cells; each sums (q - in_zp) over its reduced window.
    for (int a = 0; a < od[0]; ++a) {
        for (int b = 0; b < od[1]; ++b) {
            for (int c = 0; c < od[2]; ++c) {
                for (int e = 0; e < od[3]; ++e) {
                    int64_t sum = 0;
                    for (int ra = 0; ra < (od[0] == 1 ? d[0] : 1); ++ra) {
                        for (int rb = 0; rb < (od[1] == 1 ? d[1] : 1); ++rb) {
                            for (int rc = 0; rc < (od[2] == 1 ? d[2] : 1); ++rc) {
                                for (int re = 0; re < (od[3] == 1 ? d[3] : 1); ++re) {
                                    const int ia = od[0] == 1 ? ra : a, ib = od[1] == 1 ? rb : b;
                                    const int ic = od[2] == 1 ? rc : c, ie = od[3] == 1 ? re : e;
                                    sum += in[((static_cast<size_t>(ia) * d[1] + ib) * d[2] + ic) * d[3] + ie] - in_zp;
                                }
                            }
                        }
                    }
                    float f = static_cast<float>(sum) * scale;
                    f = f < lo ? lo : (f > hi ? hi : f);
                    out[((static_cast<size_t>(a) * od[1] + b) * od[2] + c) * od[3] + e] =
                        static_cast<int8_t>(static_cast<int32_t>(std::lrintf(f)) + out_zp);
                }
            }
        }
    }
}

void fer_quantize_s8__ref(size_t n, float scale, int32_t zp, const float * in, int8_t * out) {
    for (size_t i = 0; i < n; ++i) {
        float v = std::round(in[i] / scale);  // half away from zero, as TfLiteRound
        if (v != v) {
            v = 0.0f;  // NaN (a broken model): any value, but no undefined conversion
        }
        const int32_t q = static_cast<int32_t>(v < -1e9f ? -1e9f : (v > 1e9f ? 1e9f : v)) + zp;
        out[i] = clamp8(q, -128, 127);
    }
}

void fer_scale_add_u8__ref(size_t n, const uint8_t * x, float w, bool first, float * acc) {
    if (first) {
        for (size_t i = 0; i < n; ++i) acc[i] = w * static_cast<float>(x[i]);
    } else {
        for (size_t i = 0; i < n; ++i) acc[i] += w * static_cast<float>(x[i]);
    }
}

void fer_dequantize_s8__ref(size_t n, float scale, int32_t zp, const int8_t * in, float * out) {
    for (size_t i = 0; i < n; ++i) {
        out[i] = scale * static_cast<float>(static_cast<int32_t>(in[i]) - zp);
    }
}

void fer_softmax_s8__ref(int rows, int n, float beta, float in_scale, const int8_t * in, int8_t * out) {
    for (int r = 0; r < rows; ++r) {
        const int8_t * x = in + static_cast<size_t>(r) * n;
        int32_t mx = x[0];
        for (int i = 1; i < n; ++i) {
            mx = x[i] > mx ? x[i] : mx;
        }
        double sum = 0.0;
        for (int i = 0; i < n; ++i) {
            sum += std::exp(static_cast<double>(beta) * in_scale * (x[i] - mx));
        }
        for (int i = 0; i < n; ++i) {
            const double p = std::exp(static_cast<double>(beta) * in_scale * (x[i] - mx)) / sum;
            out[static_cast<size_t>(r) * n + i] = clamp8(static_cast<int32_t>(std::round(p * 256.0)) - 128, -128, 127);
        }
    }
}

void fer_add_params_init(double s1, double s2, double s_out, add_params * p) {
    p->left_shift = 20;
    const double twice_max = 2.0 * (s1 > s2 ? s1 : s2);
    fer_quantize_multiplier(s1 / twice_max, &p->in1_mult, &p->in1_shift);
    fer_quantize_multiplier(s2 / twice_max, &p->in2_mult, &p->in2_shift);
    fer_quantize_multiplier(twice_max / (static_cast<double>(1 << p->left_shift) * s_out), &p->out_mult, &p->out_shift);
}

namespace {

// One ADD input's value rescaled to the common scale, (v - zp) << left_shift
// times its multiplier: what every int8 ADD kernel adds (the tables hold it
// per int8 value).
int32_t add_input_rescaled(int32_t v, int32_t zp, const add_params & p, int32_t mult, int shift) {
    return fer_multiply_by_quantized_multiplier((v - zp) * (1 << p.left_shift), mult, shift);
}

}  // namespace

void fer_add_s8__ref(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out) {
    for (size_t i = 0; i < n; ++i) {
        const int32_t s1 = add_input_rescaled(a[i], p.in1_zp, p, p.in1_mult, p.in1_shift);
        const int32_t s2 = add_input_rescaled(b[i], p.in2_zp, p, p.in2_mult, p.in2_shift);
        const int32_t v = fer_multiply_by_quantized_multiplier(s1 + s2, p.out_mult, p.out_shift) + p.out_zp;
        out[i] = clamp8(v, p.act_min, p.act_max);
    }
}

// Each input's rescaled value depends on its int8 value alone: 256 of each are
// computed per call (the reference's own function) and looked up per element,
// leaving one fixed-point multiply per element instead of three.
void fer_add_s8__lut(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out) {
    if (n < 1024) {
        fer_add_s8__ref(n, p, a, b, out);  // the tables would cost more than they save
        return;
    }
    int32_t s1[256], s2[256];
    for (int v = -128; v < 128; ++v) {
        s1[v + 128] = add_input_rescaled(v, p.in1_zp, p, p.in1_mult, p.in1_shift);
        s2[v + 128] = add_input_rescaled(v, p.in2_zp, p, p.in2_mult, p.in2_shift);
    }
    for (size_t i = 0; i < n; ++i) {
        const int32_t sum = s1[a[i] + 128] + s2[b[i] + 128];
        out[i] = clamp8(fer_multiply_by_quantized_multiplier(sum, p.out_mult, p.out_shift) + p.out_zp, p.act_min,
                        p.act_max);
    }
}

void fer_add_s8_table_init(const add_params & p, int8_t * table) {
    int32_t s2[256];
    for (int v = -128; v < 128; ++v) {
        s2[v + 128] = add_input_rescaled(v, p.in2_zp, p, p.in2_mult, p.in2_shift);
    }
    for (int x = -128; x < 128; ++x) {
        const int32_t s1 = add_input_rescaled(x, p.in1_zp, p, p.in1_mult, p.in1_shift);
        int8_t * row = table + static_cast<size_t>(x + 128) * 256;
        for (int y = 0; y < 256; ++y) {
            row[y] = clamp8(fer_multiply_by_quantized_multiplier(s1 + s2[y], p.out_mult, p.out_shift) + p.out_zp,
                            p.act_min, p.act_max);
        }
    }
}

void fer_add_s8__table(size_t n, const int8_t * table, const int8_t * a, const int8_t * b, int8_t * out) {
    for (size_t i = 0; i < n; ++i) {
        out[i] = table[(static_cast<size_t>(static_cast<uint8_t>(a[i]) ^ 0x80u) << 8) | (static_cast<uint8_t>(b[i]) ^ 0x80u)];
    }
}

}  // namespace fer_rt

namespace fer_rt {

void fer_logistic_f32__ref(size_t n, const float * in, float * out) {
    for (size_t i = 0; i < n; ++i) {
        out[i] = 1.0f / (1.0f + std::exp(-in[i]));
    }
}

void fer_resize_nearest__ref(int n, int in_h, int in_w, int c, int out_h, int out_w, size_t elem, const void * in,
                             void * out) {
    const uint8_t * src = static_cast<const uint8_t *>(in);
    uint8_t * dst = static_cast<uint8_t *>(out);
    const size_t pixel = static_cast<size_t>(c) * elem;
    for (int b = 0; b < n; ++b) {
        for (int y = 0; y < out_h; ++y) {
            // 64-bit: y * in_h may exceed int for large maps
            const int sy = static_cast<int>(static_cast<int64_t>(y) * in_h / out_h);
            const uint8_t * row = src + (static_cast<size_t>(b) * in_h + static_cast<size_t>(sy)) * in_w * pixel;
            for (int x = 0; x < out_w; ++x) {
                const int sx = static_cast<int>(static_cast<int64_t>(x) * in_w / out_w);
                std::memcpy(dst, row + static_cast<size_t>(sx) * pixel, pixel);
                dst += pixel;
            }
        }
    }
}

void fer_pad__ref(const int * dims, const int * before, const int * after, size_t elem, const void * fill,
                  const void * in, void * out) {
    int od[4];
    for (int k = 0; k < 4; ++k) {
        od[k] = dims[k] + before[k] + after[k];
    }
    const uint8_t * src = static_cast<const uint8_t *>(in);
    uint8_t * dst = static_cast<uint8_t *>(out);
    const size_t out_bytes = static_cast<size_t>(od[0]) * od[1] * od[2] * od[3] * elem;
    // The fill value everywhere: one element, then the filled part doubled.
    if (out_bytes > 0) {
        std::memcpy(dst, fill, elem);
        for (size_t done = elem; done < out_bytes;) {
            const size_t n = done < out_bytes - done ? done : out_bytes - done;
            std::memcpy(dst + done, dst, n);
            done += n;
        }
    }
    // Then the input, one run per input row (a whole row of pixels when the
    // channels are not padded, else one pixel's channels at a time).
    const size_t pixel = static_cast<size_t>(dims[3]) * elem;
    const bool whole_rows = before[3] == 0 && after[3] == 0;
    for (int b = 0; b < dims[0]; ++b) {
        for (int y = 0; y < dims[1]; ++y) {
            for (int x = 0; x < dims[2]; x += whole_rows ? dims[2] : 1) {
                const size_t o = (((static_cast<size_t>(b + before[0]) * od[1] + static_cast<size_t>(y + before[1])) *
                                       od[2] + static_cast<size_t>(x + before[2])) * od[3] + static_cast<size_t>(before[3])) *
                                 elem;
                const size_t i = ((static_cast<size_t>(b) * dims[1] + static_cast<size_t>(y)) * dims[2] +
                                  static_cast<size_t>(x)) * pixel;
                std::memcpy(dst + o, src + i, whole_rows ? pixel * static_cast<size_t>(dims[2]) : pixel);
            }
        }
    }
}

}  // namespace fer_rt
