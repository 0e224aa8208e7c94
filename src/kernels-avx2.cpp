// AVX2 + FMA variants of the hottest float32 kernels. Compiled with -mavx2
// -mfma for this file only (src/CMakeLists.txt) and called only when the CPU
// has both (checked once, src/model.cpp). Each has a reference twin in
// kernels-ref.cpp and a test comparing the two (tests/test-runtime.cpp,
// Kernels.Avx2MatchesReference).
#include "conv-f32-narrow.h"
#include "conv-s8-winograd.h"
#include "conv-s8-x86.h"
#include "kernels.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

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

struct narrow_f32_avx2 {
    using vec = __m256;
    static constexpr int lanes = 8;
    static vec zero() { return _mm256_setzero_ps(); }
    static vec load(const float * p) { return _mm256_loadu_ps(p); }
    static vec madd(vec acc, vec x, vec k) { return _mm256_fmadd_ps(x, k, acc); }
    static float madd1(float acc, float x, float k) { return std::fma(x, k, acc); }
    static vec add(vec a, vec b) { return _mm256_add_ps(a, b); }
    static void sums4(const vec * a, float * s) {
        // pairwise within lanes, then the two 128-bit halves: {a0, a1, a2, a3} summed
        const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
        _mm_storeu_ps(s, _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
    }
};

}  // namespace

// conv-f32-narrow.h's loop with FMA at 256 bits.
void fer_conv2d_f32_narrow__avx2(const conv_params & p, const float * in, const float * w, const float * bias,
                                 float * out) {
    conv_f32_narrow<narrow_f32_avx2>(p, in, w, bias, out);
}

namespace {

// (x - zero point) as two int16 in one word, for _mm256_madd_epi16.
struct isa_avx2 : isa_x86_256 {
    static constexpr int k_per_word = 2;
    static int32_t fill_word(const int8_t * x, int n, int zp) { return conv_s8_pair_word(x, n, zp); }
    static int32_t pad_word(int) { return 0; }
    static __m256i dot(__m256i acc, __m256i x, __m256i w) { return _mm256_add_epi32(acc, _mm256_madd_epi16(x, w)); }
};

}  // namespace

void fer_conv2d_s8__avx2(const conv_params & p, const quant_params & q, const int8_t * in, const int16_t * w_packed,
                         const int32_t * bias_padded, const float * scale_padded, int8_t * out, int32_t * scratch) {
    conv_s8<isa_avx2>(p, q, in, reinterpret_cast<const int32_t *>(w_packed), bias_padded, scale_padded, out, scratch);
}

void fer_conv2d_s8_winograd__avx2(const conv_params & p, const quant_params & q, const int8_t * in,
                                  const int16_t * u_packed, const int32_t * bias_padded, const float * scale_padded,
                                  int8_t * out, int32_t * scratch) {
    conv_s8_winograd<isa_avx2>(p, q, in, reinterpret_cast<const int32_t *>(u_packed), bias_padded, scale_padded, out,
                               scratch);
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
            out[static_cast<size_t>(b) * n_out + o] = activate_f32(acc, act);
        }
    }
}


namespace {

// The input pixels under the kernel window of output (oy, ox) that lie inside
// the image, and their tap index ky * k_w + kx, in the reference's order.
template <class T>
int window_taps(const conv_params & p, const T * in, int b, int oy, int ox, const T ** xs, int * ts) {
    int n = 0;
    for_each_window_tap(p, in, b, oy, ox, [&](const T * x, int t) {
        xs[n] = x;
        ts[n++] = t;
    });
    return n;
}

}  // namespace

