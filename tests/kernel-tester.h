// One tester for the optimised int8 convolution kernels against their
// reference twins (fer_conv2d_s8__ref; fer_dwconv2d_s8__ref and
// fer_maxpool2d_s8__ref below), header-only and dependency-free so the
// very same cases run natively (AVX2, AVX-VNNI: tests/test-runtime-c.cpp),
// under Node for WebAssembly SIMD128 (tests/wasm/kernels-wasm-twin.cpp) and
// under qemu-aarch64 for NEON (tests/arm/kernels-neon-twin.cpp).
//
// Cases: output channels around the 4-lane, 8-channel packing and 16- and
// 32-channel block edges (1 ... 70), input channels 1, 2, 3, 17, 32 (an
// unpaired last channel, a partial byte quad), kernels 1/3/5, strides 1-2,
// dilation 2, SAME/VALID, input and output zero points, a ReLU clamp and a
// clamp below 127, two batch items on some cases; canaries past the output
// and past the scratch catch writes beyond either. Every failure prints its
// parameters. Fixed seed: the same inputs on every target.
#pragma once

#include "kernels.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace fer_kernel_test {

struct conv_s8_case {
    int out_c, in_c, k, stride, dil, n;
    bool same;
    int min_hw = 0;        // > 0: input sides in [min_hw, min_hw + 12] instead of about 6-12
    bool extreme = false;  // inputs, weights and zero points at the ends of their ranges
};

// What a variant needs to run one case: the convolution, its requantisation,
// the input, the OHWI weights, bias and scales (to pack as the variant
// packs), the output and the scratch it may use (fer_conv2d_s8_scratch(p,
// channels_per_word) words).
struct conv_s8_variant {
    const char * name;
    int channels_per_word;  // 2: int16 pairs (AVX2, NEON, WASM SIMD128); 4: byte quads (AVX-VNNI)
    void (*run)(const fer_rt::conv_params & p, const fer_rt::quant_params & q, const int8_t * x, const int8_t * w,
                const int32_t * bias, const float * scale, int8_t * out, int32_t * scratch);
    size_t (*scratch_words)(const fer_rt::conv_params & p) = nullptr;  // default fer_conv2d_s8_scratch
};

// Cases run_int16_pairs ran as row runs (fer_conv2d_s8_row_runs): a test
// asserts some did, so the rewrite is covered.
inline int row_run_cases = 0;

// The int16-pair packing and a kernel taking it (AVX2, NEON, WASM SIMD128),
// through the row-run rewrite where the runtime takes it (src/ops/op-conv-2d.cpp).
template <void (*Kernel)(const fer_rt::conv_params &, const fer_rt::quant_params &, const int8_t *, const int16_t *,
                         const int32_t *, const float *, int8_t *, int32_t *)>
void run_int16_pairs(const fer_rt::conv_params & p0, const fer_rt::quant_params & q, const int8_t * x,
                     const int8_t * w, const int32_t * bias, const float * scale, int8_t * out, int32_t * scratch) {
    fer_rt::conv_params p;
    std::vector<int16_t> wp;
    std::vector<int32_t> bp;
    std::vector<float> sp;
    if (fer_rt::fer_conv2d_pack_s8_pairs(p0, w, bias, scale, &p, &wp, &bp, &sp)) {
        ++row_run_cases;
    }
    Kernel(p, q, x, wp.data(), bp.data(), sp.data(), out, scratch);
}

constexpr int8_t k_out_canary = 77;
constexpr int32_t k_scratch_canary = 0x5a5a5a5a;
constexpr size_t k_canary_len = 16;

inline void print_case(const char * name, const conv_s8_case & c, const fer_rt::quant_params & q,
                       const fer_rt::conv_params & p) {
    std::printf("FAIL %s: out_c %d in_c %d k %d stride %d dil %d batch %d %s in %dx%d out %dx%d in_zp %d out_zp %d "
                "act [%d, %d]: ", name, c.out_c, c.in_c, c.k, c.stride, c.dil, c.n, c.same ? "SAME" : "VALID", p.in_h,
                p.in_w, p.out_h, p.out_w, q.in_zp, q.out_zp, q.act_min, q.act_max);
}

