// AVX2 + FMA variants of the hottest float32 kernels. Compiled with -mavx2
// -mfma for this file only (src/CMakeLists.txt) and called only when the CPU
// has both (checked once, src/model.cpp). Each has a reference twin in
// kernels-ref.cpp and a test comparing the two (tests/test-runtime.cpp,
// Kernels.Avx2MatchesReference).
#include "kernels.h"

#include <immintrin.h>

namespace fer_rt {

namespace {

inline __m256 activate8(__m256 v, int act) {
    switch (act) {
    case act_relu: return _mm256_max_ps(v, _mm256_setzero_ps());
    case act_relu6: return _mm256_min_ps(_mm256_max_ps(v, _mm256_setzero_ps()), _mm256_set1_ps(6.0f));
    case act_relu_n1_to_1: return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-1.0f)), _mm256_set1_ps(1.0f));
    default: return v;
    }
}

// One block of NV x 8 output channels for every output pixel.
template <int NV>
void conv_block(const conv_params & p, int oc_pad, int oc0, const float * in, const float * w, const float * bias,
                float * out, __m256i tail_mask) {
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                __m256 acc[NV];
                for (int v = 0; v < NV; ++v) {
                    acc[v] = _mm256_loadu_ps(bias + oc0 + 8 * v);
                }
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
                        const float * wk = w + (static_cast<size_t>(ky) * p.k_w + kx) * p.in_c * oc_pad + oc0;
                        for (int ic = 0; ic < p.in_c; ++ic) {
                            const __m256 xv = _mm256_broadcast_ss(x + ic);
                            const float * wr = wk + static_cast<size_t>(ic) * oc_pad;
                            for (int v = 0; v < NV; ++v) {
                                acc[v] = _mm256_fmadd_ps(xv, _mm256_loadu_ps(wr + 8 * v), acc[v]);
                            }
                        }
                    }
                }
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * p.out_c + oc0;
                for (int v = 0; v < NV; ++v) {
                    const __m256 r = activate8(acc[v], p.act);
                    if (oc0 + 8 * v + 8 <= p.out_c) {
                        _mm256_storeu_ps(o + 8 * v, r);
                    } else {
                        _mm256_maskstore_ps(o + 8 * v, tail_mask, r);
                    }
                }
            }
        }
    }
}

}  // namespace

void fer_conv2d_f32__avx2(const conv_params & p, const float * in, const float * w_packed, const float * bias_padded,
                          float * out) {
    const int oc_pad = conv_padded_channels(p.out_c);
    const int rem = p.out_c % 8;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i tail_mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem == 0 ? 8 : rem), lane);
    // Blocks of 32 channels keep a block's weights (k_h*k_w*in_c*32 floats) in cache.
    for (int oc0 = 0; oc0 < oc_pad; oc0 += 32) {
        switch ((oc_pad - oc0) >= 32 ? 4 : (oc_pad - oc0) / 8) {
        case 4: conv_block<4>(p, oc_pad, oc0, in, w_packed, bias_padded, out, tail_mask); break;
        case 3: conv_block<3>(p, oc_pad, oc0, in, w_packed, bias_padded, out, tail_mask); break;
        case 2: conv_block<2>(p, oc_pad, oc0, in, w_packed, bias_padded, out, tail_mask); break;
        default: conv_block<1>(p, oc_pad, oc0, in, w_packed, bias_padded, out, tail_mask); break;
        }
    }
}

