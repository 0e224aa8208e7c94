// The runtime (src/, include/fer.h) against libtorch and against broken files:
//
//   Kernels   each reference kernel against the libtorch op on random data
//             (odd channel counts, SAME/VALID, strides, dilation, multipliers)
//   Export    fer export's file, run by the runtime, against libtorch's forward
//             pass: random-weight fernet and seed (random batch-norm statistics,
//             so folding is exercised), the shipped model when present; faces
//             from samples/ plus synthetic ones. max |diff| <= 1e-4, same top class.
//   CAM       the runtime's class activation map against features x weights
//   Robustness hand-made broken files, each rejected with a clear message;
//             random corruptions never crash the loader
//   Interop   the same files in a real TFLite interpreter (tfjs-tflite in Node,
//             tests/interop/); skipped when tests/interop/node_modules is absent
#include "checkpoint.h"
#include "dataset.h"
#include "export-tflite.h"
#include "image-io.h"
#include "infer.h"
#include "kernels.h"
#include "models.h"

#include "fer-cpp.h"
#include "fer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>
#include <string>
#include <vector>

namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using namespace fer;

namespace {

// ---------------------------------------------------------------- helpers

std::string temp_dir(const std::string & name) {
    const fs::path p = fs::temp_directory_path() / ("fer-test-runtime-" + name + "-" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p.string();
}

struct log_capture {
    std::string text;
    fer_model_params params() {
        fer_model_params p = fer_model_default_params();
        p.log_user_data = this;
        p.log_callback = [](int, const char * msg, void * user) { static_cast<log_capture *>(user)->text += msg; };
        return p;
    }
};

std::vector<float> to_vec(const torch::Tensor & t) {
    torch::Tensor c = t.contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Tolerance for one float kernel output: accumulation order differs from
// libtorch's (oneDNN/blocked sums), so allow a relative error growing with
// the length of the sum.
void expect_close(const std::vector<float> & got, const torch::Tensor & want_nhwc, double tol, const std::string & what) {
    const std::vector<float> want = to_vec(want_nhwc);
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i) {
        if (std::fabs(got[i] - want[i]) > tol * (std::fabs(want[i]) + 1.0)) {
            FAIL() << what << ": element " << i << " got " << got[i] << " want " << want[i];
        }
    }
}

torch::Tensor nchw_to_nhwc(const torch::Tensor & x) { return x.permute({0, 2, 3, 1}).contiguous(); }

// TFLite padding (before, after) of one axis.
std::pair<int, int> tfl_pad(int in, int k, int s, int d, bool same) {
    int out, before;
    fer_rt::fer_window_geometry(in, k, s, d, same, &out, &before);
    const int total = same ? std::max((out - 1) * s + (k - 1) * d + 1 - in, 0) : 0;
    return {before, total - before};
}

void write_bytes(const std::string & path, const void * p, size_t n) {
    std::ofstream f(path, std::ios::binary);
    f.write(static_cast<const char *>(p), static_cast<std::streamsize>(n));
}

// ---------------------------------------------------------------- kernels

struct conv_case {
    int h, w, cin, cout, k, stride, dil;
    bool same, depthwise;
    int act;
};

TEST(Kernels, ConvAndDepthwiseMatchLibtorch) {
    torch::manual_seed(1);
    const conv_case cases[] = {
        {48, 48, 1, 32, 3, 1, 1, true, false, fer_rt::act_relu},
        {12, 12, 7, 5, 3, 2, 1, true, false, fer_rt::act_none},
        {13, 11, 3, 9, 5, 2, 1, true, false, fer_rt::act_relu6},
        {10, 9, 4, 3, 3, 1, 2, false, false, fer_rt::act_none},
        {9, 9, 5, 1, 1, 3, 1, false, false, fer_rt::act_relu},
        {24, 24, 3, 3, 3, 1, 1, true, true, fer_rt::act_relu},
        {15, 16, 3, 6, 3, 2, 1, true, true, fer_rt::act_none},   // depth multiplier 2
        {11, 11, 5, 15, 5, 1, 2, false, true, fer_rt::act_relu6}, // multiplier 3, dilation
    };
    for (const conv_case & c : cases) {
        const std::string what = "conv h" + std::to_string(c.h) + " w" + std::to_string(c.w) + " cin" +
                                 std::to_string(c.cin) + " cout" + std::to_string(c.cout) + " k" + std::to_string(c.k) +
                                 " s" + std::to_string(c.stride) + " d" + std::to_string(c.dil) +
                                 (c.same ? " SAME" : " VALID") + (c.depthwise ? " depthwise" : "") + " act" +
                                 std::to_string(c.act);
        torch::Tensor x = torch::randn({1, c.cin, c.h, c.w});
        torch::Tensor w = c.depthwise ? torch::randn({c.cout, 1, c.k, c.k}) : torch::randn({c.cout, c.cin, c.k, c.k});
        torch::Tensor b = torch::randn({c.cout});
        const auto ph = tfl_pad(c.h, c.k, c.stride, c.dil, c.same), pw = tfl_pad(c.w, c.k, c.stride, c.dil, c.same);
        torch::Tensor xp = F::pad(x, F::PadFuncOptions({pw.first, pw.second, ph.first, ph.second}));
        torch::Tensor y = F::conv2d(xp, w, F::Conv2dFuncOptions().bias(b).stride(c.stride).dilation(c.dil).groups(
                                               c.depthwise ? c.cin : 1));
        if (c.act == fer_rt::act_relu) {
            y = torch::relu(y);
        } else if (c.act == fer_rt::act_relu6) {
            y = torch::clamp(y, 0, 6);
        }
        fer_rt::conv_params p;
        p.in_h = c.h;
        p.in_w = c.w;
        p.in_c = c.cin;
        p.out_c = c.cout;
        p.k_h = p.k_w = c.k;
        p.stride_h = p.stride_w = c.stride;
        p.dil_h = p.dil_w = c.dil;
        p.act = c.act;
        p.depth_multiplier = c.cout / c.cin;
        fer_rt::fer_window_geometry(c.h, c.k, c.stride, c.dil, c.same, &p.out_h, &p.pad_top);
        fer_rt::fer_window_geometry(c.w, c.k, c.stride, c.dil, c.same, &p.out_w, &p.pad_left);
        ASSERT_EQ(p.out_h, y.size(2)) << what;
        ASSERT_EQ(p.out_w, y.size(3)) << what;
        const std::vector<float> xin = to_vec(nchw_to_nhwc(x)), bias = to_vec(b);
        std::vector<float> wt, out(static_cast<size_t>(p.out_h * p.out_w * p.out_c));
        if (c.depthwise) {
            wt = to_vec(w.permute({1, 2, 3, 0}));  // [C*m,1,k,k] -> [1,k,k,C*m]
            fer_rt::fer_dwconv2d_f32__ref(p, xin.data(), wt.data(), bias.data(), out.data());
        } else {
            wt = to_vec(w.permute({0, 2, 3, 1}));  // OIHW -> OHWI
            fer_rt::fer_conv2d_f32__ref(p, xin.data(), wt.data(), bias.data(), out.data());
        }
        expect_close(out, nchw_to_nhwc(y), 1e-5 * std::sqrt(c.k * c.k * c.cin), what);
    }
}

TEST(Kernels, PoolsMeanFcSoftmaxMatchLibtorch) {
    torch::manual_seed(2);
    struct pool_case {
        int h, w, c, f, s;
        bool same;
    };
    for (const pool_case & c : {pool_case{48, 48, 32, 2, 2, false}, pool_case{13, 12, 3, 3, 2, true},
                                pool_case{7, 9, 5, 3, 1, true}, pool_case{6, 6, 1, 2, 3, false}}) {
        const std::string what = "pool h" + std::to_string(c.h) + " w" + std::to_string(c.w) + " c" +
                                 std::to_string(c.c) + " f" + std::to_string(c.f) + " s" + std::to_string(c.s) +
                                 (c.same ? " SAME" : " VALID");
        torch::Tensor x = torch::randn({1, c.c, c.h, c.w});
        const auto ph = tfl_pad(c.h, c.f, c.s, 1, c.same), pw = tfl_pad(c.w, c.f, c.s, 1, c.same);
        const std::vector<int64_t> pad = {pw.first, pw.second, ph.first, ph.second};
        // max: pad with -inf; average: TFLite divides by the cells inside the input
        torch::Tensor mx = F::max_pool2d(F::pad(x, F::PadFuncOptions(pad).value(-INFINITY)),
                                         F::MaxPool2dFuncOptions(c.f).stride(c.s));
        torch::Tensor sum = F::avg_pool2d(F::pad(x, F::PadFuncOptions(pad)), F::AvgPool2dFuncOptions(c.f).stride(c.s));
        torch::Tensor cnt = F::avg_pool2d(F::pad(torch::ones_like(x), F::PadFuncOptions(pad)),
                                          F::AvgPool2dFuncOptions(c.f).stride(c.s));
        fer_rt::pool_params p;
        p.in_h = c.h;
        p.in_w = c.w;
        p.c = c.c;
        p.f_h = p.f_w = c.f;
        p.stride_h = p.stride_w = c.s;
        fer_rt::fer_window_geometry(c.h, c.f, c.s, 1, c.same, &p.out_h, &p.pad_top);
        fer_rt::fer_window_geometry(c.w, c.f, c.s, 1, c.same, &p.out_w, &p.pad_left);
        const std::vector<float> xin = to_vec(nchw_to_nhwc(x));
        std::vector<float> out(static_cast<size_t>(p.out_h * p.out_w * c.c));
        fer_rt::fer_maxpool2d_f32__ref(p, xin.data(), out.data());
        expect_close(out, nchw_to_nhwc(mx), 0.0, what + " max");
        fer_rt::fer_avgpool2d_f32__ref(p, xin.data(), out.data());
        expect_close(out, nchw_to_nhwc(sum / cnt), 1e-6, what + " average");
        // int8 max pooling: integers are exact in float; clamped to an activation range inside int8
        torch::Tensor xq = torch::randint(-128, 128, {1, c.c, c.h, c.w}, torch::kFloat);
        torch::Tensor mq = F::max_pool2d(F::pad(xq, F::PadFuncOptions(pad).value(-INFINITY)),
                                         F::MaxPool2dFuncOptions(c.f).stride(c.s))
                               .clamp(-100, 120);
        const std::vector<float> xqf = to_vec(nchw_to_nhwc(xq));
        std::vector<int8_t> qin(xqf.size()), qout(out.size());
        for (size_t i = 0; i < xqf.size(); ++i) {
            qin[i] = static_cast<int8_t>(xqf[i]);
        }
        fer_rt::fer_maxpool2d_s8__ref(p, -100, 120, qin.data(), qout.data());
        expect_close(std::vector<float>(qout.begin(), qout.end()), nchw_to_nhwc(mq), 0.0, what + " int8 max");
        // int8 average: the mean of the cells inside the input, rounded half away from zero, clamped
        torch::Tensor qsum = F::avg_pool2d(F::pad(xq, F::PadFuncOptions(pad)), F::AvgPool2dFuncOptions(c.f).stride(c.s)) *
                             (c.f * c.f);
        torch::Tensor qmean = qsum.round() / cnt / (c.f * c.f);
        torch::Tensor qavg = (torch::sign(qmean) * torch::floor(torch::abs(qmean) + 0.5)).clamp(-100, 120);
        fer_rt::fer_avgpool2d_s8__ref(p, -100, 120, qin.data(), qout.data());
        expect_close(std::vector<float>(qout.begin(), qout.end()), nchw_to_nhwc(qavg), 0.0, what + " int8 average");
    }
    // MEAN over H, W (keep_dims or not: same values) and over the last axis
    torch::Tensor x = torch::randn({1, 6, 5, 7});  // NHWC
    const int dims[4] = {1, 6, 5, 7};
    std::vector<float> xin = to_vec(x), out(7), out2(30);
    fer_rt::fer_mean_f32__ref(dims, 4, 6u, xin.data(), out.data());
    expect_close(out, x.mean({1, 2}), 1e-6, "mean axes 1,2");
    fer_rt::fer_mean_f32__ref(dims, 4, 8u, xin.data(), out2.data());
    expect_close(out2, x.mean({3}), 1e-6, "mean axis 3");
    // FULLY_CONNECTED, batch 3, 13 -> 5, ReLU
    torch::Tensor a = torch::randn({3, 13}), w = torch::randn({5, 13}), b = torch::randn({5});
    std::vector<float> ain = to_vec(a), win = to_vec(w), bin = to_vec(b), y(15);
    fer_rt::fer_fc_f32__ref(3, 13, 5, ain.data(), win.data(), bin.data(), fer_rt::act_relu, y.data());
    expect_close(y, torch::relu(F::linear(a, w, b)), 1e-5, "fully connected");
    // SOFTMAX with beta, ADD with RELU6
    torch::Tensor z = 4 * torch::randn({2, 7});
    std::vector<float> zin = to_vec(z), s(14);
    fer_rt::fer_softmax_f32__ref(2, 7, 0.5f, zin.data(), s.data());
    expect_close(s, torch::softmax(0.5 * z, 1), 1e-6, "softmax");
    torch::Tensor u = 4 * torch::randn({3, 5}), v = 4 * torch::randn({3, 5});
    std::vector<float> uin = to_vec(u), vin = to_vec(v), sum(15);
    fer_rt::fer_add_f32__ref(15, uin.data(), vin.data(), fer_rt::act_relu6, sum.data());
    expect_close(sum, torch::clamp(u + v, 0, 6), 1e-6, "add relu6");
}

#ifdef FER_HAVE_AVX2
// Every AVX2 kernel against its reference twin: output channels around the
// vector width (1, 7, 8, 9, 31, 33, 70), odd input channels, strides,
// dilation, SAME/VALID, activations. Each failure prints its parameters.
TEST(Kernels, Avx2MatchesReference) {
    if (!fer_rt::fer_cpu_has_avx2_fma()) {
        GTEST_SKIP() << "this CPU has no AVX2/FMA";
    }
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 1.0f);
    auto rnd = [&](size_t n) {
        std::vector<float> v(n);
        for (float & x : v) x = g(rng);
        return v;
    };
    // the float convolution: ConvKernels.Avx2MatchesReference (test-graph-ops.cpp, the shared float cases)
    int n_cases = 0;
    for (int n_in : {1, 7, 8, 15, 16, 17, 192, 1001}) {
        for (int n_out : {1, 7, 9}) {
            const std::vector<float> x = rnd(static_cast<size_t>(2 * n_in)), w = rnd(static_cast<size_t>(n_in * n_out)),
                                     b = rnd(static_cast<size_t>(n_out));
            std::vector<float> ref(static_cast<size_t>(2 * n_out)), got(ref.size());
            const int act = n_in % 4;
            fer_rt::fer_fc_f32__ref(2, n_in, n_out, x.data(), w.data(), b.data(), act, ref.data());
            fer_rt::fer_fc_f32__avx2(2, n_in, n_out, x.data(), w.data(), b.data(), act, got.data());
            for (size_t i = 0; i < ref.size(); ++i) {
                ASSERT_LE(std::fabs(got[i] - ref[i]), 4e-6 * std::sqrt(static_cast<double>(n_in)) * (std::fabs(ref[i]) + 1.0))
                    << "fc n_in " << n_in << " n_out " << n_out << " act " << act << ": element " << i;
            }
            ++n_cases;
        }
    }
    // The int8 convolutions (AVX2, AVX-VNNI): Kernels.Int8ConvTwinsMatchReference,
    // test-runtime-c.cpp, on the cases every target shares (tests/kernel-tester.h).
    std::printf("[ avx2 ] %d float fully connected cases match the reference\n", n_cases);
}
#endif

// int8 kernels against float arithmetic on the dequantised values: the exact
// result rounded to the output grid, so within one LSB (the kernels round in
// float32, half to even, as XNNPACK does). Odd channel counts, SAME padding,
// stride 2, depth multiplier 2, fused ReLU.
TEST(Kernels, Int8ConvDepthwiseFcWithinOneLsb) {
    std::mt19937 rng(4);
    std::uniform_int_distribution<int> q8(-128, 127), w8(-127, 127), b32(-2000, 2000);
    for (int dw = 0; dw < 2; ++dw) {
        fer_rt::conv_params p;
        p.in_h = 13;
        p.in_w = 11;
        p.in_c = 3;
        p.out_c = dw ? 6 : 5;
        p.k_h = p.k_w = 3;
        p.stride_h = p.stride_w = 2;
        p.depth_multiplier = dw ? 2 : 1;
        p.act = fer_rt::act_relu;
        fer_rt::fer_window_geometry(p.in_h, 3, 2, 1, true, &p.out_h, &p.pad_top);
        fer_rt::fer_window_geometry(p.in_w, 3, 2, 1, true, &p.out_w, &p.pad_left);
        const float s_in = 0.05f, s_out = 0.11f;
        std::vector<float> s_w(static_cast<size_t>(p.out_c)), scale(s_w.size());
        for (size_t c = 0; c < s_w.size(); ++c) {
            s_w[c] = 0.002f * static_cast<float>(c + 1);
            scale[c] = s_in * s_w[c] / s_out;
        }
        fer_rt::quant_params q;
        q.in_zp = 7;
        q.out_zp = -20;
        q.act_min = q.out_zp;  // ReLU
        q.scale = scale.data();
        std::vector<int8_t> x(static_cast<size_t>(p.in_h * p.in_w * p.in_c)), out(static_cast<size_t>(p.out_h * p.out_w * p.out_c));
        std::vector<int8_t> w(static_cast<size_t>(dw ? 9 * p.out_c : p.out_c * 9 * p.in_c));
        std::vector<int32_t> bias(static_cast<size_t>(p.out_c));
        for (auto & v : x) v = static_cast<int8_t>(q8(rng));
        for (auto & v : w) v = static_cast<int8_t>(w8(rng));
        for (auto & v : bias) v = b32(rng);
        if (dw) {
            fer_rt::fer_dwconv2d_s8__ref(p, q, x.data(), w.data(), bias.data(), out.data());
        } else {
            fer_rt::fer_conv2d_s8__ref(p, q, x.data(), w.data(), bias.data(), out.data());
        }
        int worst = 0;
        for (int oy = 0; oy < p.out_h; ++oy) {
            for (int ox = 0; ox < p.out_w; ++ox) {
                for (int oc = 0; oc < p.out_c; ++oc) {
                    double acc = bias[static_cast<size_t>(oc)];
                    for (int ky = 0; ky < 3; ++ky) {
                        for (int kx = 0; kx < 3; ++kx) {
                            const int iy = oy * 2 - p.pad_top + ky, ix = ox * 2 - p.pad_left + kx;
                            if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
                            for (int ic = 0; ic < p.in_c; ++ic) {
                                if (dw && ic != oc / 2) continue;
                                const int wi = dw ? (ky * 3 + kx) * p.out_c + oc : ((oc * 3 + ky) * 3 + kx) * p.in_c + ic;
                                acc += (x[static_cast<size_t>((iy * p.in_w + ix) * p.in_c + ic)] - q.in_zp) *
                                       static_cast<double>(w[static_cast<size_t>(wi)]);
                            }
                        }
                    }
                    const double real = acc * s_in * s_w[static_cast<size_t>(oc)];
                    const double want = std::clamp(std::round(real / s_out) + q.out_zp, static_cast<double>(q.act_min), 127.0);
                    const int got = out[static_cast<size_t>((oy * p.out_w + ox) * p.out_c + oc)];
                    worst = std::max(worst, static_cast<int>(std::fabs(got - want)));
                }
            }
        }
        EXPECT_LE(worst, 1) << (dw ? "depthwise" : "conv") << " int8: worst difference " << worst << " LSB";
    }
    // fully connected, per-tensor weights
    std::vector<int8_t> a(2 * 37), w(5 * 37), y(10);
    std::vector<int32_t> bias(5);
    for (auto & v : a) v = static_cast<int8_t>(q8(rng));
    for (auto & v : w) v = static_cast<int8_t>(w8(rng));
    for (auto & v : bias) v = b32(rng);
    const float sc = 0.03f * 0.01f / 0.2f;
    std::vector<float> scale(5, sc);
    fer_rt::quant_params q;
    q.in_zp = -3;
    q.out_zp = 4;
    q.scale = scale.data();
    fer_rt::fer_fc_s8__ref(2, 37, 5, q, a.data(), w.data(), bias.data(), y.data());
    for (int b = 0; b < 2; ++b) {
        for (int o = 0; o < 5; ++o) {
            double acc = bias[static_cast<size_t>(o)];
            for (int i = 0; i < 37; ++i) {
                acc += (a[static_cast<size_t>(b * 37 + i)] - q.in_zp) * static_cast<double>(w[static_cast<size_t>(o * 37 + i)]);
            }
            const double want = std::clamp(std::round(acc * sc) + q.out_zp, -128.0, 127.0);
            EXPECT_LE(std::fabs(y[static_cast<size_t>(b * 5 + o)] - want), 1.0) << "fc b" << b << " o" << o;
        }
    }
    // average pool rounds half away from zero; mean over H, W; quantize/dequantize round trip
    fer_rt::pool_params pp;
    pp.in_h = pp.in_w = 2;
    pp.c = 1;
    pp.f_h = pp.f_w = 2;
    pp.stride_h = pp.stride_w = 2;
    pp.out_h = pp.out_w = 1;
    const int8_t four[4] = {1, 2, 2, 1}, neg[4] = {-1, -2, -2, -1};  // means 1.5, -1.5
    int8_t r;
    fer_rt::fer_avgpool2d_s8__ref(pp, -128, 127, four, &r);
    EXPECT_EQ(r, 2);
    fer_rt::fer_avgpool2d_s8__ref(pp, -128, 127, neg, &r);
    EXPECT_EQ(r, -2);
    const int dims[4] = {1, 2, 2, 1};
    fer_rt::fer_mean_s8__ref(dims, 4, 6u, 0, 0.1f, 0, 0.1f, four, &r);
    EXPECT_EQ(r, 2);  // 1.5 rounds half to even
    const int8_t odd[4] = {2, 3, 3, 2};
    fer_rt::fer_mean_s8__ref(dims, 4, 6u, 0, 0.1f, 0, 0.1f, odd, &r);
    EXPECT_EQ(r, 2);  // 2.5 rounds half to even
    const float xs[5] = {-1.0f, -0.26f, 0.0f, 0.3f, 5.0f};
    int8_t qs[5];
    float back[5];
    fer_rt::fer_quantize_s8__ref(5, 0.02f, -10, xs, qs);
    fer_rt::fer_dequantize_s8__ref(5, 0.02f, -10, qs, back);
    EXPECT_EQ(qs[4], 127);  // saturates
    for (int i = 0; i < 4; ++i) {
        EXPECT_NEAR(back[i], xs[i], 0.01f + 1e-6f) << i;
    }
}

// ---------------------------------------------------------------- export + parity

// Random batch-norm statistics and affine parameters, so folding matters;
// the last layer scaled up so probabilities are far from uniform.
void randomise(Net & net, uint64_t seed) {
    torch::NoGradGuard no_grad;
    torch::manual_seed(seed);
    for (auto & m : net->modules(false)) {
        if (auto * bn = m->as<torch::nn::BatchNorm2d>()) {
            bn->running_mean.uniform_(-0.3, 0.3);
            bn->running_var.uniform_(0.5, 2.0);
            bn->weight.uniform_(0.6, 1.6);
            bn->bias.uniform_(-0.2, 0.2);
        }
    }
    auto & last = *net->head->children().back();
    if (auto * fc = last.as<torch::nn::Linear>()) {
        fc->weight.mul_(4.0);
    }
    net->eval();
}

dataset test_faces() {
    dataset d;
    std::vector<std::string> files;
    const fs::path samples = fs::path(FER_SOURCE_DIR) / "samples";
    std::error_code ec;
    for (const auto & e : fs::directory_iterator(samples, ec)) {
        files.push_back(e.path().string());
    }
    std::sort(files.begin(), files.end());
    uint8_t face[k_image_pixels];
    for (const auto & f : files) {
        std::string err;
        if (read_face_image(f, face, &err)) {
            d.append(face, 0, f);
        }
    }
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> px(0, 255);
    for (int i = 0; i < 9; ++i) {  // noise, gradients, flat and saturated faces
        for (int k = 0; k < k_image_pixels; ++k) {
            const int y = k / k_image_side, x = k % k_image_side;
            face[k] = static_cast<uint8_t>(i < 5 ? px(rng) : i == 5 ? (x * 5) : i == 6 ? (y * 5) : i == 7 ? 0 : 255);
        }
        d.append(face, 0, "synthetic");
    }
    return d;
}

struct parity_result {
    double max_abs = 0;
    int top_mismatch = 0;
    std::vector<float> probs;  // runtime, n x 7
};

parity_result run_parity(Net & net, const std::string & tflite, const dataset & d, bool reference_kernels = false) {
    parity_result r;
    log_capture log;
    fer_model_params params = log.params();
    params.reference_kernels = reference_kernels ? 1 : 0;
    fer::model m = fer::model::from_file(tflite.c_str(), params);
    EXPECT_TRUE(m) << log.text;
    if (!m) {
        return r;
    }
    fer::context ctx(m);
    const torch::Tensor want = predict_probabilities(net, d, 64);
    for (size_t i = 0; i < d.size(); ++i) {
        fer_result res;
        EXPECT_EQ(ctx.classify(d.image(i), k_image_side, &res), FER_OK);
        const float * p = want[static_cast<int64_t>(i)].data_ptr<float>();
        int top = 0;
        float sum = 0;
        for (int k = 0; k < FER_N_CLASSES; ++k) {
            r.max_abs = std::max(r.max_abs, static_cast<double>(std::fabs(res.probabilities[k] - p[k])));
            top = p[k] > p[top] ? k : top;
            r.probs.push_back(res.probabilities[k]);
            sum += res.probabilities[k];
        }
        EXPECT_NEAR(sum, 1.0f, 1e-5);
        r.top_mismatch += top != res.top_class;
    }
    return r;
}

TEST(Export, RandomFernetAndSeedMatchLibtorch) {
    const std::string dir = temp_dir("parity");
    const dataset faces = test_faces();
    ASSERT_GE(faces.size(), 9u);
    for (const char * arch : {"fernet", "fernet-s", "seed"}) {
        Net net = make_net(arch);
        randomise(net, 11);
        export_options opt;
        opt.commit = "test";
        const std::string path = dir + "/" + arch + ".tflite";
        const export_summary s = export_tflite(net, path, opt);
        EXPECT_EQ(s.has_cam, std::string(arch) != "seed");
        for (bool reference : {false, true}) {
            const parity_result r = run_parity(net, path, faces, reference);
            // 1e-4: the bound; float32 sums in another order differ by ~1e-6
            EXPECT_LE(r.max_abs, 1e-4) << arch << (reference ? " reference kernels" : " selected kernels");
            EXPECT_EQ(r.top_mismatch, 0) << arch;
            std::printf("[ parity ] %s (random weights), %s kernels: %zu faces, max |runtime - libtorch| = %.3g\n", arch,
                        reference ? "reference" : "selected", faces.size(), r.max_abs);
        }
    }
    fs::remove_all(dir);
}

TEST(Export, ShippedModelMatchesLibtorch) {
    const std::string shipped = std::string(FER_SOURCE_DIR) + "/models/fernet.pt";
    if (!fs::exists(shipped)) {
        GTEST_SKIP() << shipped << " is not there yet";
    }
    const std::string dir = temp_dir("shipped");
    Net net = load_model(shipped);
    const std::string path = dir + "/fernet.tflite";
    export_tflite(net, path, export_options());
    const dataset faces = test_faces();
    const parity_result r = run_parity(net, path, faces);
    EXPECT_LE(r.max_abs, 1e-4);
    EXPECT_EQ(r.top_mismatch, 0);
    std::printf("[ parity ] models/fernet.pt: %zu faces, max |runtime - libtorch| = %.3g\n", faces.size(), r.max_abs);
    fs::remove_all(dir);
}

TEST(Export, MetadataAndCam) {
    const std::string dir = temp_dir("meta");
    Net net = make_net("fernet");
    randomise(net, 5);
    export_options opt;
    opt.model_version = "7";
    opt.commit = "abc123";
    opt.training_data = "unit test";
    const std::string path = dir + "/m.tflite";
    export_tflite(net, path, opt);
    fer::model m = fer::model::from_file(path.c_str());
    ASSERT_TRUE(m);
    for (int c = 0; c < FER_N_CLASSES; ++c) {
        EXPECT_STREQ(m.label(c), fer_class_name(c));
    }
    EXPECT_STREQ(m.meta("model"), "fernet");
    EXPECT_STREQ(m.meta("version"), "7");
    EXPECT_STREQ(m.meta("commit"), "abc123");
    EXPECT_STREQ(m.meta("training_data"), "unit test");
    EXPECT_STREQ(m.meta("pixel_mean"), "127.5");
    EXPECT_STREQ(m.meta("pixel_std"), "63.75");
    EXPECT_EQ(m.meta("nope"), nullptr);
    int h = 0, w = 0;
    ASSERT_TRUE(m.has_cam(&h, &w));
    EXPECT_EQ(h, 6);
    EXPECT_EQ(w, 6);

    // CAM before any classification: a state error
    fer::context ctx(m);
    std::vector<float> cam(36);
    EXPECT_EQ(ctx.cam(0, cam.data(), cam.size()), FER_ERR_STATE);
    // CAM = fc.weight[k] . features[y][x]; its mean + bias = the logit
    const dataset faces = test_faces();
    fer_result res;
    ASSERT_EQ(ctx.classify(faces.image(0), k_image_side, &res), FER_OK);
    torch::NoGradGuard no_grad;
    torch::Tensor feat = net->features->forward(faces_tensor(faces, 0, 1));  // [1,192,6,6]
    auto * fc = net->head->children().back()->as<torch::nn::Linear>();
    ASSERT_NE(fc, nullptr);
    for (int k = 0; k < FER_N_CLASSES; ++k) {
        ASSERT_EQ(ctx.cam(k, cam.data(), cam.size()), FER_OK);
        torch::Tensor want = torch::einsum("c,chw->hw", {fc->weight[k], feat[0]}).contiguous();
        const float * pw = want.data_ptr<float>();
        for (int i = 0; i < 36; ++i) {
            ASSERT_NEAR(cam[static_cast<size_t>(i)], pw[i], 1e-4 * (std::fabs(pw[i]) + 1)) << "class " << k << " cell " << i;
        }
    }
    EXPECT_EQ(ctx.cam(7, cam.data(), cam.size()), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(ctx.cam(0, cam.data(), 35), FER_ERR_INVALID_ARGUMENT);

    // seed: no GAP head, no CAM
    Net seed = make_net("seed");
    export_tflite(seed, dir + "/seed.tflite", opt);
    fer::model ms = fer::model::from_file((dir + "/seed.tflite").c_str());
    ASSERT_TRUE(ms);
    EXPECT_FALSE(ms.has_cam());
    fer::context cs(ms);
    ASSERT_EQ(cs.classify(faces.image(0), k_image_side, &res), FER_OK);
    EXPECT_EQ(cs.cam(0, cam.data(), cam.size()), FER_ERR_UNSUPPORTED);
    fs::remove_all(dir);
}

// int8 against float32 on the same faces: the quantised model keeps the top
// class and stays close in probability (random weights, calibrated on the
// faces themselves); int8 CAM against the float CAM.
TEST(Export, Int8AgreesWithFloat) {
    const dataset faces = test_faces();
    for (const char * arch : {"fernet", "fernet-s", "seed"}) {
        Net net = make_net(arch);
        randomise(net, 13);
        const tfl_model f = net_to_tflite(net, export_options());
        const tfl_model q = quantize_tflite_int8(f, calibrate_tflite(f, faces.pixels.data(), faces.size()));
        const std::string fb = tflite_serialize(f), qb = tflite_serialize(q);
        log_capture log;
        fer::model mf = fer::model::from_buffer(fb.data(), fb.size()), mq = fer::model::from_buffer(qb.data(), qb.size(), log.params());
        ASSERT_TRUE(mq) << log.text;
        EXPECT_LT(qb.size() * 3, fb.size()) << "int8 file should be about 4x smaller";
        EXPECT_NE(std::string(mq.meta("precision")).find("int8"), std::string::npos);
        fer::context cf(mf), cq(mq);
        double max_abs = 0;
        int same_top = 0;
        for (size_t i = 0; i < faces.size(); ++i) {
            fer_result rf, rq;
            ASSERT_EQ(cf.classify(faces.image(i), 48, &rf), FER_OK);
            ASSERT_EQ(cq.classify(faces.image(i), 48, &rq), FER_OK);
            for (int k = 0; k < FER_N_CLASSES; ++k) {
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(rf.probabilities[k] - rq.probabilities[k])));
            }
            same_top += rf.top_class == rq.top_class;
            if (std::string(arch) == "fernet" && i == 0) {
                int h, w;
                ASSERT_TRUE(mq.has_cam(&h, &w));
                std::vector<float> a(36), b(36);
                double ref = 0, err = 0;
                for (int k = 0; k < FER_N_CLASSES; ++k) {
                    ASSERT_EQ(cf.cam(k, a.data(), 36), FER_OK);
                    ASSERT_EQ(cq.cam(k, b.data(), 36), FER_OK);
                    for (int j = 0; j < 36; ++j) {
                        ref = std::max(ref, static_cast<double>(std::fabs(a[static_cast<size_t>(j)])));
                        err = std::max(err, static_cast<double>(std::fabs(a[static_cast<size_t>(j)] - b[static_cast<size_t>(j)])));
                    }
                }
                EXPECT_LT(err, 0.1 * ref) << "int8 CAM far from float CAM";
            }
        }
        {  // the selected (AVX2) int8 kernels give the very same features as the reference ones; the
           // float head after them differs only by float rounding (FMA, summation order)
            fer_model_params rp = fer_model_default_params();
            rp.reference_kernels = 1;
            fer::model mr = fer::model::from_buffer(qb.data(), qb.size(), rp);
            fer::context cr(mr);
            for (size_t i = 0; i < faces.size(); ++i) {
                fer_result a, b;
                ASSERT_EQ(cq.classify(faces.image(i), 48, &a), FER_OK);
                ASSERT_EQ(cr.classify(faces.image(i), 48, &b), FER_OK);
                for (int k = 0; k < FER_N_CLASSES; ++k) {
                    ASSERT_NEAR(a.probabilities[k], b.probabilities[k], 1e-6f) << arch << " face " << i << " class " << k;
                }
                ASSERT_EQ(a.top_class, b.top_class) << arch << " face " << i;
            }
        }
        std::printf("[ int8 ] %s (random weights): %zu faces, max |int8 - float32| = %.3g, same top class %d\n", arch,
                    faces.size(), max_abs, same_top);
        // bounds for a random network calibrated on these very faces: loose on
        // purpose; real accuracy is measured on PublicTest by fer export --check-data
        EXPECT_LT(max_abs, 0.1) << arch;
        EXPECT_GE(same_top, static_cast<int>(faces.size()) - 2) << arch;
    }
}