namespace {

// Few channels (C not a multiple of 8: YuNet's head has 1, 4 and 10), stride
// 1 along x: the interior run of an output row is one flat run of floats
// (pixel-major, channel-minor) whose tap (ky, kx) reads the input row's flat
// run shifted by (kx - pad_left) x C, so 8 outputs take one vector whatever
// their channels. The lane l of the run's vector k holds channel
// (8k + l) mod C: the weights (and bias) of each of the C / gcd(C, 8) phases
// are laid out once per call (dw_f32_phase_weights). Returns false (nothing
// written) when the layout does not fit the stack buffer.
constexpr int k_dw_flat_floats = 4096;

bool dw_f32_flat_rows(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    const int C = p.out_c, taps = p.k_h * p.k_w;
    alignas(32) float wv[k_dw_flat_floats];  // [phase][1 + taps][8]: the bias first
    const int phases = dw_f32_phase_weights(p, w, bias, 8, wv, k_dw_flat_floats);
    if (phases == 0) {
        return false;
    }
    const float * xs[k_dw_max_taps];
    int ts[k_dw_max_taps];
    auto pixel = [&](int b, int oy, int ox) {  // the general per-pixel path: borders
        const int n = window_taps(p, in, b, oy, ox, xs, ts);
        float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * C;
        for (int c = 0; c < C; ++c) {
            float acc = bias ? bias[c] : 0.0f;
            for (int t = 0; t < n; ++t) {
                acc = std::fma(xs[t][c], w[static_cast<size_t>(ts[t]) * C + c], acc);
            }
            o[c] = activate_f32(acc, p.act);
        }
    };
    dw_f32_flat_walk(p, in, out, pixel, [&](const float * const * rows, float * o, int n_flat) {
        int j = 0, m = 0;
        for (; j + 8 <= n_flat; j += 8, m = m + 1 == phases ? 0 : m + 1) {
            const float * wm = wv + static_cast<size_t>(m) * (taps + 1) * 8;
            __m256 acc = _mm256_load_ps(wm);
            for (int t = 0; t < taps; ++t) {
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(rows[t] + j), _mm256_load_ps(wm + 8 + t * 8), acc);
            }
            _mm256_storeu_ps(o + j, activate8(acc, p.act));
        }
        for (; j < n_flat; ++j) {  // the run's last values, one by one
            const int c = j % C;
            float acc = bias ? bias[c] : 0.0f;
            for (int t = 0; t < taps; ++t) {
                acc = std::fma(rows[t][j], w[static_cast<size_t>(t) * C + c], acc);
            }
            o[j] = activate_f32(acc, p.act);
        }
    });
    return true;
}

}  // namespace

// Depthwise, multiplier 1: channels innermost, 8 per vector, the window's
// valid taps found once per output pixel; few channels at stride 1 as flat
// rows (dw_f32_flat_rows).
void fer_dwconv2d_f32__avx2(const conv_params & p, const float * in, const float * w, const float * bias, float * out) {
    const int C = p.out_c, c8 = C / 8 * 8;
    if (C % 8 != 0 && p.in_c == C && p.stride_w == 1 && p.dil_w == 1 &&
        dw_f32_flat_rows(p, in, w, bias, out)) {
        return;
    }
    const float * xs[k_dw_max_taps];
    int ts[k_dw_max_taps];
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                const int n = window_taps(p, in, b, oy, ox, xs, ts);
                float * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * C;
                int c = 0;
                for (; c < c8; c += 8) {
                    __m256 acc = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
                    for (int t = 0; t < n; ++t) {
                        acc = _mm256_fmadd_ps(_mm256_loadu_ps(xs[t] + c),
                                              _mm256_loadu_ps(w + static_cast<size_t>(ts[t]) * C + c), acc);
                    }
                    _mm256_storeu_ps(o + c, activate8(acc, p.act));
                }
                for (; c < C; ++c) {
                    float acc = bias ? bias[c] : 0.0f;
                    for (int t = 0; t < n; ++t) {
                        acc = std::fma(xs[t][c], w[static_cast<size_t>(ts[t]) * C + c], acc);
                    }
                    o[c] = activate_f32(acc, p.act);
                }
            }
        }
    }
}