// One case; true when the variant's output equals the reference's and nothing
// past the output or the scratch was written.
inline bool run_case(const conv_s8_variant & v, const conv_s8_case & c, std::mt19937 & rng) {
    std::uniform_int_distribution<int> q8(-128, 127), w8(-127, 127), b32(-20000, 20000), zp(-20, 20);
    fer_rt::conv_params p;
    p.n = c.n;
    p.in_h = c.min_hw > 0 ? c.min_hw + static_cast<int>(rng() % 13) : 7 + static_cast<int>(rng() % 6);
    p.in_w = c.min_hw > 0 ? c.min_hw + static_cast<int>(rng() % 13) : 6 + static_cast<int>(rng() % 7);
    p.in_c = c.in_c;
    p.out_c = c.out_c;
    p.k_h = p.k_w = c.k;
    p.stride_h = p.stride_w = c.stride;
    p.dil_h = p.dil_w = c.dil;
    fer_rt::fer_window_geometry(p.in_h, c.k, c.stride, c.dil, c.same, &p.out_h, &p.pad_top);
    fer_rt::fer_window_geometry(p.in_w, c.k, c.stride, c.dil, c.same, &p.out_w, &p.pad_left);
    if (p.out_h <= 0 || p.out_w <= 0) {
        return true;  // VALID with a window larger than the input: no output, nothing to compare
    }
    std::vector<int8_t> x(static_cast<size_t>(p.n * p.in_h * p.in_w * p.in_c));
    std::vector<int8_t> w(static_cast<size_t>(p.out_c * p.k_h * p.k_w * p.in_c));
    std::vector<int32_t> b(static_cast<size_t>(p.out_c));
    std::vector<float> sc(static_cast<size_t>(p.out_c));
    for (auto & e : x) e = static_cast<int8_t>(c.extreme ? (rng() % 8 ? -128 : 127) : q8(rng));
    for (auto & e : w) e = static_cast<int8_t>(c.extreme ? (rng() % 8 ? 127 : -128) : w8(rng));
    for (auto & e : b) e = b32(rng);
    // Scales that bring the sums into and past the int8 range, so the clamp matters too.
    for (size_t i = 0; i < sc.size(); ++i) sc[i] = 0.00002f * static_cast<float>(1 + (i * 7 + static_cast<size_t>(c.in_c)) % 40);
    fer_rt::quant_params q;
    q.in_zp = c.extreme ? 127 : zp(rng);  // x - zp = -255 for most inputs: the largest sums
    q.out_zp = zp(rng);
    const bool relu = (c.out_c + c.k) % 3 == 0;
    q.act_min = relu ? q.out_zp : -128;  // a fused ReLU
    q.act_max = relu && c.in_c % 2 ? 100 : 127;
    q.scale = sc.data();

    const size_t n_out = static_cast<size_t>(p.n * p.out_h * p.out_w * p.out_c);
    const size_t n_scratch =
        v.scratch_words ? v.scratch_words(p) : fer_rt::fer_conv2d_s8_scratch(p, v.channels_per_word);
    std::vector<int8_t> ref(n_out + k_canary_len, k_out_canary), got(n_out + k_canary_len, k_out_canary);
    std::vector<int32_t> scratch(n_scratch + k_canary_len, k_scratch_canary);
    fer_rt::fer_conv2d_s8__ref(p, q, x.data(), w.data(), b.data(), ref.data());
    v.run(p, q, x.data(), w.data(), b.data(), sc.data(), got.data(), scratch.data());

    for (size_t i = 0; i < n_out + k_canary_len; ++i) {
        if (got[i] != ref[i]) {
            print_case(v.name, c, q, p);
            std::printf("element %zu%s: %d, reference %d\n", i, i >= n_out ? " (past the output: written)" : "",
                        got[i], ref[i]);
            return false;
        }
    }
    for (size_t i = n_scratch; i < scratch.size(); ++i) {
        if (scratch[i] != k_scratch_canary) {
            print_case(v.name, c, q, p);
            std::printf("scratch word %zu past the %zu words it may use was written\n", i, n_scratch);
            return false;
        }
    }
    return true;
}