TEST(Export, FileIsAStandardFlatBuffer) {
    Net net = make_net("fernet");
    const std::string bytes = tflite_serialize(net_to_tflite(net, export_options()));
    ASSERT_GT(bytes.size(), 3000000u);  // 843 K float32 weights
    EXPECT_EQ(bytes.substr(4, 4), "TFL3");
    // constant buffers are 16-byte aligned (schema: force_align 16)
    log_capture log;
    fer::model m = fer::model::from_buffer(bytes.data(), bytes.size(), log.params());
    EXPECT_TRUE(m) << log.text;
    EXPECT_GT(fer_model_arena_size(m.get()), 0u);
}

std::string run_cmd(const std::string & cmd, int * rc) {
    FILE * p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) {
        out += buf;
    }
    const int st = p ? pclose(p) : -1;
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

#ifdef FER_EXE
TEST(Export, CommandWritesAndChecksTheFile) {
    const std::string dir = temp_dir("cli");
    Net net = make_net("fernet");
    randomise(net, 3);
    save_model(dir + "/m.pt", net);
    int rc = 0;
    std::string out = run_cmd(std::string(FER_EXE) + " export --model " + dir + "/m.pt --out " + dir +
                                  "/m.tflite --check-faces 8 --commit cafe --version 2",
                              &rc);
    EXPECT_EQ(rc, 0) << out;
    std::printf("%s", out.c_str());
    EXPECT_NE(out.find("CONV_2D x8"), std::string::npos) << out;
    out = run_cmd(std::string(FER_EXE) + " export --model " + dir + "/m.pt --out " + dir +
                      "/m-ref.tflite --check-faces 8 --reference-kernels", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("runtime kernels: reference"), std::string::npos) << out;
    std::printf("%s", out.c_str());
    EXPECT_NE(out.find("check synthetic: 8 faces"), std::string::npos) << out;
    EXPECT_NE(out.find(": ok"), std::string::npos) << out;
    fer::model m = fer::model::from_file((dir + "/m.tflite").c_str());
    ASSERT_TRUE(m);
    EXPECT_STREQ(m.meta("commit"), "cafe");
    EXPECT_STREQ(m.meta("version"), "2");
    const std::string sample = std::string(FER_SHARED_DATA) + "/fer2013-sample.csv";
    if (fs::exists(sample)) {  // int8: calibrated on its Training rows, checked on its PublicTest rows
        out = run_cmd(std::string(FER_EXE) + " export --model " + dir + "/m.pt --out " + dir + "/m8.tflite --int8" +
                          " --calibration " + sample + " --samples 32 --check-faces 0 --check-data " + sample +
                          " --check-max 100 --min-agreement 0.9",
                      &rc);
        EXPECT_EQ(rc, 0) << out;
        EXPECT_NE(out.find("calibrated on 32 Training faces"), std::string::npos) << out;
        EXPECT_NE(out.find("check PublicTest: 100 faces"), std::string::npos) << out;
        EXPECT_NE(out.find("runtime int8"), std::string::npos) << out;
        std::printf("%s", out.c_str());
        fer::model m8 = fer::model::from_file((dir + "/m8.tflite").c_str());
        ASSERT_TRUE(m8);
        EXPECT_LT(fs::file_size(dir + "/m8.tflite") * 3, fs::file_size(dir + "/m.tflite"));
        std::printf("[ export ] fernet float32 %ju bytes, int8 %ju bytes\n",
                    static_cast<uintmax_t>(fs::file_size(dir + "/m.tflite")),
                    static_cast<uintmax_t>(fs::file_size(dir + "/m8.tflite")));
    }
    out = run_cmd(std::string(FER_EXE) + " export --model " + dir + "/m.pt", &rc);
    EXPECT_EQ(rc, 1) << out;  // usage: --out missing
    out = run_cmd(std::string(FER_EXE) + " export --model " + dir + "/missing.pt --out " + dir + "/x.tflite", &rc);
    EXPECT_EQ(rc, 2) << out;  // bad input
    fs::remove_all(dir);
}
#endif