// int8 depthwise, multiplier 1: exact int32 sums (as the reference), then the
// reference's requantisation (float product without FMA, clamp, round half
// to even): bit-identical to fer_dwconv2d_s8__ref.
//
// Every output pixel, 16 channels at a time: taps in pairs through
// _mm256_madd_epi16 on (x, weight) int16 pairs whose weights were interleaved
// once per call, and the zero point folded into the bias once per call
// (sum (x - zp) w = sum x w - zp sum w: exact in integers). A border pixel's
// taps in the padding read a row of zero points (dw_s8_tap_rows), which adds
// nothing, as the reference's skipped taps. Channels beyond the last 16 take
// the general per-tap path.
namespace {

// 16 int32 sums, in two vectors holding channels {0-3, 8-11} and {4-7, 12-15}
// (the lane order of unpacklo/unpackhi), plus bias, requantised and stored as
// 16 int8 in channel order. bias and scale come in the sums' lane order
// (dw_s8_lane_order), so no lane crosses before the packs, which restore the
// channel order by themselves: packs_epi32(a, b) puts {0-3, 4-7 | 8-11, 12-15}.
inline void dw_s8_store16(__m256i acc_a, __m256i acc_b, const int32_t * bias, const float * scale, __m256 vlo,
                          __m256 vhi, __m256i ozp, int8_t * o) {
    const __m256i s0 = _mm256_add_epi32(acc_a, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias)));
    const __m256i s1 = _mm256_add_epi32(acc_b, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + 8)));
    __m256 f0 = _mm256_mul_ps(_mm256_cvtepi32_ps(s0), _mm256_loadu_ps(scale));
    __m256 f1 = _mm256_mul_ps(_mm256_cvtepi32_ps(s1), _mm256_loadu_ps(scale + 8));
    f0 = _mm256_min_ps(_mm256_max_ps(f0, vlo), vhi);
    f1 = _mm256_min_ps(_mm256_max_ps(f1, vlo), vhi);
    const __m256i r0 = _mm256_add_epi32(_mm256_cvtps_epi32(f0), ozp);  // nearest even, as lrintf
    const __m256i r1 = _mm256_add_epi32(_mm256_cvtps_epi32(f1), ozp);
    // In int8 range after the clamp: the saturating packs change nothing.
    const __m256i w16 = _mm256_packs_epi32(r0, r1);  // channels 0-15 as int16
    const __m128i b8 = _mm_packs_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i *>(o), b8);
}

// Per-channel values of the first c16 channels into the lane order of
// dw_s8_store16's sums: in each block of 16, channels 4-7 and 8-11 swap.
template <class T>
void dw_s8_lane_order(const T * v, int c16, T * out) {
    for (int c = 0; c < c16; c += 16) {
        for (int i = 0; i < 4; ++i) {
            out[c + i] = v[c + i];
            out[c + 4 + i] = v[c + 8 + i];
            out[c + 8 + i] = v[c + 4 + i];
            out[c + 12 + i] = v[c + 12 + i];
        }
    }
}

// The general path of one output pixel's channels [c_begin, C) (c_begin a
// multiple of 8): the taps inside the input, 8 channels per vector, the zero
// point subtracted per tap.
void dw_s8_pixel(const conv_params & p, const quant_params & q, const int8_t * const * xs, const int * ts, int n,
                 const int8_t * w, const int32_t * bias, int8_t * o, int c_begin = 0) {
    const int C = p.out_c, c8 = C / 8 * 8;
    const __m256i zp = _mm256_set1_epi32(q.in_zp), ozp = _mm256_set1_epi32(q.out_zp);
    const __m256 vlo = _mm256_set1_ps(static_cast<float>(q.act_min - q.out_zp));
    const __m256 vhi = _mm256_set1_ps(static_cast<float>(q.act_max - q.out_zp));
    int c = c_begin;
    for (; c < c8; c += 8) {
        __m256i acc = _mm256_setzero_si256();
        for (int t = 0; t < n; ++t) {
            const __m256i x = _mm256_sub_epi32(
                _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(xs[t] + c))), zp);
            const __m256i k = _mm256_cvtepi8_epi32(
                _mm_loadl_epi64(reinterpret_cast<const __m128i *>(w + static_cast<size_t>(ts[t]) * C + c)));
            acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, k));
        }
        if (bias) {
            acc = _mm256_add_epi32(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(bias + c)));
        }
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(q.scale + c));
        f = _mm256_min_ps(_mm256_max_ps(f, vlo), vhi);
        const __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(f), ozp);
        const __m128i r16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64(reinterpret_cast<__m128i *>(o + c), _mm_packs_epi16(r16, r16));
    }
    for (; c < C; ++c) {
        int32_t acc = 0;
        for (int t = 0; t < n; ++t) {
            acc += (static_cast<int32_t>(xs[t][c]) - q.in_zp) * static_cast<int32_t>(w[static_cast<size_t>(ts[t]) * C + c]);
        }
        if (bias) {
            acc += bias[c];
        }
        o[c] = fer_requantize_s8(acc, q.scale[c], q);
    }
}