// Runs every case on the variant; returns the number that differ (0: all
// bit-identical) and prints a summary line.
inline int check_conv_s8(const conv_s8_variant & v) {
    std::mt19937 rng(20261204);
    int n_cases = 0, n_failed = 0;
    for (int out_c : {1, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33, 48, 64, 70}) {
        for (int in_c : {1, 2, 3, 17, 32}) {
            for (int k : {1, 3, 5}) {
                for (int variant = 0; variant < 2; ++variant) {
                    conv_s8_case c;
                    c.out_c = out_c;
                    c.in_c = in_c;
                    c.k = k;
                    c.stride = 1 + (out_c + variant) % 2;
                    c.dil = (k > 1 && (in_c + variant) % 3 == 0) ? 2 : 1;
                    c.same = (in_c + k + out_c + variant) % 2 == 0;
                    c.n = (out_c + in_c + variant) % 5 == 0 ? 2 : 1;
                    ++n_cases;
                    if (!run_case(v, c, rng)) {
                        ++n_failed;
                    }
                }
            }
        }
    }
    std::printf("[ %s ] %d int8 conv cases, %d differ from the reference\n", v.name, n_cases, n_failed);
    return n_failed;
}

// ---- int8 3x3 convolution as Winograd F(2x2, 3x3) ----

// Packed as the runtime packs it (src/ops/op-conv-2d.cpp).
template <void (*Kernel)(const fer_rt::conv_params &, const fer_rt::quant_params &, const int8_t *, const int16_t *,
                         const int32_t *, const float *, int8_t *, int32_t *)>
void run_winograd(const fer_rt::conv_params & p, const fer_rt::quant_params & q, const int8_t * x, const int8_t * w,
                  const int32_t * bias, const float * scale, int8_t * out, int32_t * scratch) {
    std::vector<int16_t> u;
    std::vector<int32_t> bp;
    std::vector<float> sp;
    fer_rt::fer_conv2d_pack_s8_winograd(p, w, bias, scale, &u, &bp, &sp);
    Kernel(p, q, x, u.data(), bp.data(), sp.data(), out, scratch);
}

// The shapes the Winograd kernel takes (3x3, stride 1, 8 or more input
// channels): odd and even sides (a last tile half outside), SAME and VALID,
// channel counts around the pairs and the 16/32-channel blocks, inputs wide
// enough for several bands and blocks of tiles, fernet's widest layer (192
// inputs), and the largest sums (inputs 255 from the zero point, weights at
// +-127/-128) where the transforms' int16 and int32 ranges are tightest.
inline int check_conv_s8_winograd(const conv_s8_variant & v) {
    std::mt19937 rng(20261207);
    int n_cases = 0, n_failed = 0;
    for (int out_c : {1, 5, 8, 16, 17, 33, 64, 70}) {
        for (int in_c : {8, 9, 17, 32, 64, 192}) {
            for (int variant = 0; variant < 3; ++variant) {
                conv_s8_case c;
                c.out_c = out_c;
                c.in_c = in_c;
                c.k = 3;
                c.stride = c.dil = 1;
                c.same = (in_c + out_c + variant) % 2 == 0;
                c.n = variant == 1 && out_c % 2 ? 2 : 1;
                c.min_hw = variant == 2 ? 20 + (in_c % 7) : 0;
                c.extreme = (in_c + out_c + variant) % 4 == 1;
                ++n_cases;
                if (!run_case(v, c, rng)) {
                    ++n_failed;
                }
            }
        }
    }
    std::printf("[ %s ] %d int8 Winograd conv cases, %d differ from the reference\n", v.name, n_cases, n_failed);
    return n_failed;
}