// A graph with the ops fer's networks do not use (DEPTHWISE, AVERAGE_POOL,
// ADD, SAME padding with stride 2, RELU6), checked by the real interpreter.
// variant 0: all of it; 1: DEPTHWISE -> AVERAGE_POOL; 2: DEPTHWISE -> MAX_POOL;
// 3: DEPTHWISE -> two MAX_POOLs -> ADD (each then RESHAPE -> FC -> SOFTMAX)
tfl_model op_zoo_model(int variant = 0) {
    std::mt19937 rng(9);
    std::normal_distribution<float> g(0.0f, 0.4f);
    auto rnd = [&](size_t n) {
        std::vector<float> v(n);
        for (float & x : v) {
            x = g(rng);
        }
        return v;
    };
    tfl_model m;
    auto T = [&](tfl_tensor t) {
        m.tensors.push_back(std::move(t));
        return static_cast<int32_t>(m.tensors.size() - 1);
    };
    const int32_t in = T(tfl_activation_tensor("input", {1, 48, 48, 1}));
    const int32_t cw = T(tfl_const_f32("c/w", {3, 3, 3, 1}, rnd(27))), cb = T(tfl_const_f32("c/b", {3}, rnd(3)));
    const int32_t c = T(tfl_activation_tensor("c", {1, 48, 48, 3}));
    m.ops.push_back(tfl_conv(in, cw, cb, c, tfl_same, 1, tfl_act_relu));
    const int32_t dw = T(tfl_const_f32("d/w", {1, 3, 3, 6}, rnd(54))), db = T(tfl_const_f32("d/b", {6}, rnd(6)));
    const int32_t d = T(tfl_activation_tensor("d", {1, 24, 24, 6}));
    m.ops.push_back(tfl_depthwise(c, dw, db, d, tfl_same, 2, 2, tfl_act_relu6));
    int32_t s = -1;
    if (variant == 0 || variant == 1) {
        const int32_t a = T(tfl_activation_tensor("avg", {1, 12, 12, 6}));
        m.ops.push_back(tfl_pool(tfl_average_pool_2d, d, a, tfl_same, 3, 2));
        s = a;
    }
    if (variant == 0 || variant == 2 || variant == 3) {
        const int32_t x = T(tfl_activation_tensor("max", {1, 12, 12, 6}));
        m.ops.push_back(tfl_pool(tfl_max_pool_2d, d, x, tfl_same, 3, 2));
        if (variant == 3) {
            const int32_t x2 = T(tfl_activation_tensor("max2", {1, 12, 12, 6}));
            m.ops.push_back(tfl_pool(tfl_max_pool_2d, d, x2, tfl_valid, 2, 2));
            s = x2;
        }
        if (s >= 0) {
            const int32_t sum = T(tfl_activation_tensor("sum", {1, 12, 12, 6}));
            m.ops.push_back(tfl_add_op(s, x, sum, tfl_act_none));
            s = sum;
        } else {
            s = x;
        }
    }
    const int32_t shape = T(tfl_const_i32("shape", {2}, {1, 864}));
    const int32_t r = T(tfl_activation_tensor("flat", {1, 864}));
    m.ops.push_back(tfl_reshape_op(s, shape, r, {1, 864}));
    std::vector<float> fw = rnd(7 * 864);
    for (float & v : fw) {
        v *= 0.2f;
    }
    const int32_t w = T(tfl_const_f32("fc/w", {7, 864}, fw)), b = T(tfl_const_f32("fc/b", {7}, rnd(7)));
    const int32_t l = T(tfl_activation_tensor("logits", {1, 7}));
    m.ops.push_back(tfl_fc(r, w, b, l, tfl_act_none));
    const int32_t p = T(tfl_activation_tensor("probabilities", {1, 7}));
    m.ops.push_back(tfl_softmax_op(l, p, 1.0f));
    m.inputs = {in};
    m.outputs = {p};
    return m;
}