// A 3x3 window's 16 channels from x (its top-left tap; taps dx apart in a row,
// rows dy apart): the nine taps in four pairs and one lone tap (paired with
// zeros), against weights interleaved as the general loop's (wp: pair j's
// two vectors at wp + j * step). The general loop's arithmetic unrolled, with
// the tap offsets fixed: YuNet's depthwise layers are all 3x3.
inline void dw_s8_3x3_sums(const int8_t * x, size_t dx, size_t dy, const __m256i * wp, size_t step, __m256i & acc_a,
                           __m256i & acc_b) {
    auto tap = [&](size_t off) {
        return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(x + off)));
    };
    auto pair = [&](__m256i xa, __m256i xb, const __m256i * w) {
        acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb), _mm256_load_si256(w)));
        acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb), _mm256_load_si256(w + 1)));
    };
    acc_a = _mm256_madd_epi16(_mm256_unpacklo_epi16(tap(0), tap(dx)), _mm256_load_si256(wp));
    acc_b = _mm256_madd_epi16(_mm256_unpackhi_epi16(tap(0), tap(dx)), _mm256_load_si256(wp + 1));
    pair(tap(2 * dx), tap(dy), wp + step);
    pair(tap(dy + dx), tap(dy + 2 * dx), wp + 2 * step);
    pair(tap(2 * dy), tap(2 * dy + dx), wp + 3 * step);
    pair(tap(2 * dy + 2 * dx), _mm256_setzero_si256(), wp + 4 * step);
}

// The interior run of one output row, 3x3 with stride 1 along x, 16 channels
// from x (the first window's top-left input pixel) for n outputs: each input
// column's three rows are widened and paired once (rows 0 and 1 as one pair,
// row 2 with zeros) and serve the three windows that hold the column, a third
// of the conversions and interleaves of dw_s8_3x3_sums. wp: the column
// layout's six pairs (column k of rows 0-1 at k, row 2 at 3 + k), step apart.
inline void dw_s8_3x3_columns(const int8_t * x, size_t dx, size_t dy, int n, const __m256i * wp, size_t step,
                              const int32_t * bias, const float * scale, __m256 vlo, __m256 vhi, __m256i ozp,
                              int8_t * o, size_t o_step) {
    struct column {
        __m256i p_lo, p_hi, r_lo, r_hi;  // rows 0-1 paired, row 2 with zeros; unpacklo and unpackhi halves
    };
    const __m256i zero = _mm256_setzero_si256();
    auto load = [&](const int8_t * c) {
        const __m256i r0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(c)));
        const __m256i r1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(c + dy)));
        const __m256i r2 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(c + 2 * dy)));
        return column{_mm256_unpacklo_epi16(r0, r1), _mm256_unpackhi_epi16(r0, r1), _mm256_unpacklo_epi16(r2, zero),
                      _mm256_unpackhi_epi16(r2, zero)};
    };
    auto madd = [&](__m256i a, size_t k, int half) {
        return _mm256_madd_epi16(a, _mm256_load_si256(wp + k * step + half));
    };
    column c0 = load(x), c1 = load(x + dx);
    for (int i = 0; i < n; ++i, x += dx, o += o_step) {
        const column c2 = load(x + 2 * dx);
        const __m256i a = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(madd(c0.p_lo, 0, 0), madd(c1.p_lo, 1, 0)),
                             _mm256_add_epi32(madd(c2.p_lo, 2, 0), madd(c0.r_lo, 3, 0))),
            _mm256_add_epi32(madd(c1.r_lo, 4, 0), madd(c2.r_lo, 5, 0)));
        const __m256i b = _mm256_add_epi32(
            _mm256_add_epi32(_mm256_add_epi32(madd(c0.p_hi, 0, 1), madd(c1.p_hi, 1, 1)),
                             _mm256_add_epi32(madd(c2.p_hi, 2, 1), madd(c0.r_hi, 3, 1))),
            _mm256_add_epi32(madd(c1.r_hi, 4, 1), madd(c2.r_hi, 5, 1)));
        dw_s8_store16(a, b, bias, scale, vlo, vhi, ozp, o);
        c0 = c1;
        c1 = c2;
    }
}

// Working memory of the fast path, on the stack (a kernel allocates nothing):
// interleaved weights and folded biases of up to this many int16 / int32.
constexpr int k_dw_s8_weight_words = 8192;
constexpr int k_dw_s8_max_channels = 1024;

}  // namespace