namespace {

// The input of batch item `in` as (x - zero point) int16 pairs, one int32
// word per pair of input channels, over the whole window the outputs read:
// row r, column c hold input pixel (r - pad_top, c - pad_left), and pixels
// outside the image are zero, i.e. the zero point, as TFLite pads. The inner
// loop then needs no bounds checks and no scalar conversion.
void fill_pairs(const conv_params & p, int in_zp, const int8_t * in, int rows, int cols, int n_icp, int32_t * s) {
    for (int r = 0; r < rows; ++r) {
        const int iy = r - p.pad_top;
        int32_t * row = s + static_cast<size_t>(r) * static_cast<size_t>(cols) * static_cast<size_t>(n_icp);
        for (int c = 0; c < cols; ++c) {
            const int ix = c - p.pad_left;
            int32_t * d = row + static_cast<size_t>(c) * static_cast<size_t>(n_icp);
            if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) {
                for (int icp = 0; icp < n_icp; ++icp) {
                    d[icp] = 0;
                }
                continue;
            }
            const int8_t * x = in + (static_cast<size_t>(iy) * p.in_w + ix) * p.in_c;
            for (int icp = 0; icp < n_icp; ++icp) {
                const int32_t a = x[2 * icp] - in_zp;
                const int32_t b = 2 * icp + 1 < p.in_c ? x[2 * icp + 1] - in_zp : 0;
                d[icp] = static_cast<int32_t>((static_cast<uint32_t>(b) << 16) | (static_cast<uint32_t>(a) & 0xffffu));
            }
        }
    }
}

// PX neighbouring output pixels of row oy from column ox, NV x 8 output
// channels from oc0: each weight vector loaded once serves PX pixels.
template <int NV, int PX>
void conv_s8_tile(const conv_params & p, const quant_params & q, int n_icp, int cols, int oc_pad, int oc0,
                  const int32_t * s, const int16_t * w, const int32_t * bias, const float * scale, int oy, int ox,
                  int8_t * out_row) {
    __m256i acc[PX][NV];
    for (int px = 0; px < PX; ++px) {
        for (int v = 0; v < NV; ++v) {
            acc[px][v] = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + oc0 + 8 * v));
        }
    }
    const size_t px_step = static_cast<size_t>(p.stride_w) * static_cast<size_t>(n_icp);
    for (int ky = 0; ky < p.k_h; ++ky) {
        for (int kx = 0; kx < p.k_w; ++kx) {
            const int32_t * sp = s + (static_cast<size_t>(oy * p.stride_h + ky * p.dil_h) * static_cast<size_t>(cols) +
                                      static_cast<size_t>(ox * p.stride_w + kx * p.dil_w)) * static_cast<size_t>(n_icp);
            const int16_t * wk = w + (static_cast<size_t>(ky) * p.k_w + kx) * n_icp * oc_pad * 2 + oc0 * 2;
            for (int icp = 0; icp < n_icp; ++icp) {
                __m256i xv[PX];
                for (int px = 0; px < PX; ++px) {
                    xv[px] = _mm256_set1_epi32(sp[px * px_step + static_cast<size_t>(icp)]);
                }
                const int16_t * wr = wk + static_cast<size_t>(icp) * oc_pad * 2;
                for (int v = 0; v < NV; ++v) {
                    const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(wr + 16 * v));
                    for (int px = 0; px < PX; ++px) {
                        acc[px][v] = _mm256_add_epi32(acc[px][v], _mm256_madd_epi16(xv[px], wv));
                    }
                }
            }
        }
    }
    const __m256 lo = _mm256_set1_ps(static_cast<float>(q.act_min - q.out_zp));
    const __m256 hi = _mm256_set1_ps(static_cast<float>(q.act_max - q.out_zp));
    const __m256i zp = _mm256_set1_epi32(q.out_zp);
    for (int px = 0; px < PX; ++px) {
        int8_t * o = out_row + static_cast<size_t>(ox + px) * p.out_c + oc0;
        for (int v = 0; v < NV; ++v) {
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[px][v]), _mm256_loadu_ps(scale + oc0 + 8 * v));
            f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
            const __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(f), zp);  // round half to even
            alignas(32) int32_t lanes[8];
            _mm256_store_si256(reinterpret_cast<__m256i *>(lanes), r);
            const int n = p.out_c - (oc0 + 8 * v) < 8 ? p.out_c - (oc0 + 8 * v) : 8;
            for (int i = 0; i < n; ++i) {
                o[8 * v + i] = static_cast<int8_t>(lanes[i]);
            }
        }
    }
}