// ---------------------------------------------------------------- robustness

// input [1,48,48,1] -> CONV 3x3 SAME (2) RELU -> MEAN(1,2) -> FC 2x7 -> SOFTMAX
tfl_model tiny_model() {
    tfl_model m;
    std::vector<float> w(18), b = {0.1f, -0.2f}, fw(14), fb(7, 0.0f);
    for (size_t i = 0; i < w.size(); ++i) {
        w[i] = 0.1f * static_cast<float>(i % 5) - 0.2f;
    }
    for (size_t i = 0; i < fw.size(); ++i) {
        fw[i] = 0.3f * static_cast<float>(i % 7) - 1.0f;
    }
    m.tensors.push_back(tfl_activation_tensor("input", {1, 48, 48, 1}));
    m.tensors.push_back(tfl_const_f32("conv/weights", {2, 3, 3, 1}, w));
    m.tensors.push_back(tfl_const_f32("conv/bias", {2}, b));
    m.tensors.push_back(tfl_activation_tensor("conv", {1, 48, 48, 2}));
    m.tensors.push_back(tfl_const_i32("axes", {2}, {1, 2}));
    m.tensors.push_back(tfl_activation_tensor("gap", {1, 2}));
    m.tensors.push_back(tfl_const_f32("fc/weights", {7, 2}, fw));
    m.tensors.push_back(tfl_const_f32("fc/bias", {7}, fb));
    m.tensors.push_back(tfl_activation_tensor("logits", {1, 7}));
    m.tensors.push_back(tfl_activation_tensor("probabilities", {1, 7}));
    m.ops.push_back(tfl_conv(0, 1, 2, 3, tfl_same, 1, tfl_act_relu));
    m.ops.push_back(tfl_mean_op(3, 4, 5, false));
    m.ops.push_back(tfl_fc(5, 6, 7, 8, tfl_act_none));
    m.ops.push_back(tfl_softmax_op(8, 9, 1.0f));
    m.inputs = {0};
    m.outputs = {9};
    return m;
}