// ---- YuNet's input resampling: acc (+)= w * x over bytes ----

// Lengths 0-40 and 300 (every tail of a 16-byte step), weights with exact and
// inexact products, first (=) and later (+=) rows; a canary past the end.
inline int check_scale_add_u8(const char * name, void (*kernel)(size_t, const uint8_t *, float, bool, float *)) {
    std::vector<uint8_t> x(300);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 37 + 11);
    int n_cases = 0, n_failed = 0;
    for (const float w : {1.0f, 0.5f, 1.0f / 3.0f, 0.8125f, 0.0703125f}) {
        for (size_t n = 0; n <= 40; ++n) {
            for (const bool first : {true, false}) {
                const size_t len = n == 40 ? x.size() : n;
                std::vector<float> ref(len + 4, 3.25f), got(len + 4, 3.25f);  // a canary past the end
                fer_rt::fer_scale_add_u8__ref(len, x.data(), w, first, ref.data());
                kernel(len, x.data(), w, first, got.data());
                ++n_cases;
                if (std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)) != 0) {
                    ++n_failed;
                    std::printf("FAIL %s scale_add_u8: w %g n %zu first %d\n", name, static_cast<double>(w), len, first);
                }
            }
        }
    }
    std::printf("[ %s ] %d scale-add cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// ---- int8 depthwise convolution (depth multiplier 1) ----

typedef void (*dw_s8_kernel)(const fer_rt::conv_params &, const fer_rt::quant_params &, const int8_t *, const int8_t *,
                             const int32_t *, int8_t *);

// Shapes around the SIMD kernels' 8- and 16-channel blocks and their tails
// (1 ... 64 channels), windows 1x1 (an unpaired tap), 3x3, 5x5 (odd tap
// count), strides 1-2, dilation 2, SAME/VALID, ReLU/ReLU6 clamps; zero points
// at both ends of the range (the fast paths fold them into the bias), with and
// without bias; a canary past the output. Returns the number of cases that
// differ from fer_dwconv2d_s8__ref and prints a summary line.
struct dw_shape {
    int h, w, c, k, stride, dil;
    bool same;
    int act;
};

// The depthwise cases every target shares (the float AVX2 test uses them too).
inline std::vector<dw_shape> dw_shapes() {
    return {{17, 13, 16, 3, 1, 1, true, fer_rt::act_relu}, {20, 20, 64, 3, 2, 1, true, fer_rt::act_none},
            {9, 11, 13, 3, 1, 1, false, fer_rt::act_relu6}, {12, 10, 10, 5, 1, 2, true, fer_rt::act_none},
            {7, 7, 1, 3, 1, 1, true, fer_rt::act_relu}, {15, 14, 40, 3, 1, 1, true, fer_rt::act_relu6},
            {11, 9, 35, 3, 1, 1, true, fer_rt::act_none}, {10, 9, 32, 1, 1, 1, false, fer_rt::act_none},
            {16, 16, 48, 3, 2, 1, false, fer_rt::act_relu}, {13, 12, 16, 5, 1, 1, true, fer_rt::act_none},
            {9, 8, 8, 3, 1, 1, true, fer_rt::act_relu}, {8, 10, 12, 3, 1, 1, true, fer_rt::act_none},
            {6, 7, 24, 3, 2, 1, true, fer_rt::act_relu6}, {5, 5, 7, 3, 1, 1, true, fer_rt::act_none},
            // the AVX2 column walk: a long run, one-output runs, none, and 16k + tail channels
            {6, 21, 64, 3, 1, 1, false, fer_rt::act_relu}, {4, 3, 48, 3, 1, 1, false, fer_rt::act_none},
            {5, 2, 16, 3, 1, 1, true, fer_rt::act_none}, {7, 9, 50, 3, 1, 1, true, fer_rt::act_relu6}};
}

// The convolution parameters of a case (TFLite's SAME/VALID geometry).
inline fer_rt::conv_params dw_params(const dw_shape & s) {
    fer_rt::conv_params p;
    p.in_h = s.h;
    p.in_w = s.w;
    p.in_c = p.out_c = s.c;
    p.k_h = p.k_w = s.k;
    p.stride_h = p.stride_w = s.stride;
    p.dil_h = p.dil_w = s.dil;
    p.act = s.act;
    fer_rt::fer_window_geometry(s.h, s.k, s.stride, s.dil, s.same, &p.out_h, &p.pad_top);
    fer_rt::fer_window_geometry(s.w, s.k, s.stride, s.dil, s.same, &p.out_w, &p.pad_left);
    return p;
}

inline int check_dw_s8(const char * name, dw_s8_kernel kernel) {
    uint32_t seed = 7;
    auto rnd = [&]() { seed = seed * 1664525u + 1013904223u; return static_cast<int>(seed >> 24); };  // 0..255
    int n_cases = 0, n_failed = 0;
    for (const dw_shape & s : dw_shapes()) {
        const fer_rt::conv_params p = dw_params(s);
        const size_t n_in = static_cast<size_t>(s.h) * s.w * s.c, n_w = static_cast<size_t>(s.k) * s.k * s.c;
        const size_t n_out = static_cast<size_t>(p.out_h) * p.out_w * s.c;
        std::vector<int8_t> x(n_in), w(n_w);
        std::vector<int32_t> b(static_cast<size_t>(s.c));
        std::vector<float> scale(static_cast<size_t>(s.c));
        for (int8_t & v : x) v = static_cast<int8_t>(rnd() - 128);
        for (int8_t & v : w) v = static_cast<int8_t>(rnd() - 128);
        for (size_t c = 0; c < b.size(); ++c) {
            b[c] = (rnd() - 128) * 50;
            scale[c] = 0.0005f + 0.0001f * static_cast<float>(c % 7);
        }
        for (const int in_zp : {-3, -128, 127}) {
            for (const bool with_bias : {true, false}) {
                fer_rt::quant_params q;
                q.in_zp = in_zp;
                q.out_zp = 5;
                q.act_min = s.act == fer_rt::act_relu ? 5 : -128;
                q.act_max = s.act == fer_rt::act_relu6 ? 100 : 127;
                q.scale = scale.data();
                const int32_t * bias = with_bias ? b.data() : nullptr;
                std::vector<int8_t> ref(n_out + k_canary_len, k_out_canary), got(n_out + k_canary_len, k_out_canary);
                fer_rt::fer_dwconv2d_s8__ref(p, q, x.data(), w.data(), bias, ref.data());
                kernel(p, q, x.data(), w.data(), bias, got.data());
                ++n_cases;
                if (ref != got) {
                    ++n_failed;
                    std::printf("FAIL %s depthwise: c %d k %d stride %d dil %d %s in %dx%d in_zp %d%s\n", name, s.c,
                                s.k, s.stride, s.dil, s.same ? "SAME" : "VALID", s.h, s.w, in_zp,
                                with_bias ? "" : " no bias");
                }
            }
        }
    }
    std::printf("[ %s ] %d int8 depthwise cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// ---- int8 max pooling ----

typedef void (*maxpool_s8_kernel)(const fer_rt::pool_params &, int32_t, int32_t, const int8_t *, int8_t *);

// Channel counts around 16- and 32-lane blocks, windows cut by SAME padding,
// strides 1-2, a clamp inside the int8 range; a canary past the output.
// Returns the number of cases that differ from fer_maxpool2d_s8__ref.
inline int check_maxpool_s8(const char * name, maxpool_s8_kernel kernel) {
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> byte(-128, 127);
    int n_cases = 0, n_failed = 0;
    for (const int c : {1, 7, 16, 31, 32, 33, 64, 70}) {
        for (const int f : {2, 3}) {
            for (const int stride : {1, 2}) {
                fer_rt::pool_params p;
                p.n = 2;
                p.in_h = 9;
                p.in_w = 11;
                p.c = c;
                p.f_h = p.f_w = f;
                p.stride_h = p.stride_w = stride;
                p.out_h = (p.in_h + stride - 1) / stride;  // SAME
                p.out_w = (p.in_w + stride - 1) / stride;
                const int pad_h = (p.out_h - 1) * stride + f - p.in_h, pad_w = (p.out_w - 1) * stride + f - p.in_w;
                p.pad_top = pad_h > 0 ? pad_h / 2 : 0;
                p.pad_left = pad_w > 0 ? pad_w / 2 : 0;
                std::vector<int8_t> in(static_cast<size_t>(p.n) * p.in_h * p.in_w * c);
                for (int8_t & v : in) {
                    v = static_cast<int8_t>(byte(rng));
                }
                const size_t n_out = static_cast<size_t>(p.n) * p.out_h * p.out_w * c;
                for (const int lo : {-128, -20}) {
                    const int hi = lo == -128 ? 127 : 60;
                    std::vector<int8_t> ref(n_out + k_canary_len, k_out_canary), got(n_out + k_canary_len, k_out_canary);
                    fer_rt::fer_maxpool2d_s8__ref(p, lo, hi, in.data(), ref.data());
                    kernel(p, lo, hi, in.data(), got.data());
                    ++n_cases;
                    if (ref != got) {
                        ++n_failed;
                        std::printf("FAIL %s max pooling: channels %d filter %d stride %d range [%d, %d]\n", name, c, f,
                                    stride, lo, hi);
                    }
                }
            }
        }
    }
    std::printf("[ %s ] %d int8 max pooling cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// ---- ADD (int8, TFLite's fixed-point arithmetic) ----

typedef void (*add_s8_kernel)(size_t, const fer_rt::add_params &, const int8_t *, const int8_t *, int8_t *);

// Every (a, b) pair of int8 values once, then a scalar tail; five scale
// triples (multipliers with left and right shifts), two clamps. Returns the
// number of cases that differ from fer_add_s8__ref.
inline int check_add_s8(const char * name, add_s8_kernel kernel) {
    std::vector<int8_t> a(65536 + 5), b(a.size());
    for (size_t i = 0; i < a.size(); ++i) {
        a[i] = static_cast<int8_t>(i & 0xff);
        b[i] = static_cast<int8_t>((i >> 8) & 0xff);
    }
    const double scales[][3] = {{0.05, 0.07, 0.09}, {0.5, 0.002, 0.01}, {0.001, 0.9, 2.5}, {0.02, 0.02, 0.004},
                                {1.0, 1.0, 0.5}};
    int n_cases = 0, n_failed = 0;
    for (const auto & sc : scales) {
        for (const int act_min : {-128, -7}) {
            fer_rt::add_params p;
            fer_rt::fer_add_params_init(sc[0], sc[1], sc[2], &p);
            p.in1_zp = 3;
            p.in2_zp = -20;
            p.out_zp = -5;
            p.act_min = act_min;
            std::vector<int8_t> ref(a.size() + k_canary_len, k_out_canary), got(a.size() + k_canary_len, k_out_canary);
            fer_rt::fer_add_s8__ref(a.size(), p, a.data(), b.data(), ref.data());
            kernel(a.size(), p, a.data(), b.data(), got.data());
            ++n_cases;
            bool seen[256] = {};
            int distinct = 0;
            for (size_t i = 0; i < a.size(); ++i) {
                distinct += seen[ref[i] + 128] ? 0 : 1;
                seen[ref[i] + 128] = true;
            }
            if (ref != got || distinct <= 16) {  // the outputs must vary for the comparison to mean anything
                ++n_failed;
                std::printf("FAIL %s add: scales %g %g %g act_min %d (%d distinct outputs)\n", name, sc[0], sc[1],
                            sc[2], act_min, distinct);
            }
        }
    }
    std::printf("[ %s ] %d add cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// ---- QUANTIZE (float32 -> int8) ----

typedef void (*quantize_s8_kernel)(size_t, float, int32_t, const float *, int8_t *);

// Ties at every .5, values just below a half, large and infinite values, NaN,
// -0, a scalar tail; four scales and zero points at both ends. Returns the
// number of (scale, zero point) pairs that differ from fer_quantize_s8__ref.
inline int check_quantize_s8(const char * name, quantize_s8_kernel kernel) {
    std::vector<float> x;
    for (int i = -2000; i <= 2000; ++i) {
        x.push_back(static_cast<float>(i) * 0.25f);  // ties at every .5
        x.push_back(std::nextafter(static_cast<float>(i) + 0.5f, 0.0f));
        x.push_back(static_cast<float>(i) * 0.0371f);
    }
    for (const float v : {1e30f, -1e30f, 3e9f, -3e9f, INFINITY, -INFINITY, NAN, -0.0f, 0.49999997f, -0.49999997f}) {
        x.push_back(v);
    }
    x.push_back(1.5f);  // a scalar tail
    int n_cases = 0, n_failed = 0;
    for (const float scale : {1.0f, 0.1f, 0.0371f, 7.5f}) {
        for (const int32_t zp : {0, -128, 127, 13}) {
            std::vector<int8_t> ref(x.size() + k_canary_len, k_out_canary), got(x.size() + k_canary_len, k_out_canary);
            fer_rt::fer_quantize_s8__ref(x.size(), scale, zp, x.data(), ref.data());
            kernel(x.size(), scale, zp, x.data(), got.data());
            ++n_cases;
            if (ref != got) {
                ++n_failed;
                std::printf("FAIL %s quantize: scale %g zero point %d\n", name, static_cast<double>(scale), zp);
            }
        }
    }
    std::printf("[ %s ] %d quantize cases, %d differ from the reference\n", name, n_cases, n_failed);
    return n_failed;
}

// ---- float32 convolution (OHWI weights, the reference's signature) ----

// Every element (the canary past the output too) within tol * (|ref| + 1).
inline bool floats_close(const std::vector<float> & got, const std::vector<float> & ref, double tol) {
    for (size_t i = 0; i < ref.size(); ++i) {
        if (!(std::fabs(got[i] - ref[i]) <= tol * (std::fabs(ref[i]) + 1.0))) {
            return false;
        }
    }
    return got.size() == ref.size();
}

typedef void (*conv_f32_kernel)(const fer_rt::conv_params &, const float *, const float *, const float *, float *);

// Output widths around the vector lengths, input channels with and without a
// tail of 8, 1x1 to 5x5 windows, strides, dilation, SAME and VALID, every
// fused activation, with and without bias: the kernel against
// fer_conv2d_f32__ref, within float rounding of a sum of k*k*in_c products,
// with a canary after the output.
inline int check_conv_f32(const char * name, conv_f32_kernel kernel) {
    uint32_t seed = 11;
    auto rnd = [&]() {
        seed = seed * 1664525u + 1013904223u;
        return static_cast<float>(static_cast<int>(seed >> 16) - 32768) / 16384.0f;  // -2..2
    };
    int n_cases = 0, n_failed = 0;
    for (int out_c : {1, 4, 7, 8, 9, 10, 33, 70}) {
        for (int in_c : {1, 3, 8, 17, 64}) {
            for (int k : {1, 3, 5}) {
                fer_rt::conv_params p;
                const int stride = 1 + (out_c + in_c + k) % 2, dil = (k == 3 && in_c == 3) ? 2 : 1;
                const bool same = (out_c + k) % 3 != 0;
                p.in_h = 9 + out_c % 3;
                p.in_w = 8 + in_c % 4;
                p.in_c = in_c;
                p.out_c = out_c;
                p.k_h = p.k_w = k;
                p.stride_h = p.stride_w = stride;
                p.dil_h = p.dil_w = dil;
                p.act = (out_c + in_c) % 4;
                fer_rt::fer_window_geometry(p.in_h, k, stride, dil, same, &p.out_h, &p.pad_top);
                fer_rt::fer_window_geometry(p.in_w, k, stride, dil, same, &p.out_w, &p.pad_left);
                std::vector<float> x(static_cast<size_t>(p.in_h) * p.in_w * in_c);
                std::vector<float> w(static_cast<size_t>(out_c) * k * k * in_c), b(static_cast<size_t>(out_c));
                for (float & v : x) v = rnd();
                for (float & v : w) v = rnd();
                for (float & v : b) v = rnd();
                const size_t n_out = static_cast<size_t>(p.out_h) * p.out_w * out_c;
                const double tol = 1e-6 * std::sqrt(static_cast<double>(k * k * in_c)) * 4;
                for (const bool with_bias : {true, false}) {
                    std::vector<float> ref(n_out + 8, 123.0f), got(n_out + 8, 123.0f);
                    fer_rt::fer_conv2d_f32__ref(p, x.data(), w.data(), with_bias ? b.data() : nullptr, ref.data());
                    kernel(p, x.data(), w.data(), with_bias ? b.data() : nullptr, got.data());
                    ++n_cases;
                    if (!floats_close(got, ref, tol)) {
                        ++n_failed;
                        std::printf("FAIL %s float conv: out_c %d in_c %d k %d stride %d dil %d %s%s\n", name, out_c,
                                    in_c, k, stride, dil, same ? "SAME" : "VALID", with_bias ? "" : " no bias");
                    }
                }
            }
        }
    }
    std::printf("[ %s ] %d float32 conv cases, %d differ from the reference beyond rounding\n", name, n_cases,
                n_failed);
    return n_failed;
}

// The float32 depthwise kernels on dw_shapes(), bias and no bias, against
// fer_dwconv2d_f32__ref: exact when `exact` (same operations in the same
// order), else within float rounding of a k*k-term sum; a canary past the output.
inline int check_dw_f32(const char * name, conv_f32_kernel kernel, bool exact) {
    uint32_t seed = 13;
    auto rnd = [&]() {
        seed = seed * 1664525u + 1013904223u;
        return static_cast<float>(static_cast<int>(seed >> 16) - 32768) / 16384.0f;  // -2..2
    };
    int n_cases = 0, n_failed = 0;
    for (const dw_shape & s : dw_shapes()) {
        const fer_rt::conv_params p = dw_params(s);
        std::vector<float> x(static_cast<size_t>(s.h) * s.w * s.c), w(static_cast<size_t>(s.k) * s.k * s.c);
        std::vector<float> b(static_cast<size_t>(s.c));
        for (float & v : x) v = rnd();
        for (float & v : w) v = rnd();
        for (float & v : b) v = rnd();
        const size_t n_out = static_cast<size_t>(p.out_h) * p.out_w * s.c;
        const double tol = exact ? 0.0 : 4e-6 * s.k * s.k;
        for (const bool with_bias : {true, false}) {
            std::vector<float> ref(n_out + 8, 123.0f), got(n_out + 8, 123.0f);
            fer_rt::fer_dwconv2d_f32__ref(p, x.data(), w.data(), with_bias ? b.data() : nullptr, ref.data());
            kernel(p, x.data(), w.data(), with_bias ? b.data() : nullptr, got.data());
            ++n_cases;
            if (!floats_close(got, ref, tol)) {
                ++n_failed;
                std::printf("FAIL %s float depthwise: c %d k %d stride %d dil %d %s in %dx%d%s\n", name, s.c, s.k,
                            s.stride, s.dil, s.same ? "SAME" : "VALID", s.h, s.w, with_bias ? "" : " no bias");
            }
        }
    }
    std::printf("[ %s ] %d float32 depthwise cases, %d differ from the reference%s\n", name, n_cases, n_failed,
                exact ? "" : " beyond rounding");
    return n_failed;
}

}  // namespace fer_kernel_test