template <int NV>
void conv_s8_row(const conv_params & p, const quant_params & q, int n_icp, int cols, int oc_pad, int oc0,
                 const int32_t * s, const int16_t * w, const int32_t * bias, const float * scale, int oy,
                 int8_t * out_row) {
    constexpr int k_px = NV >= 4 ? 3 : 4;  // accumulators + one weight + PX broadcasts fill the 16 registers
    int ox = 0;
    for (; ox + k_px <= p.out_w; ox += k_px) {
        conv_s8_tile<NV, k_px>(p, q, n_icp, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
    for (; ox < p.out_w; ++ox) {
        conv_s8_tile<NV, 1>(p, q, n_icp, cols, oc_pad, oc0, s, w, bias, scale, oy, ox, out_row);
    }
}

void conv_s8_window(const conv_params & p, int * rows, int * cols) {
    *rows = (p.out_h - 1) * p.stride_h + (p.k_h - 1) * p.dil_h + 1;
    *cols = (p.out_w - 1) * p.stride_w + (p.k_w - 1) * p.dil_w + 1;
}

}  // namespace

size_t fer_conv2d_s8_avx2_scratch(const conv_params & p) {
    int rows = 0, cols = 0;
    conv_s8_window(p, &rows, &cols);
    return static_cast<size_t>(rows) * static_cast<size_t>(cols) * static_cast<size_t>((p.in_c + 1) / 2);
}

void fer_conv2d_s8__avx2(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                         const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    const int oc_pad = conv_padded_channels(p.out_c);
    const int n_icp = (p.in_c + 1) / 2;
    int rows = 0, cols = 0;
    conv_s8_window(p, &rows, &cols);
    for (int b = 0; b < p.n; ++b) {
        fill_pairs(p, q.in_zp, in + static_cast<size_t>(b) * p.in_h * p.in_w * p.in_c, rows, cols, n_icp, scratch);
        for (int oy = 0; oy < p.out_h; ++oy) {
            int8_t * out_row = out + (static_cast<size_t>(b) * p.out_h + oy) * p.out_w * p.out_c;
            for (int oc0 = 0; oc0 < oc_pad; oc0 += 32) {
                switch ((oc_pad - oc0) >= 32 ? 4 : (oc_pad - oc0) / 8) {
                case 4: conv_s8_row<4>(p, q, n_icp, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row); break;
                case 3: conv_s8_row<3>(p, q, n_icp, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row); break;
                case 2: conv_s8_row<2>(p, q, n_icp, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row); break;
                default: conv_s8_row<1>(p, q, n_icp, cols, oc_pad, oc0, scratch, w_packed, bias_padded, scale_padded, oy, out_row); break;
                }
            }
        }
    }
}

void fer_fc_f32__avx2(int batch, int n_in, int n_out, const float * in, const float * w, const float * bias, int act,
                      float * out) {
    for (int b = 0; b < batch; ++b) {
        const float * x = in + static_cast<size_t>(b) * n_in;
        for (int o = 0; o < n_out; ++o) {
            const float * k = w + static_cast<size_t>(o) * n_in;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            int i = 0;
            for (; i + 16 <= n_in; i += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(k + i), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(k + i + 8), a1);
            }
            for (; i + 8 <= n_in; i += 8) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(k + i), a0);
            }
            const __m256 s8 = _mm256_add_ps(a0, a1);
            __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
            s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
            s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
            float acc = _mm_cvtss_f32(s4) + (bias ? bias[o] : 0.0f);
            for (; i < n_in; ++i) {
                acc += x[i] * k[i];
            }
            switch (act) {
            case act_relu: acc = acc < 0.0f ? 0.0f : acc; break;
            case act_relu6: acc = acc < 0.0f ? 0.0f : (acc > 6.0f ? 6.0f : acc); break;
            case act_relu_n1_to_1: acc = acc < -1.0f ? -1.0f : (acc > 1.0f ? 1.0f : acc); break;
            default: break;
            }
            out[static_cast<size_t>(b) * n_out + o] = acc;
        }
    }
}

}  // namespace fer_rt
