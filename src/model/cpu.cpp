// CPU detection and the kernel sets (fer_model_params.kernel_set): which
// optimised kernels this build contains and this CPU runs. Each op picks its
// kernel for the chosen set once at load (its op_def's select, src/ops/), as
// XNNPACK's per-ISA configs do; the interpreter then calls one function
// pointer per op.
#include "model/model.h"

namespace fer_rt {

bool fer_cpu_has_avx2_fma() {
#if defined(FER_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

bool fer_cpu_has_avxvnni() {
#if defined(FER_HAVE_AVXVNNI) && (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    static const bool has = fer_cpu_has_avx2_fma() && __builtin_cpu_supports("avxvnni");
    return has;
#else
    return false;
#endif
}

namespace {

bool supported(int set) {
    switch (set) {
    case FER_KERNELS_BEST:
    case FER_KERNELS_REFERENCE: return true;
    case FER_KERNELS_AVX2: return fer_cpu_has_avx2_fma();
    case FER_KERNELS_AVXVNNI: return fer_cpu_has_avxvnni();
#ifdef __aarch64__
    case FER_KERNELS_NEON: return true;  // NEON is base AArch64: nothing to check
#endif
#ifdef __wasm_simd128__
    case FER_KERNELS_WASM_SIMD128: return true;  // a SIMD128 module only instantiates where SIMD128 runs
#endif
    default: return false;
    }
}

}  // namespace

bool resolve_kernel_set(int requested, kernel_set * ks) {
    if (!supported(requested)) {
        return false;
    }
    int id = requested;
    if (id == FER_KERNELS_BEST) {
        const int preference[] = {FER_KERNELS_AVXVNNI, FER_KERNELS_AVX2, FER_KERNELS_NEON, FER_KERNELS_WASM_SIMD128};
        id = FER_KERNELS_REFERENCE;
        for (int s : preference) {
            if (supported(s)) {
                id = s;
                break;
            }
        }
    }
    *ks = kernel_set();
    ks->id = id;
    ks->avx2 = id == FER_KERNELS_AVX2 || id == FER_KERNELS_AVXVNNI;
    ks->vnni = id == FER_KERNELS_AVXVNNI;
    ks->neon = id == FER_KERNELS_NEON;
    ks->wasm128 = id == FER_KERNELS_WASM_SIMD128;
    return true;
}

}  // namespace fer_rt

extern "C" {

int fer_kernel_set_supported(int set) { return fer_rt::supported(set) ? 1 : 0; }

const char * fer_kernel_set_name(int set) {
    switch (set) {
    case FER_KERNELS_BEST: return "best";
    case FER_KERNELS_REFERENCE: return "reference";
    case FER_KERNELS_AVX2: return "avx2";
    case FER_KERNELS_AVXVNNI: return "avxvnni";
    case FER_KERNELS_NEON: return "neon";
    case FER_KERNELS_WASM_SIMD128: return "wasm-simd128";
    default: return nullptr;
    }
}

}  // extern "C"