void fer_dwconv2d_s8__avx2(const conv_params & p, const quant_params & q, const int8_t * in, const int8_t * w,
                           const int32_t * bias, int8_t * out) {
    const int C = p.out_c, c16 = C / 16 * 16, taps = p.k_h * p.k_w, pairs = (taps + 1) / 2;
    const int8_t * xs[k_dw_max_taps];
    int ts[k_dw_max_taps];
    // 3x3, stride 1 along x: the column walk (dw_s8_3x3_columns), whose six
    // weight pairs per block are rows 0 and 1 of each column, then row 2 alone.
    const bool k3x3 = p.k_h == 3 && p.k_w == 3 && p.dil_h == 1 && p.dil_w == 1;
    const bool columns = k3x3 && p.stride_w == 1 && c16 > 0 && 6 * 2 * c16 <= k_dw_s8_weight_words;
    // The fast path's interleaved weights: pair j, block c: two vectors, the
    // unpacklo and unpackhi of the pair's taps (zeros for a missing tap):
    // taps 2j and 2j + 1, or the column walk's (j, j + 3) then (j + 3, none).
    alignas(32) int16_t wi[k_dw_s8_weight_words];
    alignas(32) int32_t folded_c[k_dw_s8_max_channels];
    alignas(32) int32_t folded[k_dw_s8_max_channels];  // folded_c in dw_s8_store16's lane order
    alignas(32) float scale[k_dw_s8_max_channels];     // q.scale in that order
    int offset[k_dw_max_taps];
    const int n_pairs = columns ? 6 : pairs;
    const bool fast = c16 > 0 && n_pairs * 2 * c16 <= k_dw_s8_weight_words && C <= k_dw_s8_max_channels;
    if (fast) {
        for (int j = 0; j < n_pairs; ++j) {
            const int ta = columns ? (j < 3 ? j : j + 3) : 2 * j;
            const int tb = columns ? (j < 3 ? j + 3 : -1) : (2 * j + 1 < taps ? 2 * j + 1 : -1);
            for (int c = 0; c < c16; c += 16) {
                const __m256i wa = _mm256_cvtepi8_epi16(
                    _mm_loadu_si128(reinterpret_cast<const __m128i *>(w + static_cast<size_t>(ta) * C + c)));
                const __m256i wb = tb >= 0 ? _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(
                                                 w + static_cast<size_t>(tb) * C + c)))
                                           : _mm256_setzero_si256();
                __m256i * d = reinterpret_cast<__m256i *>(wi + (static_cast<size_t>(j) * c16 + c) * 2);
                _mm256_store_si256(d, _mm256_unpacklo_epi16(wa, wb));
                _mm256_store_si256(d + 1, _mm256_unpackhi_epi16(wa, wb));
            }
        }
        dw_s8_fold_and_offsets(p, q.in_zp, w, bias, folded_c, offset);
        dw_s8_lane_order(folded_c, c16, folded);
        dw_s8_lane_order(q.scale, c16, scale);
    }
    int y_lo = 0, y_hi = 0, x_lo = 0, x_hi = 0;
    dw_full_range(p.out_h, p.in_h, p.k_h, p.stride_h, p.dil_h, p.pad_top, &y_lo, &y_hi);
    dw_full_range(p.out_w, p.in_w, p.k_w, p.stride_w, p.dil_w, p.pad_left, &x_lo, &x_hi);
    alignas(32) int8_t zp_row[k_dw_s8_max_channels];
    if (fast) {
        std::memset(zp_row, static_cast<int8_t>(q.in_zp), static_cast<size_t>(C));
    }
    const int8_t * tap[k_dw_max_taps];
    const __m256i ozp = _mm256_set1_epi32(q.out_zp);
    const __m256 vlo = _mm256_set1_ps(static_cast<float>(q.act_min - q.out_zp));
    const __m256 vhi = _mm256_set1_ps(static_cast<float>(q.act_max - q.out_zp));
    int pair_a[k_dw_max_taps], pair_b[k_dw_max_taps];  // each weight pair's taps (-1: none), as wi was packed
    for (int j = 0; j < n_pairs; ++j) {
        pair_a[j] = columns ? (j < 3 ? j : j + 3) : 2 * j;
        pair_b[j] = columns ? (j < 3 ? j + 3 : -1) : (2 * j + 1 < taps ? 2 * j + 1 : -1);
    }
    const size_t wstep = static_cast<size_t>(c16 / 8);  // __m256i from one pair's weights to the next
    for (int b = 0; b < p.n; ++b) {
        for (int oy = 0; oy < p.out_h; ++oy) {
            const bool row_full = oy >= y_lo && oy < y_hi;
            for (int ox = 0; ox < p.out_w; ++ox) {
                int8_t * o = out + ((static_cast<size_t>(b) * p.out_h + oy) * p.out_w + ox) * C;
                if (fast && k3x3 && row_full && ox >= x_lo && ox < x_hi) {
                    // the row's interior run, 3x3: every window inside the input
                    const size_t dx = static_cast<size_t>(C), dy = static_cast<size_t>(p.in_w) * C;
                    const size_t step_in = static_cast<size_t>(p.stride_w) * C;
                    const int8_t * x0 = in + ((static_cast<size_t>(b) * p.in_h + (oy * p.stride_h - p.pad_top)) *
                                                  p.in_w + (ox * p.stride_w - p.pad_left)) * C;
                    if (columns) {
                        for (int c = 0; c < c16; c += 16) {
                            dw_s8_3x3_columns(x0 + c, dx, dy, x_hi - ox,
                                              reinterpret_cast<const __m256i *>(wi + static_cast<size_t>(c) * 2), wstep,
                                              folded + c, scale + c, vlo, vhi, ozp, o + c, static_cast<size_t>(C));
                        }
                    } else if (c16 == C) {  // two pixels a step: two independent chains for the CPU to overlap
                        for (; ox + 1 < x_hi; ox += 2, x0 += 2 * step_in, o += 2 * C) {
                            for (int c = 0; c < c16; c += 16) {
                                const __m256i * wc = reinterpret_cast<const __m256i *>(wi + static_cast<size_t>(c) * 2);
                                __m256i a0, b0, a1, b1;
                                dw_s8_3x3_sums(x0 + c, dx, dy, wc, wstep, a0, b0);
                                dw_s8_3x3_sums(x0 + step_in + c, dx, dy, wc, wstep, a1, b1);
                                dw_s8_store16(a0, b0, folded + c, scale + c, vlo, vhi, ozp, o + c);
                                dw_s8_store16(a1, b1, folded + c, scale + c, vlo, vhi, ozp, o + C + c);
                            }
                        }
                    }
                    for (; ox < x_hi; ++ox, x0 += step_in, o += C) {
                        if (!columns) {
                            for (int c = 0; c < c16; c += 16) {
                                __m256i acc_a, acc_b;
                                dw_s8_3x3_sums(x0 + c, dx, dy,
                                               reinterpret_cast<const __m256i *>(wi + static_cast<size_t>(c) * 2), wstep,
                                               acc_a, acc_b);
                                dw_s8_store16(acc_a, acc_b, folded + c, scale + c, vlo, vhi, ozp, o + c);
                            }
                        }
                        if (c16 < C) {  // the last channels, general path
                            const int n = window_taps(p, in, b, oy, ox, xs, ts);
                            dw_s8_pixel(p, q, xs, ts, n, w, bias, o, c16);
                        }
                    }
                    --ox;  // the loop's ++ox moves on past the run
                    continue;
                }
                if (!fast) {
                    const int n = window_taps(p, in, b, oy, ox, xs, ts);
                    dw_s8_pixel(p, q, xs, ts, n, w, bias, o);
                    continue;
                }
                // tap t's channels from c: x0 + offset[t] + c inside, tap[t] + c on the border
                auto channels16 = [&](auto && row) {
                    for (int c = 0; c < c16; c += 16) {
                        __m256i acc_a = _mm256_setzero_si256(), acc_b = _mm256_setzero_si256();
                        const __m256i * wp = reinterpret_cast<const __m256i *>(wi + static_cast<size_t>(c) * 2);
                        for (int j = 0; j < n_pairs; ++j, wp += wstep) {
                            const __m256i xa = _mm256_cvtepi8_epi16(
                                _mm_loadu_si128(reinterpret_cast<const __m128i *>(row(pair_a[j]) + c)));
                            const __m256i xb = pair_b[j] >= 0
                                                   ? _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                         reinterpret_cast<const __m128i *>(row(pair_b[j]) + c)))
                                                   : _mm256_setzero_si256();
                            acc_a = _mm256_add_epi32(acc_a, _mm256_madd_epi16(_mm256_unpacklo_epi16(xa, xb),
                                                                              _mm256_load_si256(wp)));
                            acc_b = _mm256_add_epi32(acc_b, _mm256_madd_epi16(_mm256_unpackhi_epi16(xa, xb),
                                                                              _mm256_load_si256(wp + 1)));
                        }
                        dw_s8_store16(acc_a, acc_b, folded + c, scale + c, vlo, vhi, ozp, o + c);
                    }
                };
                if (row_full && ox >= x_lo && ox < x_hi) {
                    const int8_t * x0 = in + ((static_cast<size_t>(b) * p.in_h + (oy * p.stride_h - p.pad_top)) *
                                                  p.in_w + (ox * p.stride_w - p.pad_left)) * C;
                    channels16([&](int t) { return x0 + offset[t]; });
                } else {
                    dw_s8_tap_rows(p, in, b, oy, ox, zp_row, tap);
                    channels16([&](int t) { return tap[t]; });
                }
                if (c16 < C) {  // the last channels, general path
                    const int n = window_taps(p, in, b, oy, ox, xs, ts);
                    dw_s8_pixel(p, q, xs, ts, n, w, bias, o, c16);
                }
            }
        }
    }
}

