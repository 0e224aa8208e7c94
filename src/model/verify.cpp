// The verifier's checks (verify.h), shared by the op files.
#include "model/verify.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

namespace fer_rt {

using namespace fer_tflite;

namespace {

const char * type_name(int type) {
    static const char * const names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING", "BOOL",
                                         "INT16", "COMPLEX64", "INT8", "FLOAT64", "COMPLEX128", "UINT64"};
    return type >= 0 && type < 13 ? names[type] : "unknown type";
}

}  // namespace

const char * tflite_type_name(int type) { return type_name(type); }

bool op_verifier::fail(const char * fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    keep_first_error(L.error, fmt, ap);
    va_end(ap);
    return false;
}

std::string op_verifier::shape_str(int i) const {
    const rt_tensor & x = m.tensor(i);
    std::string s = "[";
    for (int k = 0; k < x.rank; ++k) {
        s += (k ? "," : "") + std::to_string(x.dims[k]);
    }
    return s + "]";
}

bool op_verifier::n_inputs(size_t lo, size_t hi) {
    if (ins.size() < lo || ins.size() > hi) {
        return fail("%s: has %zu inputs, expected %zu..%zu", w(), ins.size(), lo, hi);
    }
    for (size_t k = 0; k < lo; ++k) {
        if (ins[k] < 0) {
            return fail("%s: required input %zu is missing", w(), k);
        }
    }
    return true;
}

bool op_verifier::need_opts(int type) {
    if (!has_opts || opt_type != type) {
        return fail("%s: builtin options missing or of the wrong type (%d, expected %d)", w(), opt_type, type);
    }
    return true;
}

bool op_verifier::opt_i8(int id, int def, int * v) {
    int8_t x;
    if (!L.scalar<int8_t>(opts, id, static_cast<int8_t>(def), &x, w())) {
        return false;
    }
    *v = x;
    return true;
}

bool op_verifier::opt_i32(int id, int def, int * v) {
    int32_t x;
    if (!L.scalar<int32_t>(opts, id, def, &x, w())) {
        return false;
    }
    *v = x;
    return true;
}

bool op_verifier::opt_f32(int id, float def, float * v) { return L.scalar<float>(opts, id, def, v, w()); }

bool op_verifier::in_range(const char * what, int v, int lo, int hi) {
    if (v < lo || v > hi) {
        return fail("%s: %s %d is out of range (%d..%d)", w(), what, v, lo, hi);
    }
    return true;
}

bool op_verifier::geometry(const char * what, int64_t in, int64_t k, int64_t s, int64_t d, bool same, int * out_size,
                           int * pad) {
    const int64_t eff = (k - 1) * d + 1;
    if (!same && in < eff) {
        return fail("%s: %s window of %lld does not fit the input of %lld (VALID)", w(), what,
                    static_cast<long long>(eff), static_cast<long long>(in));
    }
    fer_window_geometry(static_cast<int>(in), static_cast<int>(k), static_cast<int>(s), static_cast<int>(d), same,
                        out_size, pad);
    return true;
}

bool op_verifier::need_type(int i, int type, int rank, const char * role) {
    const rt_tensor & x = m.tensor(i);
    if (x.type != type) {
        return fail("%s: %s '%s' is %s, expected %s", w(), role, x.name.c_str(), type_name(x.type), type_name(type));
    }
    if (rank >= 0 && x.rank != rank) {
        return fail("%s: %s '%s' has shape %s, expected rank %d", w(), role, x.name.c_str(), shape_str(i).c_str(),
                    rank);
    }
    if (type == tfl_int8 && !x.is_const && x.scales.size() != 1) {
        return fail("%s: %s '%s' needs one (per-tensor) scale, has %zu", w(), role, x.name.c_str(), x.scales.size());
    }
    return true;
}

bool op_verifier::need_weights(int i, int rank, const char * role) {
    return need_type(i, act_type == tfl_int8 ? tfl_int8 : tfl_float32, rank, role);
}

bool op_verifier::need_bias(int i) { return need_type(i, act_type == tfl_int8 ? tfl_int32 : tfl_float32, 1, "bias"); }

bool op_verifier::need_const(int i, const char * role) {
    if (!m.tensor(i).is_const) {
        return fail("%s: %s '%s' must be a constant tensor (with a buffer)", w(), role, tname(i).c_str());
    }
    return true;
}

bool op_verifier::same_quant(int a, int b) {
    const rt_tensor & x = m.tensor(a);
    const rt_tensor & y = m.tensor(b);
    if (x.type == tfl_int8 && (x.scale != y.scale || x.zp != y.zp)) {
        return fail("%s: '%s' and '%s' must share scale and zero point (%g, %d vs %g, %d)", w(), x.name.c_str(),
                    y.name.c_str(), static_cast<double>(x.scale), x.zp, static_cast<double>(y.scale), y.zp);
    }
    return true;
}