std::string load_error(const std::string & bytes) {
    log_capture log;
    fer_model * m = fer_model_load_from_buffer(bytes.data(), bytes.size(), log.params());
    if (m) {
        fer_model_free(m);
        return "";
    }
    return log.text;
}

void expect_rejected(const std::string & bytes, const std::vector<std::string> & needles, const char * what) {
    const std::string err = load_error(bytes);
    ASSERT_FALSE(err.empty()) << what << ": accepted";
    for (const auto & n : needles) {
        EXPECT_NE(err.find(n), std::string::npos) << what << ": message '" << err << "' lacks '" << n << "'";
    }
    std::printf("[ rejects ] %-22s %s\n", what, err.c_str());
}

TEST(Robustness, TinyModelLoadsAndRuns) {
    const std::string bytes = tflite_serialize(tiny_model());
    EXPECT_EQ(load_error(bytes), "");
    fer::model m = fer::model::from_buffer(bytes.data(), bytes.size());
    ASSERT_TRUE(m);
    EXPECT_TRUE(m.has_cam());
    fer::context c(m);
    std::vector<unsigned char> face(48 * 60, 100);
    fer_result r;
    EXPECT_EQ(c.classify(face.data(), 60, &r), FER_OK);  // row stride > 48
    EXPECT_EQ(c.classify(face.data(), 47, &r), FER_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(c.classify(nullptr, 48, &r), FER_ERR_INVALID_ARGUMENT);
}

TEST(Robustness, BrokenFilesAreRejectedWithClearMessages) {
    const std::string good = tflite_serialize(tiny_model());

    std::string b = good;
    b.replace(4, 4, "XYZ1");
    expect_rejected(b, {"file identifier", "XYZ1", "TFL3"}, "wrong identifier");

    expect_rejected(good.substr(0, good.size() / 2), {"past the end"}, "truncated");
    expect_rejected(good.substr(0, 6), {"too short"}, "6 bytes");
    expect_rejected("", {"too short"}, "empty");

    b = good;  // root offset past the end
    const uint32_t far = static_cast<uint32_t>(good.size() + 64);
    std::memcpy(&b[0], &far, 4);
    expect_rejected(b, {"outside the file"}, "root past end");

    {  // a buffer whose data vector claims 2^31 bytes
        tfl_model t = tiny_model();
        std::vector<float> marker(18, 1234.5f);
        t.tensors[1] = tfl_const_f32("conv/weights", {2, 3, 3, 1}, marker);
        b = tflite_serialize(t);
        const std::string pat(reinterpret_cast<const char *>(marker.data()), 72);
        const size_t at = b.find(pat);
        ASSERT_NE(at, std::string::npos);
        const uint32_t huge = 0x80000000u;
        std::memcpy(&b[at - 4], &huge, 4);
        expect_rejected(b, {"buffer", "runs past the end"}, "buffer past end");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[3].shape = {1, 48, 48, 3};
        expect_rejected(tflite_serialize(t), {"CONV_2D", "'conv'", "[1,48,48,3]", "[1,48,48,2]"}, "shape mismatch");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[1].shape = {2, 3, 3, 2};  // 36 floats declared, 18 stored
        expect_rejected(tflite_serialize(t), {"conv/weights", "72 bytes", "144"}, "buffer size");
    }
    {
        tfl_model t = tiny_model();
        t.ops[1].builtin = 18;  // MUL
        expect_rejected(tflite_serialize(t), {"op 1", "MUL", "unsupported"}, "unsupported op");
    }
    {
        tfl_model t = tiny_model();
        t.ops[0].version = 99;
        expect_rejected(tflite_serialize(t), {"CONV_2D", "version 99"}, "unsupported version");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[3].shape = {65536, 65536, 65536, 2};
        expect_rejected(tflite_serialize(t), {"'conv'", "absurd"}, "overflowing shape");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[3].shape = {1, 48, 0, 2};
        expect_rejected(tflite_serialize(t), {"'conv'", "dimension 2 is 0"}, "zero dimension");
    }
    {
        tfl_model t = tiny_model();
        t.ops[2].inputs[1] = 1000;
        expect_rejected(tflite_serialize(t), {"FULLY_CONNECTED", "1000", "out of range"}, "tensor index");
    }
    {
        tfl_model t = tiny_model();
        t.ops[0].options[1].ivalue = 0;  // stride_w 0
        expect_rejected(tflite_serialize(t), {"CONV_2D", "stride_w 0"}, "zero stride");
    }
    {
        tfl_model t = tiny_model();
        std::swap(t.ops[1], t.ops[2]);  // FC reads 'gap' before MEAN writes it
        expect_rejected(tflite_serialize(t), {"'gap'", "earlier op"}, "wrong op order");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[2].type = 9;  // INT8 bias without quantisation parameters
        t.tensors[2].data.resize(2);
        expect_rejected(tflite_serialize(t), {"conv/bias", "INT8", "quantisation"}, "int8 without params");
        t.tensors[2].scale = {0.1f};
        t.tensors[2].zero_point = {0};
        expect_rejected(tflite_serialize(t), {"CONV_2D", "conv/bias", "INT8", "expected FLOAT32"}, "int8 in float op");
    }
    {
        tfl_model t = tiny_model();
        t.schema_version = 2;
        expect_rejected(tflite_serialize(t), {"schema version 2"}, "schema version");
    }
    {
        tfl_model t = tiny_model();
        t.tensors[0].shape = {1, 32, 32, 1};
        t.tensors[3].shape = {1, 32, 32, 2};
        expect_rejected(tflite_serialize(t), {"input", "[1,32,32,1]"}, "input shape");
    }
    {  // 300 tensors sharing one 4 MB buffer: 1.2 GB of constants from a 4 MB file
        tfl_model t = tiny_model();
        t.tensors.push_back(tfl_const_f32("big", {1 << 20}, std::vector<float>(1 << 20, 1.0f)));
        const int big = static_cast<int>(t.tensors.size() - 1);
        for (int k = 0; k < 300; ++k) {
            tfl_tensor sh = tfl_activation_tensor("alias" + std::to_string(k), {1 << 20});
            sh.shared_buffer_of = big;
            t.tensors.push_back(sh);
        }
        expect_rejected(tflite_serialize(t), {"constant tensors need", "shared"}, "shared buffer blowup");
    }
    {
        tfl_model t = tiny_model();
        for (int k = 0; k < 70000; ++k) {
            t.tensors.push_back(tfl_activation_tensor("t", {1}));
        }
        expect_rejected(tflite_serialize(t), {"70010 tensors is absurd"}, "too many tensors");
    }
    {
        log_capture log;
        EXPECT_EQ(fer_model_load_from_file("/nonexistent/m.tflite", log.params()), nullptr);
        EXPECT_NE(log.text.find("/nonexistent/m.tflite"), std::string::npos) << log.text;
    }
}

TEST(Robustness, BrokenInt8FilesAreRejected) {
    const dataset faces = test_faces();
    const tfl_model f = tiny_model();
    // The all-int8 graph (int8 MEAN and SOFTMAX), so that their checks are exercised too.
    const tfl_model good = quantize_tflite_int8(f, calibrate_tflite(f, faces.pixels.data(), faces.size()), false);
    EXPECT_EQ(load_error(tflite_serialize(good)), "");
    auto find = [&](const tfl_model & m, const std::string & name) {
        for (size_t i = 0; i < m.tensors.size(); ++i) {
            if (m.tensors[i].name == name) {
                return i;
            }
        }
        return m.tensors.size();
    };
    {
        tfl_model t = good;
        t.tensors[find(t, "probabilities_int8")].scale = {0.01f};
        expect_rejected(tflite_serialize(t), {"SOFTMAX", "1/256"}, "int8 softmax scale");
    }
    {
        tfl_model t = good;
        t.tensors[find(t, "conv/weights")].zero_point = {3, 0};
        expect_rejected(tflite_serialize(t), {"conv/weights", "symmetric"}, "weights zero point");
    }
    {
        tfl_model t = good;
        t.tensors[find(t, "conv/weights")].scale = {0.1f, 0.1f, 0.1f};
        t.tensors[find(t, "conv/weights")].zero_point = {0, 0, 0};
        expect_rejected(tflite_serialize(t), {"conv/weights", "3 scales"}, "scale count");
    }
    {
        tfl_model t = good;
        t.tensors[find(t, "conv/bias")].scale = {1.0f, 1.0f};
        expect_rejected(tflite_serialize(t), {"CONV_2D", "bias", "scale"}, "bias scale");
    }
    {
        tfl_model t = good;
        t.tensors[find(t, "conv")].zero_point = {300};
        expect_rejected(tflite_serialize(t), {"'conv'", "zero point 300"}, "zero point range");
    }
    {
        tfl_model t = good;
        t.tensors[find(t, "conv")].scale = {-1.0f};
        expect_rejected(tflite_serialize(t), {"'conv'", "scale -1"}, "negative scale");
    }
}

// The seeds of the libFuzzer target (tests/fuzz/corpus/) are small valid
// models; FER_WRITE_FUZZ_CORPUS=1 rewrites them (deliberately, never by default).
TEST(Robustness, FuzzSeedCorpusLoads) {
    const fs::path dir = fs::path(FER_SOURCE_DIR) / "tests" / "fuzz" / "corpus";
    if (std::getenv("FER_WRITE_FUZZ_CORPUS")) {
        fs::create_directories(dir);
        const dataset faces = test_faces();
        const tfl_model tiny = tiny_model(), zoo = op_zoo_model(0);
        const std::vector<std::pair<std::string, tfl_model>> seeds = {
            {"tiny-f32.tflite", tiny},
            {"tiny-int8.tflite", quantize_tflite_int8(tiny, calibrate_tflite(tiny, faces.pixels.data(), faces.size()))},
            {"zoo-f32.tflite", zoo},
            {"zoo-int8.tflite", quantize_tflite_int8(zoo, calibrate_tflite(zoo, faces.pixels.data(), faces.size()))},
        };
        for (const auto & sd : seeds) {
            const std::string b = tflite_serialize(sd.second);
            write_bytes((dir / sd.first).string(), b.data(), b.size());
        }
    }
    int n = 0;
    std::error_code ec;
    for (const auto & e : fs::directory_iterator(dir, ec)) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string b((std::istreambuf_iterator<char>(f)), {});
        EXPECT_EQ(load_error(b), "") << e.path();
        ++n;
    }
    EXPECT_GE(n, 4) << dir << " (FER_WRITE_FUZZ_CORPUS=1 writes the seeds)";
}