namespace {

// TFLite's fixed-point multiply (fer_multiply_by_quantized_multiplier) on 8
// lanes, bit-identical: the saturating rounding doubling high multiply in
// 64-bit lanes (even and odd lanes apart), its division truncating toward
// zero, then the rounding right shift. q is never INT32_MIN (the multiplier
// lies in [2^30, 2^31) or is 0), so the one overflow case cannot occur.
inline __m256i srdhm_half(__m256i a, __m256i q) {
    const __m256i ab = _mm256_mul_epi32(a, q);  // the even lanes' 64-bit products
    const __m256i zero = _mm256_setzero_si256();
    const __m256i nudge = _mm256_blendv_epi8(_mm256_set1_epi64x(1ll << 30), _mm256_set1_epi64x(1 - (1ll << 30)),
                                             _mm256_cmpgt_epi64(zero, ab));
    const __m256i sum = _mm256_add_epi64(ab, nudge);
    // floor(sum / 2^31) in the low 32 bits (what a logical shift leaves there),
    // plus one for a negative sum with a remainder: truncation toward zero.
    const __m256i floor_div = _mm256_srli_epi64(sum, 31);
    const __m256i has_rem = _mm256_xor_si256(
        _mm256_cmpeq_epi64(_mm256_and_si256(sum, _mm256_set1_epi64x(0x7fffffff)), zero), _mm256_set1_epi64x(-1));
    return _mm256_sub_epi64(floor_div, _mm256_and_si256(_mm256_cmpgt_epi64(zero, sum), has_rem));
}

inline __m256i multiply_by_quantized_multiplier8(__m256i x, int32_t q, int shift) {
    const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const __m256i xl = _mm256_sll_epi32(x, _mm_cvtsi32_si128(left));
    const __m256i qv = _mm256_set1_epi32(q);
    const __m256i even = srdhm_half(xl, qv);
    const __m256i odd = srdhm_half(_mm256_srli_epi64(xl, 32), qv);
    const __m256i high = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    // rounding_divide_by_pot(high, right)
    const __m256i mask = _mm256_set1_epi32(static_cast<int32_t>((1ll << right) - 1));
    const __m256i rem = _mm256_and_si256(high, mask);
    const __m256i negative = _mm256_cmpgt_epi32(_mm256_setzero_si256(), high);
    const __m256i threshold = _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), negative);  // + 1 when negative
    const __m256i shifted = _mm256_sra_epi32(high, _mm_cvtsi32_si128(right));
    return _mm256_sub_epi32(shifted, _mm256_cmpgt_epi32(rem, threshold));  // + 1 above the threshold
}