bool op_verifier::set_requant(rt_op & op, int in, int wi, int bias, int out_t, int n_out, int channel_dim) {
    const rt_tensor & x = m.tensor(in);
    const rt_tensor & f = m.tensor(wi);
    const rt_tensor & o = m.tensor(out_t);
    // int32 accumulators: |sum| <= length * 255 * 127 (+ bias) must not overflow
    const uint64_t length = f.n / static_cast<uint64_t>(n_out > 0 ? n_out : 1);
    if (length * 255u * 128u >= (1ull << 30)) {
        return fail("%s: %llu products per output could overflow the int32 accumulator", w(),
                    static_cast<unsigned long long>(length));
    }
    const bool per_channel = f.scales.size() > 1;
    if (f.scales.empty() || (per_channel && (static_cast<int>(f.scales.size()) != n_out || f.qdim != channel_dim))) {
        return fail("%s: weights '%s' need 1 scale or %d along dimension %d (have %zu along %d)", w(), f.name.c_str(),
                    n_out, channel_dim, f.scales.size(), f.qdim);
    }
    for (int64_t z : f.zps) {
        if (z != 0) {
            return fail("%s: weights '%s' must be symmetric (zero point 0)", w(), f.name.c_str());
        }
    }
    if (bias >= 0) {
        const rt_tensor & b = m.tensor(bias);
        const int32_t * bv = static_cast<const int32_t *>(m.data(b));
        for (size_t k = 0; k < b.n; ++k) {
            if (bv[k] <= -(1 << 30) || bv[k] >= (1 << 30)) {
                return fail("%s: bias '%s' value %d could overflow the int32 accumulator", w(), b.name.c_str(), bv[k]);
            }
        }
    }
    op.q8 = true;
    op.in_zp = x.zp;
    op.out_zp = o.zp;
    op.scale.resize(static_cast<size_t>(n_out));
    for (int c = 0; c < n_out; ++c) {
        const double sw = f.scales[per_channel ? static_cast<size_t>(c) : 0];
        op.scale[static_cast<size_t>(c)] = x.scale * f.scales[per_channel ? static_cast<size_t>(c) : 0] / o.scale;
        if (!std::isfinite(op.scale[static_cast<size_t>(c)]) || !(op.scale[static_cast<size_t>(c)] > 0.0f)) {
            return fail("%s: requantisation scale of channel %d is not a positive float32 (scales %g, %g, %g)", w(), c,
                        static_cast<double>(x.scale), sw, static_cast<double>(o.scale));
        }
        if (bias >= 0) {
            const rt_tensor & b = m.tensor(bias);
            const double bs = b.scales.empty() ? 0.0 : b.scales[b.scales.size() > 1 ? static_cast<size_t>(c) : 0];
            const double want = static_cast<double>(x.scale) * sw;
            if (std::fabs(bs - want) > 1e-4 * want) {
                return fail("%s: bias '%s' scale %g is not input scale x weight scale (%g)", w(), b.name.c_str(), bs,
                            want);
            }
        }
    }
    return true;
}

void op_verifier::set_act_range(rt_op & op, int act, int out_t) {
    const rt_tensor & o = m.tensor(out_t);
    auto q = [&](float f) {
        const double v = std::round(static_cast<double>(f) / static_cast<double>(o.scale)) + o.zp;
        return static_cast<int32_t>(v < -1e6 ? -1e6 : (v > 1e6 ? 1e6 : v));
    };
    op.act_min = -128;
    op.act_max = 127;
    if (act == act_relu || act == act_relu6) {
        op.act_min = std::max(-128, q(0.0f));
    }
    if (act == act_relu6) {
        op.act_max = std::min(127, q(6.0f));
    }
    if (act == act_relu_n1_to_1) {
        op.act_min = std::max(-128, q(-1.0f));
        op.act_max = std::min(127, q(1.0f));
    }
}

bool op_verifier::set_shape(int i, const int * dims, int rank) {
    rt_tensor & x = m.tensors[static_cast<size_t>(i)];
    uint64_t n = 1;
    for (int k = 0; k < rank; ++k) {
        n *= static_cast<uint64_t>(dims[k] > 0 ? dims[k] : 0);
    }
    if (n == 0 || n > k_max_elements) {
        return fail("%s: output '%s' would have %llu elements at this input size", w(), x.name.c_str(),
                    static_cast<unsigned long long>(n));
    }
    x.rank = rank;
    for (int k = 0; k < 4; ++k) {
        x.dims[k] = k < rank ? dims[k] : 1;
    }
    x.n = static_cast<size_t>(n);
    x.bytes = x.n * static_cast<size_t>(x.elem);
    return true;
}

bool op_verifier::same_shape_as(int i, int like) {
    const rt_tensor & x = m.tensor(like);
    if (fits_derived(i)) {
        return set_shape(i, x.dims, x.rank);
    }
    const rt_tensor & o = m.tensor(i);
    bool same = x.rank == o.rank;
    for (int k = 0; same && k < x.rank; ++k) {
        same = x.dims[k] == o.dims[k];
    }
    if (!same) {
        return fail("%s: output shape %s differs from input shape %s", w(), shape_str(i).c_str(),
                    shape_str(like).c_str());
    }
    return true;
}

bool op_verifier::need_shape(int i, std::initializer_list<int64_t> want) {
    if (fits_derived(i)) {
        int d[4], r = 0;
        for (int64_t v : want) {
            d[r++] = static_cast<int>(v);
        }
        return set_shape(i, d, r);
    }
    const rt_tensor & x = m.tensor(i);
    bool ok = x.rank == static_cast<int>(want.size());
    int k = 0;
    std::string s = "[";
    for (int64_t v : want) {
        ok = ok && x.dims[k] == v;
        s += (k ? "," : "") + std::to_string(v);
        ++k;
    }
    if (!ok) {
        return fail("%s: output '%s' has shape %s, expected %s]", w(), x.name.c_str(), shape_str(i).c_str(), s.c_str());
    }
    return true;
}

}  // namespace fer_rt