// Inputs that once made the fuzzer fail (tests/fuzz/regressions/): they must
// load or be rejected, never crash (under the sanitizers: scripts/fuzz.sh).
TEST(Robustness, FuzzRegressionsDoNotCrash) {
    const fs::path dir = fs::path(FER_SOURCE_DIR) / "tests" / "fuzz" / "regressions";
    int n = 0;
    std::error_code ec;
    for (const auto & e : fs::directory_iterator(dir, ec)) {
        std::ifstream f(e.path(), std::ios::binary);
        const std::string b((std::istreambuf_iterator<char>(f)), {});
        const std::string err = load_error(b);
        std::printf("[ regression ] %s: %s\n", e.path().filename().c_str(), err.empty() ? "loads" : err.c_str());
        ++n;
    }
    EXPECT_GE(n, 1);
}

TEST(Robustness, RandomCorruptionsNeverCrash) {
    const std::string good = tflite_serialize(tiny_model());
    std::mt19937 rng(42);
    int accepted = 0;
    const int n = 3000;
    for (int i = 0; i < n; ++i) {
        std::string b = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            const size_t at = rng() % b.size();
            switch (rng() % 3) {
            case 0: b[at] = static_cast<char>(rng()); break;
            case 1: b[at] = static_cast<char>(0xff); break;
            default: b[at] = 0; break;
            }
        }
        if (rng() % 8 == 0) {
            b.resize(rng() % b.size());
        }
        log_capture log;
        fer_model * m = fer_model_load_from_buffer(b.data(), b.size(), log.params());
        if (m) {
            ++accepted;  // a harmless change (a weight, a name): it must also run
            fer_context * c = fer_context_new(m);
            ASSERT_NE(c, nullptr);
            std::vector<unsigned char> face(48 * 48, 77);
            fer_result r;
            EXPECT_EQ(fer_classify(c, face.data(), 48, &r), FER_OK);
            fer_context_free(c);
            fer_model_free(m);
        } else {
            EXPECT_FALSE(log.text.empty());
        }
    }
    std::printf("[ fuzz ] %d corrupted files: %d loaded (harmless changes), %d rejected\n", n, accepted, n - accepted);
}