// 8 int32 in int8 range to 8 bytes.
inline void store8_s8(__m256i v, int8_t * out) {
    const __m128i v16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i *>(out), _mm_packs_epi16(v16, v16));
}

}  // namespace

void fer_add_s8__avx2(size_t n, const add_params & p, const int8_t * a, const int8_t * b, int8_t * out) {
    const __m256i zp1 = _mm256_set1_epi32(p.in1_zp), zp2 = _mm256_set1_epi32(p.in2_zp);
    const __m256i out_zp = _mm256_set1_epi32(p.out_zp);
    const __m256i lo = _mm256_set1_epi32(p.act_min), hi = _mm256_set1_epi32(p.act_max);
    const __m128i left = _mm_cvtsi32_si128(p.left_shift);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x1 = _mm256_sll_epi32(
            _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(a + i))), zp1), left);
        const __m256i x2 = _mm256_sll_epi32(
            _mm256_sub_epi32(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(b + i))), zp2), left);
        const __m256i s1 = multiply_by_quantized_multiplier8(x1, p.in1_mult, p.in1_shift);
        const __m256i s2 = multiply_by_quantized_multiplier8(x2, p.in2_mult, p.in2_shift);
        __m256i v = _mm256_add_epi32(
            multiply_by_quantized_multiplier8(_mm256_add_epi32(s1, s2), p.out_mult, p.out_shift), out_zp);
        v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
        store8_s8(v, out + i);
    }
    fer_add_s8__ref(n - i, p, a + i, b + i, out + i);
}

