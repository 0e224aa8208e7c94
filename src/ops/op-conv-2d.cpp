// CONV_2D: OHWI weights, optional bias, SAME/VALID, strides, dilation, fused
// activation; float32 and int8 (per-channel weights). Optimised kernels:
// AVX2+FMA float32, and the int8 tiles of AVX2, AVX-VNNI, NEON and WASM
// SIMD128 (weights repacked at load), all twins of the reference.
#include "ops/ops.h"

#include <algorithm>

namespace fer_rt {

using namespace fer_tflite;

bool prepare_convolution(op_verifier & v, rt_op & op, bool dw) {
    const char * w = v.w();
    const std::vector<int32_t> & ins = v.ins;
    const int out = v.out;
    if (!v.n_inputs(2, 3) || !v.need_opts(dw ? tfl_opt_depthwise_conv_2d : tfl_opt_conv_2d) ||
        !v.need_act(ins[0], 4, "input") || !v.need_weights(ins[1], 4, "filter") || !v.need_const(ins[1], "filter") ||
        !v.need_act(out, 4, "output")) {
        return false;
    }
    int padding, sw, sh, act, dw_mult = 0, dil_w, dil_h;
    const int base = dw ? 1 : 0;  // depthwise has depth_multiplier at id 3
    if (!v.opt_i8(0, 0, &padding) || !v.opt_i32(1, 0, &sw) || !v.opt_i32(2, 0, &sh) || !v.opt_i8(3 + base, 0, &act) ||
        !v.opt_i32(4 + base, 1, &dil_w) || !v.opt_i32(5 + base, 1, &dil_h) || (dw && !v.opt_i32(3, 0, &dw_mult))) {
        return false;
    }
    if (!v.in_range("padding", padding, 0, 1) || !v.in_range("stride_w", sw, 1, k_max_dim_param) ||
        !v.in_range("stride_h", sh, 1, k_max_dim_param) || !v.in_range("fused activation", act, 0, 3) ||
        !v.in_range("dilation_w", dil_w, 1, k_max_dim_param) || !v.in_range("dilation_h", dil_h, 1, k_max_dim_param)) {
        return false;
    }
    const rt_tensor & x = v.t(ins[0]);
    const rt_tensor & f = v.t(ins[1]);
    conv_params & p = op.conv;
    p.n = x.dims[0];
    p.in_h = x.dims[1];
    p.in_w = x.dims[2];
    p.in_c = x.dims[3];
    p.k_h = f.dims[1];
    p.k_w = f.dims[2];
    p.stride_h = sh;
    p.stride_w = sw;
    p.dil_h = dil_h;
    p.dil_w = dil_w;
    p.act = act;
    if (dw) {
        p.out_c = f.dims[3];
        if (f.dims[0] != 1 || p.out_c % p.in_c != 0) {
            return v.fail("%s: filter '%s' %s does not fit %d input channels (expected [1,kh,kw,C*multiplier])", w,
                          f.name.c_str(), v.shape_str(ins[1]).c_str(), p.in_c);
        }
        p.depth_multiplier = p.out_c / p.in_c;
        if (dw_mult != 0 && dw_mult != p.depth_multiplier) {
            return v.fail("%s: depth_multiplier %d disagrees with the filter shape (%d)", w, dw_mult,
                          p.depth_multiplier);
        }
    } else {
        p.out_c = f.dims[0];
        if (f.dims[3] != p.in_c) {
            return v.fail("%s: filter '%s' %s expects %d input channels, input '%s' has %d", w, f.name.c_str(),
                          v.shape_str(ins[1]).c_str(), f.dims[3], x.name.c_str(), p.in_c);
        }
    }
    if (ins.size() == 3 && ins[2] >= 0) {
        if (!v.need_bias(ins[2]) || !v.need_const(ins[2], "bias")) {
            return false;
        }
        if (v.t(ins[2]).dims[0] != p.out_c) {
            return v.fail("%s: bias '%s' has %d values for %d output channels", w, v.tname(ins[2]).c_str(),
                          v.t(ins[2]).dims[0], p.out_c);
        }
    } else {
        op.in[2] = -1;
    }
    if (!v.geometry("vertical", p.in_h, p.k_h, sh, dil_h, padding == 0, &p.out_h, &p.pad_top) ||
        !v.geometry("horizontal", p.in_w, p.k_w, sw, dil_w, padding == 0, &p.out_w, &p.pad_left)) {
        return false;
    }
    if (v.act_type == tfl_int8) {
        if (!v.set_requant(op, ins[0], ins[1], op.in[2], out, p.out_c, dw ? 3 : 0)) {
            return false;
        }
        v.set_act_range(op, act, out);
    }
    return v.need_shape(out, {p.n, p.out_h, p.out_w, p.out_c});
}

namespace {

bool prepare(op_verifier & v, rt_op & op) { return prepare_convolution(v, op, false); }

void eval_f32(fer_context * c, const rt_op & op) {
    fer_conv2d_f32__ref(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}

void eval_s8(fer_context * c, const rt_op & op) {
    fer_conv2d_s8__ref(op.conv, op_quant(op), c->p8(op.in[0]), c->p8(op.in[1]), c->opt_s32(op.in[2]), c->p8(op.out));
}

#ifdef FER_HAVE_AVX2
void eval_f32_avx2(fer_context * c, const rt_op & op) {
    fer_conv2d_f32__avx2(op.conv, c->cptr(op.in[0]), op.packed.data(), op.bias_padded.data(), c->ptr(op.out));
}
void eval_f32_narrow_avx2(fer_context * c, const rt_op & op) {
    fer_conv2d_f32_narrow__avx2(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}
void eval_s8_avx2(fer_context * c, const rt_op & op) {
    fer_conv2d_s8__avx2(op.conv_tiles, op_quant(op), c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                        op.scale_padded.data(), c->p8(op.out), c->scratch);
}
void eval_s8_winograd_avx2(fer_context * c, const rt_op & op) {
    fer_conv2d_s8_winograd__avx2(op.conv, op_quant(op), c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                                 op.scale_padded.data(), c->p8(op.out), c->scratch);
}
#endif
#ifdef FER_HAVE_AVXVNNI
void eval_s8_avxvnni(fer_context * c, const rt_op & op) {
    fer_conv2d_s8__avxvnni(op.conv, op_quant(op), c->p8(op.in[0]), op.packed_vnni.data(), op.bias32_padded.data(),
                           op.scale_padded.data(), c->p8(op.out), c->scratch);
}
#endif
#ifdef __aarch64__
void eval_s8_neon(fer_context * c, const rt_op & op) {
    fer_conv2d_s8__neon(op.conv_tiles, op_quant(op), c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                        op.scale_padded.data(), c->p8(op.out), c->scratch);
}
#endif
#ifdef __wasm_simd128__
void eval_f32_wasm128(fer_context * c, const rt_op & op) {
    fer_conv2d_f32__wasm128(op.conv, c->cptr(op.in[0]), c->cptr(op.in[1]), c->opt_f32(op.in[2]), c->ptr(op.out));
}
void eval_s8_wasm128(fer_context * c, const rt_op & op) {
    fer_conv2d_s8__wasm128(op.conv_tiles, op_quant(op), c->p8(op.in[0]), op.packed8.data(), op.bias32_padded.data(),
                           op.scale_padded.data(), c->p8(op.out), c->scratch);
}
void eval_s8_winograd_wasm128(fer_context * c, const rt_op & op) {
    fer_conv2d_s8_winograd__wasm128(op.conv, op_quant(op), c->p8(op.in[0]), op.packed8.data(),
                                    op.bias32_padded.data(), op.scale_padded.data(), c->p8(op.out), c->scratch);
}
#endif

// 3x3 stride-1 int8 convolutions as Winograd F(2x2, 3x3) where the int16-pair
// kernels run (AVX2, WASM SIMD128; NEON keeps the direct tiles for now):
// bit-identical, 2.25x fewer multiply-accumulates (fernet's seven 3x3
// layers: bench/README.md).
bool select_s8_winograd(fer_model & m, rt_op & op) {
    const kernel_set & ks = m.kernels;
    if (ks.vnni || ks.neon || !(ks.avx2 || ks.wasm128) || !fer_conv2d_s8_winograd_fits(op.conv)) {
        return false;
    }
    const int32_t * b = op.in[2] >= 0 ? static_cast<const int32_t *>(m.data(m.tensor(op.in[2]))) : nullptr;
    fer_conv2d_pack_s8_winograd(op.conv, static_cast<const int8_t *>(m.data(m.tensor(op.in[1]))), b,
                                op.scale.data(), &op.packed8, &op.bias32_padded, &op.scale_padded);
    op.conv_tiles = op.conv;
#ifdef FER_HAVE_AVX2
    if (ks.avx2) {
        op.eval = eval_s8_winograd_avx2;
    }
#endif
#ifdef __wasm_simd128__
    if (ks.wasm128) {
        op.eval = eval_s8_winograd_wasm128;
    }
#endif
    m.scratch_words = std::max(m.scratch_words, fer_conv2d_s8_winograd_scratch(op.conv));
    return true;
}

// The int8 tiles need the weights packed (byte quads for AVX-VNNI, int16
// pairs otherwise) and the context's scratch for the rewritten input.
void select_s8(fer_model & m, rt_op & op) {
    if (select_s8_winograd(m, op)) {
        return;
    }
    const kernel_set & ks = m.kernels;
    const conv_params & p = op.conv;
    if (!ks.any() || !(ks.vnni || p.in_c <= fer_conv2d_s8_avx2_max_in_c)) {
        return;
    }
    const int per_word = ks.vnni ? 4 : 2;
    const int32_t * b = op.in[2] >= 0 ? static_cast<const int32_t *>(m.data(m.tensor(op.in[2]))) : nullptr;
    const int8_t * w = static_cast<const int8_t *>(m.data(m.tensor(op.in[1])));
    if (ks.vnni) {
        op.conv_tiles = p;
        const size_t oc_pad = static_cast<size_t>(conv_padded_channels(p.out_c));
        op.packed_vnni.assign(static_cast<size_t>(p.k_h) * static_cast<size_t>(p.k_w) *
                                  static_cast<size_t>((p.in_c + 3) / 4) * oc_pad * 4,
                              0);
        op.bias32_padded.assign(oc_pad, 0);
        op.scale_padded.assign(oc_pad, 0.0f);
        fer_conv2d_pack_s8_vnni(p, op.in_zp, w, b, op.scale.data(), op.packed_vnni.data(), op.bias32_padded.data(),
                                op.scale_padded.data());
#ifdef FER_HAVE_AVXVNNI
        op.eval = eval_s8_avxvnni;
#endif
    } else {
        // an RGB stem runs over rows read as runs of values (fer_conv2d_s8_row_runs: 15 words a pixel
        // instead of 18 for YuNet's, and the scratch filled by one contiguous conversion)
        fer_conv2d_pack_s8_pairs(p, w, b, op.scale.data(), &op.conv_tiles, &op.packed8, &op.bias32_padded,
                                 &op.scale_padded);
#ifdef FER_HAVE_AVX2
        if (ks.avx2) {
            op.eval = eval_s8_avx2;
        }
#endif
#ifdef __aarch64__
        if (ks.neon) {
            op.eval = eval_s8_neon;
        }
#endif
#ifdef __wasm_simd128__
        if (ks.wasm128) {
            op.eval = eval_s8_wasm128;
        }
#endif
    }
    // every optimised int8 convolution rewrites its input into the context's scratch
    m.scratch_words = std::max(m.scratch_words, fer_conv2d_s8_scratch(op.conv_tiles, per_word));
}

void select(fer_model & m, rt_op & op) {
    if (op.q8) {
        select_s8(m, op);
        return;
    }
#ifdef FER_HAVE_AVX2
    if (m.kernels.avx2 && op.conv.out_c < 8 && op.conv.in_c >= 16) {
        // the blocks of 8 output channels would be mostly padding (YuNet's head: 0.29-0.34 -> 0.15-0.23 ms
        // at 256x192; with 10 outputs the blocks win: 0.059 against 0.082 ms, bench/bench-ops --per-op)
        op.eval = eval_f32_narrow_avx2;
    } else if (m.kernels.avx2) {
        const conv_params & p = op.conv;
        const size_t oc_pad = static_cast<size_t>(conv_padded_channels(p.out_c));
        op.packed.assign(static_cast<size_t>(p.k_h) * static_cast<size_t>(p.k_w) * static_cast<size_t>(p.in_c) * oc_pad,
                         0.0f);
        op.bias_padded.assign(oc_pad, 0.0f);
        const float * b = op.in[2] >= 0 ? static_cast<const float *>(m.data(m.tensor(op.in[2]))) : nullptr;
        fer_conv2d_pack_f32(p, static_cast<const float *>(m.data(m.tensor(op.in[1]))), b, op.packed.data(),
                            op.bias_padded.data());
        op.eval = eval_f32_avx2;
    }
#endif
#ifdef __wasm_simd128__
    if (m.kernels.wasm128) {
        op.eval = eval_f32_wasm128;
    }
#endif
    (void)m;
}

}  // namespace

const op_def op_conv_2d = {tfl_conv_2d, "CONV_2D", 6, prepare, eval_f32, eval_s8, select};

}  // namespace fer_rt
