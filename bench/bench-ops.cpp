// Where a model's time goes: every op of a .tflite run alone, many times, and
// summed per kind (op, type, window; a convolution with at most 4 input
// channels reads an image: the "stem"), one thread. Built natively (CMake) and
// by run-ops.sh with em++ -msimd128 for Node, so that the same table shows
// which kernels WebAssembly still lacks. It reads the runtime's internals
// (src/model), as the runtime's own tests do: not an API.
//
//   bench-ops MODEL.tflite [--size HxW] [--reps N] [--kernels best|reference] [--per-op]
//   (--size 0x0: the file's own input size, e.g. a classifier's)
#include "fer.h"
#include "model/model.h"
#include "model/op-table.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace {

std::string op_kind(const fer_rt::rt_op & op) {
    std::string k = std::string(fer_rt::builtin_name(op.builtin)) + (op.q8 ? " int8" : " float32");
    if (op.builtin == fer_tflite::tfl_conv_2d || op.builtin == fer_tflite::tfl_depthwise_conv_2d) {
        k += " " + std::to_string(op.conv.k_h) + "x" + std::to_string(op.conv.k_w);
        if (op.builtin == fer_tflite::tfl_conv_2d && op.conv.in_c <= 4) {
            k += " stem";
        }
    }
    return k;
}

}  // namespace

int main(int argc, char ** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        std::fprintf(stderr, "usage: bench-ops MODEL.tflite [--size HxW] [--reps N] [--kernels best|reference] [--per-op]\n");
        return 1;
    }
    int h = 0, w = 0, reps = 50;
    bool per_op = false;
    int kernels = FER_KERNELS_BEST;
    for (int i = 2; i < argc; ++i) {
        const std::string k = argv[i];
        const char * v = i + 1 < argc ? argv[i + 1] : "";
        if (k == "--size" && std::sscanf(v, "%dx%d", &h, &w) == 2) ++i;
        else if (k == "--reps") reps = std::max(1, std::atoi(v)), ++i;
        else if (k == "--kernels") kernels = std::strcmp(v, "reference") == 0 ? FER_KERNELS_REFERENCE : FER_KERNELS_BEST, ++i;
        else if (k == "--per-op") per_op = true;
        else { std::fprintf(stderr, "bench-ops: unknown option '%s'\n", k.c_str()); return 1; }
    }
    std::ifstream f(argv[1], std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    fer_model_params mp = fer_model_default_params();
    if (h > 0 && w > 0) {  // --size 0x0: the file's own input (a classifier's 48x48)
        mp.input_height = h;
        mp.input_width = w;
    }
    mp.kernel_set = kernels;
    fer_model * m = fer_model_load_from_buffer(bytes.data(), bytes.size(), mp);
    if (!m) {
        return 2;  // the reason went to stderr
    }
    fer_context * c = fer_context_new(m);
    int32_t dims[4] = {1, 1, 1, 1};
    fer_model_input_dims(m, dims);
    std::vector<float> input(static_cast<size_t>(dims[0]) * dims[1] * dims[2] * dims[3]);
    for (size_t i = 0; i < input.size(); ++i) {
        input[i] = static_cast<float>((i * 7919) % 255);  // a fixed, busy pattern
    }
    if (!c || fer_context_run(c, input.data(), input.size()) != FER_OK) {
        std::fprintf(stderr, "bench-ops: the model does not run on a %dx%dx%d input\n", dims[1], dims[2], dims[3]);
        return 2;
    }
    std::vector<double> ms(m->ops.size(), 0.0);
    for (int r = 0; r < reps; ++r) {
        fer_context_run(c, input.data(), input.size());  // every op's inputs as in a real run
        for (size_t i = 0; i < m->ops.size(); ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            m->ops[i].eval(c, m->ops[i]);
            ms[i] += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        }
    }
    std::map<std::string, std::pair<double, int>> by_kind;
    double total = 0;
    for (size_t i = 0; i < m->ops.size(); ++i) {
        const fer_rt::rt_op & op = m->ops[i];
        const double t = ms[i] / reps;
        by_kind[op_kind(op)].first += t;
        by_kind[op_kind(op)].second += 1;
        total += t;
        if (per_op) {
            const fer_rt::rt_tensor & out = m->tensor(op.out);
            std::printf("%3zu %-36s out %dx%dx%dx%d %8.3f ms\n", i, op_kind(op).c_str(), out.dims[0], out.dims[1],
                        out.dims[2], out.dims[3], t);
        }
    }
    std::printf("%s, input %dx%dx%d, %d runs, kernels: %s\n\n", argv[1], dims[1], dims[2], dims[3], reps,
                fer_model_kernels(m));
    std::printf("| op | count | ms | share |\n|---|---:|---:|---:|\n");
    for (const auto & kv : by_kind) {
        std::printf("| %s | %d | %.3f | %.1f%% |\n", kv.first.c_str(), kv.second.second, kv.second.first,
                    100.0 * kv.second.first / total);
    }
    std::printf("| total | %zu | %.3f | |\n", m->ops.size(), total);
    fer_context_free(c);
    fer_model_free(m);
    return 0;
}