// 32 or 16 channels per instruction (maxpool_s8_walk: the reference's loops).
void fer_maxpool2d_s8__avx2(const pool_params & p, int32_t act_min, int32_t act_max, const int8_t * in, int8_t * out) {
    const __m256i lo = _mm256_set1_epi8(static_cast<char>(act_min)), hi = _mm256_set1_epi8(static_cast<char>(act_max));
    maxpool_s8_walk(p, act_min, act_max, in, out,
                    [&](const int8_t * rows, size_t c_n, int iy0, int iy1, int ix0, int ix1, int8_t * o) {
                        auto at = [&](int iy, int ix, size_t c) {
                            return rows + (static_cast<size_t>(iy) * p.in_w + ix) * c_n + c;
                        };
                        size_t c = 0;
                        for (; c + 32 <= c_n; c += 32) {
                            __m256i m = _mm256_set1_epi8(-128);
                            for (int iy = iy0; iy < iy1; ++iy) {
                                for (int ix = ix0; ix < ix1; ++ix) {
                                    m = _mm256_max_epi8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i *>(at(iy, ix, c))));
                                }
                            }
                            _mm256_storeu_si256(reinterpret_cast<__m256i *>(o + c), _mm256_min_epi8(_mm256_max_epi8(m, lo), hi));
                        }
                        for (; c + 16 <= c_n; c += 16) {  // YuNet's 16-channel stages
                            __m128i m = _mm_set1_epi8(-128);
                            for (int iy = iy0; iy < iy1; ++iy) {
                                for (int ix = ix0; ix < ix1; ++ix) {
                                    m = _mm_max_epi8(m, _mm_loadu_si128(reinterpret_cast<const __m128i *>(at(iy, ix, c))));
                                }
                            }
                            m = _mm_min_epi8(_mm_max_epi8(m, _mm256_castsi256_si128(lo)), _mm256_castsi256_si128(hi));
                            _mm_storeu_si128(reinterpret_cast<__m128i *>(o + c), m);
                        }
                        return c;
                    });
}

void fer_quantize_s8__avx2(size_t n, float scale, int32_t zp, const float * in, int8_t * out) {
    const __m256 vscale = _mm256_set1_ps(scale);
    const __m256 lo = _mm256_set1_ps(static_cast<float>(-128 - zp)), hi = _mm256_set1_ps(static_cast<float>(127 - zp));
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256i vzp = _mm256_set1_epi32(zp);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_div_ps(_mm256_loadu_ps(in + i), vscale);
        // round half away from zero (std::round): truncate, then one step
        // away from zero when the (exact) fraction is at least a half
        const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const __m256 frac = _mm256_andnot_ps(sign_bit, _mm256_sub_ps(v, t));
        const __m256 step = _mm256_and_ps(_mm256_cmp_ps(frac, half, _CMP_GE_OQ),
                                          _mm256_or_ps(one, _mm256_and_ps(sign_bit, v)));
        __m256 r = _mm256_add_ps(t, step);
        r = _mm256_and_ps(r, _mm256_cmp_ps(v, v, _CMP_ORD_Q));  // NaN -> 0
        r = _mm256_min_ps(_mm256_max_ps(r, lo), hi);
        store8_s8(_mm256_add_epi32(_mm256_cvttps_epi32(r), vzp), out + i);
    }
    fer_quantize_s8__ref(n - i, scale, zp, in + i, out + i);
}

void fer_scale_add_u8__avx2(size_t n, const uint8_t * x, float w, bool first, float * acc) {
    const __m256 vw = _mm256_set1_ps(w);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(x + i));
        __m256 p = _mm256_mul_ps(vw, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)));
        // the product rounded, then the sum rounded: the reference's two roundings. GCC contracts a
        // product and a sum into one FMA under -mfma (its C++ default is -ffp-contract=fast; caught
        // by Kernels.ScaleAddTwinsMatchReference), so the product goes through an empty asm first.
        __asm__("" : "+x"(p));
        if (!first) {
            p = _mm256_add_ps(_mm256_loadu_ps(acc + i), p);
        }
        _mm256_storeu_ps(acc + i, p);
    }
    fer_scale_add_u8__ref(n - i, x + i, w, first, acc + i);
}

}  // namespace fer_rt