// ---------------------------------------------------------------- interop

std::string run_interop(const std::vector<std::pair<std::string, std::string>> & models, const dataset & faces,
                        const std::string & dir, const std::string & flags, int * rc) {
    std::vector<float> inputs(faces.size() * k_image_pixels);
    for (size_t i = 0; i < faces.size(); ++i) {
        for (int k = 0; k < k_image_pixels; ++k) {
            inputs[i * k_image_pixels + static_cast<size_t>(k)] =
                (static_cast<float>(faces.image(i)[k]) - FER_PIXEL_MEAN) / FER_PIXEL_STD;
        }
    }
    write_bytes(dir + "/inputs.f32", inputs.data(), inputs.size() * 4);
    std::string args;
    for (const auto & nm : models) {
        const std::string path = dir + "/" + nm.first + ".tflite";
        write_bytes(path, nm.second.data(), nm.second.size());
        log_capture log;
        fer::model m = fer::model::from_buffer(nm.second.data(), nm.second.size(), log.params());
        EXPECT_TRUE(m) << nm.first << ": " << log.text;
        if (!m) {
            *rc = -1;
            return log.text;
        }
        fer::context ctx(m);
        std::vector<float> probs;
        for (size_t i = 0; i < faces.size(); ++i) {
            fer_result r;
            EXPECT_EQ(ctx.classify(&inputs[i * k_image_pixels], &r), FER_OK);
            probs.insert(probs.end(), r.probabilities, r.probabilities + FER_N_CLASSES);
        }
        write_bytes(dir + "/" + nm.first + ".expected.f32", probs.data(), probs.size() * 4);
        args += " " + path + ":" + dir + "/" + nm.first + ".expected.f32";
    }
    const fs::path script = fs::path(FER_SOURCE_DIR) / "tests" / "interop" / "run-tflite.js";
    const std::string cmd = "node '" + script.string() + "' --inputs " + dir + "/inputs.f32 " + flags + args;
    std::printf("%s\n", cmd.c_str());
    FILE * p = popen((cmd + " 2>&1").c_str(), "r");
    std::string out;
    char buf[512];
    while (p && std::fgets(buf, sizeof buf, p)) {
        if (std::strstr(buf, ".tflite:") || std::strstr(buf, "ERROR")) {
            out += buf;  // drop the interpreter's banners
        }
    }
    const int st = p ? pclose(p) : -1;
    *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

bool interop_available() {
    const fs::path interop = fs::path(FER_SOURCE_DIR) / "tests" / "interop";
    return fs::exists(interop / "node_modules" / "@tensorflow" / "tfjs-tflite") &&
           std::system("node --version > /dev/null 2>&1") == 0;
}

TEST(Interop, TfliteInterpreterAgreesWithRuntime) {
    if (!interop_available()) {
        GTEST_SKIP() << "tests/interop/node_modules or node is missing (run: cd tests/interop && npm ci)";
    }
    const std::string dir = temp_dir("interop");
    const dataset faces = test_faces();
    std::vector<std::pair<std::string, std::string>> models;  // name, bytes
    for (const char * arch : {"fernet", "seed"}) {
        Net net = make_net(arch);
        randomise(net, 21);
        models.emplace_back(arch, tflite_serialize(net_to_tflite(net, export_options())));
    }
    models.emplace_back("op-zoo", tflite_serialize(op_zoo_model()));
    int rc = 0;
    // float32 within 1e-4 of the runtime (same bound as against libtorch), same top class
    const std::string out = run_interop(models, faces, dir, "--tol 1e-4", &rc);
    std::printf("%s", out.c_str());
    EXPECT_EQ(rc, 0) << out;
    fs::remove_all(dir);
}

TEST(Interop, TfliteInterpreterAgreesWithRuntimeInt8) {
    if (!interop_available()) {
        GTEST_SKIP() << "tests/interop/node_modules or node is missing (run: cd tests/interop && npm ci)";
    }
    const std::string dir = temp_dir("interop8");
    const dataset faces = test_faces();
    std::vector<std::pair<std::string, std::string>> models;
    for (const char * arch : {"fernet", "seed"}) {
        Net net = make_net(arch);
        randomise(net, 21);
        const tfl_model f = net_to_tflite(net, export_options());
        models.emplace_back(std::string(arch) + "-int8",
                            tflite_serialize(quantize_tflite_int8(f, calibrate_tflite(f, faces.pixels.data(), faces.size()))));
    }
    for (int v = 0; v < 4; ++v) {
        const tfl_model zoo = op_zoo_model(v);
        models.emplace_back("op-zoo" + std::to_string(v) + "-int8",
                            tflite_serialize(quantize_tflite_int8(zoo, calibrate_tflite(zoo, faces.pixels.data(), faces.size()))));
    }
    int rc = 0;
    // int8: within one output LSB (1/256) of the interpreter
    const std::string out = run_interop(models, faces, dir, "--tol 0.0040 --any-top", &rc);
    std::printf("%s", out.c_str());
    EXPECT_EQ(rc, 0) << out;
    fs::remove_all(dir);
}

// The same runtime compiled with Emscripten, run under Node (tests/wasm/):
// the native reference kernels and the WebAssembly build give the same
// probabilities (float32 within 1e-6: libm's expf may differ; int8 exactly).
TEST(Wasm, SameResultsAsNative) {
#ifndef FER_WASM_RUN_JS
    GTEST_SKIP() << "em++ was not found at configure time (apt-get install emscripten)";
#else
    if (!fs::exists(FER_WASM_RUN_JS) || std::system("node --version > /dev/null 2>&1") != 0) {
        GTEST_SKIP() << "the wasm build or node is missing";
    }
    const std::string dir = temp_dir("wasm");
    const dataset all = test_faces();
    dataset faces;  // 4 faces: the reference kernels in WebAssembly take ~0.1 s per fernet face here
    for (size_t i : {size_t(0), size_t(3), all.size() - 5, all.size() - 2}) {
        faces.append(all.image(i), 0, all.sources[i]);
    }
    write_bytes(dir + "/faces.u8", faces.pixels.data(), faces.pixels.size());
    std::vector<std::pair<std::string, std::string>> models;
    {
        Net net = make_net("fernet");
        randomise(net, 31);
        const tfl_model f = net_to_tflite(net, export_options());
        models.emplace_back("fernet-f32", tflite_serialize(f));
        models.emplace_back("fernet-int8",
                            tflite_serialize(quantize_tflite_int8(f, calibrate_tflite(f, all.pixels.data(), all.size()))));
    }
    const tfl_model zoo = op_zoo_model(0);
    models.emplace_back("zoo-int8",
                        tflite_serialize(quantize_tflite_int8(zoo, calibrate_tflite(zoo, faces.pixels.data(), faces.size()))));
    for (const auto & nm : models) {
        const std::string path = dir + "/" + nm.first + ".tflite", out = dir + "/" + nm.first + ".out";
        write_bytes(path, nm.second.data(), nm.second.size());
        int rc = 0;
        const std::string log = run_cmd("node '" + std::string(FER_WASM_RUN_JS) + "' " + path + " " + dir + "/faces.u8 " + out, &rc);
        ASSERT_EQ(rc, 0) << nm.first << ": " << log;
        std::ifstream f(out, std::ios::binary);
        std::vector<char> raw((std::istreambuf_iterator<char>(f)), {});
        ASSERT_EQ(raw.size(), faces.size() * FER_N_CLASSES * sizeof(float)) << nm.first;
        std::vector<float> wasm(raw.size() / sizeof(float));
        std::memcpy(wasm.data(), raw.data(), raw.size());
        fer_model_params rp = fer_model_default_params();
        rp.reference_kernels = 1;
        fer::model m = fer::model::from_buffer(nm.second.data(), nm.second.size(), rp);
        fer::context ctx(m);
        double max_abs = 0;
        for (size_t i = 0; i < faces.size(); ++i) {
            fer_result r;
            ASSERT_EQ(ctx.classify(faces.image(i), 48, &r), FER_OK);
            for (int k = 0; k < FER_N_CLASSES; ++k) {
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(r.probabilities[k] - wasm[i * FER_N_CLASSES + static_cast<size_t>(k)])));
            }
        }
        const bool int8 = nm.first.find("int8") != std::string::npos;
        EXPECT_LE(max_abs, int8 ? 0.0 : 1e-6) << nm.first;
        std::printf("[ wasm ] %s: %zu faces, max |wasm - native| = %.3g\n", nm.first.c_str(), faces.size(), max_abs);
    }
    fs::remove_all(dir);
#endif
}

}  // namespace
