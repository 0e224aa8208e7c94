// YuNet: input preparation, instantiation per input size, decoding and NMS
// (yunet.h). Plain C++17, no exceptions, no dependency but the runtime.
#include "yunet.h"

#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace fer::detect {

namespace {

constexpr int k_strides[3] = {8, 16, 32};
const char * const k_outputs[12] = {"cls_8", "cls_16", "cls_32", "obj_8", "obj_16", "obj_32",
                                    "bbox_8", "bbox_16", "bbox_32", "kps_8", "kps_16", "kps_32"};
constexpr int k_channels[4] = {1, 1, 4, 10};  // cls, obj, bbox, kps
constexpr int k_default_long_side = 640;
// Smallest face side (input pixels) YuNet finds reliably at the default score
// threshold (16 and 24 lost FER2013-like faces of the video tests): an image is
// never shrunk so far that the caller's min_size falls below it.
constexpr double k_smallest_face = 32.0;
constexpr double k_default_max_pass_pixels = 2e6;  // fer_detect_params.max_pass_pixels 0
constexpr size_t k_max_instances = 4;  // input sizes kept loaded (video: one; photos: a few)

float clamp01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

// The input of an image scaled by `scale`: rounded up to multiples of 32 (the
// coarsest stride), the rest padded.
yunet_geometry geometry_at(int width, int height, double scale) {
    yunet_geometry g;
    g.scale = scale;
    auto up32 = [](double v) { return std::max(32, (static_cast<int>(std::ceil(v - 1e-9)) + 31) / 32 * 32); };
    g.input_w = up32(width * scale);
    g.input_h = up32(height * scale);
    return g;
}

void log_to_string(int, const char * msg, void * user) { *static_cast<std::string *>(user) = msg; }

// One resampling tap list per output coordinate: source index and weight.
// Downscaling by 2 or more averages the source footprint (box filter: no
// aliasing of fine texture into false faces); otherwise bilinear with
// half-pixel centres (cv::resize's INTER_LINEAR geometry).
struct taps {
    std::vector<int> start, count;
    std::vector<int> index;
    std::vector<float> weight;
};

taps make_taps(int n_out, int n_src, double scale) {
    taps t;
    t.start.resize(static_cast<size_t>(n_out));
    t.count.resize(static_cast<size_t>(n_out));
    const double inv = 1.0 / scale;
    for (int o = 0; o < n_out; ++o) {
        t.start[static_cast<size_t>(o)] = static_cast<int>(t.index.size());
        if (inv >= 2.0) {
            int a = static_cast<int>(std::floor(o * inv));
            int b = static_cast<int>(std::floor((o + 1) * inv));
            a = std::min(a, n_src - 1);
            b = std::max(a + 1, std::min(b, n_src));
            for (int i = a; i < b; ++i) {
                t.index.push_back(i);
                t.weight.push_back(1.0f / static_cast<float>(b - a));
            }
        } else {
            const double s = (o + 0.5) * inv - 0.5;
            int i0 = static_cast<int>(std::floor(s));
            const float f = static_cast<float>(s - i0);
            const int i1 = std::min(std::max(i0 + 1, 0), n_src - 1);
            i0 = std::min(std::max(i0, 0), n_src - 1);
            t.index.push_back(i0);
            t.weight.push_back(1.0f - f);
            t.index.push_back(i1);
            t.weight.push_back(f);
        }
        t.count[static_cast<size_t>(o)] = static_cast<int>(t.index.size()) - t.start[static_cast<size_t>(o)];
    }
    return t;
}

// Bytes per pixel of each layout (a region's first pixel is found with it).
int bytes_per_pixel(pixel_format f) { return f == pixel_format::grey ? 1 : (f == pixel_format::bgr ? 3 : 4); }

// One output row's horizontal resampling from the column sums of a source
// with C bytes a pixel, B, G and R at those offsets (grey: C 1, all three 0):
// the layout a template argument so the channel loads are fixed offsets.
template <int C, int B, int G, int R>
void resample_row(const float * column_sum, const taps & tx, int cw, float * dst) {
    for (int x = 0; x < cw; ++x) {
        const int begin = tx.start[static_cast<size_t>(x)], end = begin + tx.count[static_cast<size_t>(x)];
        float * d = dst + static_cast<size_t>(x) * 3;
        if (C == 1) {
            float v = 0;
            for (int j = begin; j < end; ++j) {
                v += tx.weight[static_cast<size_t>(j)] * column_sum[tx.index[static_cast<size_t>(j)]];
            }
            d[0] = d[1] = d[2] = v;
            continue;
        }
        // a pixel's sums as one 4-float vector (SSE2, SIMD128): one multiply-add a tap, each lane's
        // arithmetic that of a scalar loop (BGR: the 4th lane, the next pixel's blue or the row's
        // padding float, is computed and dropped)
        typedef float f4 __attribute__((vector_size(16)));
        f4 acc = {0, 0, 0, 0};
        for (int j = begin; j < end; ++j) {
            f4 v;
            std::memcpy(&v, column_sum + static_cast<size_t>(tx.index[static_cast<size_t>(j)]) * C, sizeof v);
            acc += tx.weight[static_cast<size_t>(j)] * v;
        }
        d[0] = acc[B];
        d[1] = acc[G];
        d[2] = acc[R];
    }
}

// Fills the [1, input_h, input_w, 3] BGR float input (0..255), all of it:
// the image scaled into the top-left corner, zeros elsewhere. Separable: each
// output row first sums its source rows in the source's own layout (a
// contiguous, vectorised pass over the bytes, no per-pixel reordering), then
// resamples that one row horizontally, picking B, G and R out of each pixel.
void prepare_input(const uint8_t * px, int width, int height, size_t stride, pixel_format format,
                   const yunet_geometry & g, float * input) {
    const int cw = std::min(g.input_w, std::max(1, static_cast<int>(std::lround(width * g.scale))));
    const int ch = std::min(g.input_h, std::max(1, static_cast<int>(std::lround(height * g.scale))));
    const double sx = static_cast<double>(cw) / width, sy = static_cast<double>(ch) / height;
    const taps tx = make_taps(cw, width, sx), ty = make_taps(ch, height, sy);
    const size_t n = static_cast<size_t>(width) * static_cast<size_t>(bytes_per_pixel(format));
    const size_t row_floats = static_cast<size_t>(g.input_w) * 3, image_floats = static_cast<size_t>(cw) * 3;
    // every source byte's column, summed over the output row's source rows (+1: resample_row reads a BGR
    // row's last pixel as 4 floats)
    std::vector<float> column_sum(n + 1);
#ifdef FER_HAVE_AVX2
    const bool avx2 = fer_rt::fer_cpu_has_avx2_fma();  // bit-identical either way: speed only
#endif
    for (int y = 0; y < ch; ++y) {
        for (int k = 0; k < ty.count[static_cast<size_t>(y)]; ++k) {
            const size_t tk = static_cast<size_t>(ty.start[static_cast<size_t>(y)] + k);
            const uint8_t * row = px + static_cast<size_t>(ty.index[tk]) * stride;
#ifdef __wasm_simd128__
            fer_rt::fer_scale_add_u8__wasm128(n, row, ty.weight[tk], k == 0, column_sum.data());
#else
#ifdef FER_HAVE_AVX2
            if (avx2) {
                fer_rt::fer_scale_add_u8__avx2(n, row, ty.weight[tk], k == 0, column_sum.data());
                continue;
            }
#endif
            fer_rt::fer_scale_add_u8__ref(n, row, ty.weight[tk], k == 0, column_sum.data());  // vectorised as is
#endif
        }
        float * dst = input + static_cast<size_t>(y) * row_floats;
        switch (format) {
        case pixel_format::grey: resample_row<1, 0, 0, 0>(column_sum.data(), tx, cw, dst); break;
        case pixel_format::bgr: resample_row<3, 0, 1, 2>(column_sum.data(), tx, cw, dst); break;
        case pixel_format::rgba: resample_row<4, 2, 1, 0>(column_sum.data(), tx, cw, dst); break;  // red is byte 0
        }
        std::fill(dst + image_floats, dst + row_floats, 0.0f);
    }
    std::fill(input + static_cast<size_t>(ch) * row_floats, input + static_cast<size_t>(g.input_h) * row_floats, 0.0f);
}

// The model instance for an input size (loaded on first use), with one context.
bool acquire(yunet_detector & det, int h, int w, fer_model ** model, fer_context ** ctx, std::string & error) {
    std::lock_guard<std::mutex> lock(det.mu);
    ++det.clock;
    yunet_detector::instance * inst = nullptr;
    for (auto & i : det.instances) {
        if (i.h == h && i.w == w) {
            inst = &i;
        }
    }
    if (!inst) {
        if (det.instances.size() >= k_max_instances) {
            // evict the least recently used size that no call is using
            size_t victim = det.instances.size();
            for (size_t i = 0; i < det.instances.size(); ++i) {
                const auto & c = det.instances[i];
                if (c.in_use == 0 && (victim == det.instances.size() || c.last_use < det.instances[victim].last_use)) {
                    victim = i;
                }
            }
            if (victim < det.instances.size()) {
                for (fer_context * c : det.instances[victim].idle) {
                    fer_context_free(c);
                }
                fer_model_free(det.instances[victim].model);
                det.instances.erase(det.instances.begin() + static_cast<long>(victim));
            }
        }
        fer_model_params mp = fer_model_default_params();
        mp.input_height = h;
        mp.input_width = w;
        mp.log_callback = log_to_string;
        mp.log_user_data = &error;
        fer_model * m = fer_model_load_from_buffer(det.file.data(), det.file.size(), mp);
        if (!m) {
            return false;
        }
        det.instances.emplace_back();
        inst = &det.instances.back();
        inst->h = h;
        inst->w = w;
        inst->model = m;
    }
    inst->last_use = det.clock;
    *model = inst->model;
    if (!inst->idle.empty()) {
        *ctx = inst->idle.back();
        inst->idle.pop_back();
    } else if (!(*ctx = fer_context_new(inst->model))) {
        error = "out of memory for the detector's activations";
        return false;
    }
    ++inst->in_use;
    return true;
}

void release(yunet_detector & det, fer_model * model, fer_context * ctx) {
    std::lock_guard<std::mutex> lock(det.mu);
    for (auto & i : det.instances) {
        if (i.model == model) {  // always found: an instance in use is never evicted
            i.idle.push_back(ctx);
            --i.in_use;
            return;
        }
    }
}

}  // namespace

yunet_detector::~yunet_detector() {
    for (auto & i : instances) {
        for (fer_context * c : i.idle) {
            fer_context_free(c);
        }
        fer_model_free(i.model);
    }
}

void yunet_decode_level(const float * cls, const float * obj, const float * bbox, const float * kps, int rows,
                        int cols, int stride, float threshold, std::vector<yunet_face> & out) {
    const float s = static_cast<float>(stride);
    for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < cols; ++c) {
            const size_t i = static_cast<size_t>(r) * static_cast<size_t>(cols) + static_cast<size_t>(c);
            const float score = std::sqrt(clamp01(cls[i]) * clamp01(obj[i]));
            if (!(score >= threshold)) {
                continue;
            }
            const float * b = bbox + i * 4;
            const float cx = (static_cast<float>(c) + b[0]) * s, cy = (static_cast<float>(r) + b[1]) * s;
            // exp of a wild value must not make an infinite box: cap at 2^20 pixels
            const float w = std::exp(std::min(b[2], 20.0f)) * s, h = std::exp(std::min(b[3], 20.0f)) * s;
            yunet_face f;
            f.x = cx - w * 0.5f;
            f.y = cy - h * 0.5f;
            f.w = w;
            f.h = h;
            f.score = score;
            const float * k = kps + i * 10;
            for (int j = 0; j < 5; ++j) {
                f.landmarks[2 * j] = (static_cast<float>(c) + k[2 * j]) * s;
                f.landmarks[2 * j + 1] = (static_cast<float>(r) + k[2 * j + 1]) * s;
            }
            out.push_back(f);
        }
    }
}

float yunet_iou(const yunet_face & a, const yunet_face & b) {
    const float ix = std::max(0.0f, std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x));
    const float iy = std::max(0.0f, std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y));
    const float inter = ix * iy;
    const float uni = a.w * a.h + b.w * b.h - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

void yunet_nms(std::vector<yunet_face> & faces, float iou_threshold, size_t top_k) {
    std::vector<size_t> order(faces.size());
    std::iota(order.begin(), order.end(), size_t(0));
    // highest score first, equal scores in the decoder's order (std::sort with the index as the
    // last key: std::stable_sort's order without its merge code in the web app's download)
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return faces[a].score != faces[b].score ? faces[a].score > faces[b].score : a < b;
    });
    std::vector<yunet_face> kept;
    for (size_t i : order) {
        bool keep = true;
        for (const yunet_face & k : kept) {
            if (yunet_iou(faces[i], k) > iou_threshold) {
                keep = false;
                break;
            }
        }
        if (keep) {
            kept.push_back(faces[i]);
            if (top_k && kept.size() == top_k) {
                break;
            }
        }
    }
    faces.swap(kept);
}

yunet_geometry yunet_choose_geometry(int width, int height, const fer_detect_params & p) {
    const int long_side = std::max(width, height);
    double scale;
    if (p.input_long_side > 0) {
        scale = std::min(1.0, static_cast<double>(p.input_long_side) / long_side);
    } else if (p.min_size > 0) {
        // as coarse as finding faces of min_size allows: the cheapest pass (live video: min face 80 -> 1/5)
        scale = std::min(1.0, k_smallest_face / p.min_size);
    } else {
        scale = std::min(1.0, static_cast<double>(k_default_long_side) / long_side);
    }
    return geometry_at(width, height, scale);
}

bool yunet_load(yunet_detector & det, const uint8_t * data, size_t size, std::string & error) {
    det.file.assign(data, data + size);
    fer_model_params mp = fer_model_default_params();
    mp.log_callback = log_to_string;
    mp.log_user_data = &error;
    fer_model * m = fer_model_load_from_buffer(data, size, mp);
    if (!m) {
        return false;
    }
    bool ok = std::strcmp(fer_model_task(m), "face_detector") == 0;
    if (!ok) {
        error = std::string("a TFLite model for the task '") + fer_model_task(m) + "', not a face detector";
    }
    if (ok && fer_model_n_outputs(m) != 12) {
        error = "a YuNet file has 12 outputs, this one " + std::to_string(fer_model_n_outputs(m));
        ok = false;
    }
    int in[4];
    if (ok && (fer_model_input_dims(m, in) != 4 || in[3] != 3 || in[1] % 32 || in[2] % 32)) {
        error = "the input must be [1,H,W,3] with H and W multiples of 32";
        ok = false;
    }
    for (int i = 0; ok && i < 12; ++i) {
        int d[4];
        const int stride = k_strides[i % 3];
        if (std::strcmp(fer_model_output_name(m, i), k_outputs[i]) != 0 || fer_model_output_dims(m, i, d) != 4 ||
            d[1] != in[1] / stride || d[2] != in[2] / stride || d[3] != k_channels[i / 3]) {
            error = std::string("output ") + std::to_string(i) + " '" + fer_model_output_name(m, i) + "' is not " +
                    k_outputs[i] + " [1," + std::to_string(in[1] / stride) + "," + std::to_string(in[2] / stride) +
                    "," + std::to_string(k_channels[i / 3]) + "]";
            ok = false;
        }
    }
    if (ok) {
        // keep this instance: it serves images of the file's own input size
        det.instances.emplace_back();
        det.instances.back().h = in[1];
        det.instances.back().w = in[2];
        det.instances.back().model = m;
    } else {
        fer_model_free(m);
    }
    return ok;
}

namespace {

// The score a face needs when its longer side in YuNet's input is `side`.
float score_needed(float side, const fer_detect_params & p) {
    return side < static_cast<float>(FER_YUNET_SMALL_FACE_PX) ? std::min(p.score_threshold, p.small_face_score_threshold)
                                                              : p.score_threshold;
}

}  // namespace

void yunet_apply_thresholds(std::vector<yunet_face> & faces, const fer_detect_params & p) {
    size_t n = 0;
    for (const yunet_face & f : faces) {
        if (f.score >= score_needed(std::max(f.w, f.h), p)) {
            faces[n++] = f;
        }
    }
    faces.resize(n);
}

namespace {

// One YuNet pass over the image region [x0, x0 + w) x [y0, y0 + h), scaled by
// g.scale into g's input: cells scoring at least `decode_threshold` decoded,
// then (when `thresholds`) the size-aware rule in this pass's pixels, then
// NMS. Faces are appended in image pixels; `input_side` gets each face's
// longer side in this pass's input (what the cascade sorts on).
bool run_pass(yunet_detector & det, const uint8_t * pixels, size_t stride, pixel_format format, int x0, int y0, int w,
              int h, const yunet_geometry & g, float decode_threshold, bool thresholds, const fer_detect_params & p,
              std::vector<yunet_face> & out, std::vector<float> * input_side = nullptr) {
    const uint8_t * first = pixels + static_cast<size_t>(y0) * stride +
                            static_cast<size_t>(x0) * static_cast<size_t>(bytes_per_pixel(format));
    fer_model * model = nullptr;
    fer_context * ctx = nullptr;
    std::string error;
    if (!acquire(det, g.input_h, g.input_w, &model, &ctx, error)) {
        return false;
    }
    // straight into the context's input (fer_context_input): no buffer of the input's megabytes to
    // allocate, clear and copy a pass
    size_t n_input = 0;
    float * input = fer_context_input(ctx, &n_input);
    if (!input || n_input != static_cast<size_t>(g.input_w) * static_cast<size_t>(g.input_h) * 3) {
        release(det, model, ctx);
        return false;
    }
    prepare_input(first, w, h, stride, format, g, input);
    fer_context_run(ctx, input, n_input);
    std::vector<yunet_face> faces;
    for (int l = 0; l < 3; ++l) {
        const int s = k_strides[l];
        yunet_decode_level(fer_context_output(ctx, l, nullptr), fer_context_output(ctx, 3 + l, nullptr),
                           fer_context_output(ctx, 6 + l, nullptr), fer_context_output(ctx, 9 + l, nullptr),
                           g.input_h / s, g.input_w / s, s, decode_threshold, faces);
    }
    release(det, model, ctx);
    if (thresholds) {
        yunet_apply_thresholds(faces, p);  // input pixels: the size the rule is about
    }
    yunet_nms(faces, p.nms_threshold, 0);
    const float inv = static_cast<float>(1.0 / g.scale);
    for (yunet_face & f : faces) {
        if (input_side) {
            input_side->push_back(std::max(f.w, f.h));
        }
        f.x = f.x * inv + static_cast<float>(x0);
        f.y = f.y * inv + static_cast<float>(y0);
        f.w *= inv;
        f.h *= inv;
        for (int k = 0; k < 10; k += 2) {
            f.landmarks[k] = f.landmarks[k] * inv + static_cast<float>(x0);
            f.landmarks[k + 1] = f.landmarks[k + 1] * inv + static_cast<float>(y0);
        }
        out.push_back(f);
    }
    return true;
}

// Small faces in a large image, without the full pass min_size asks for
// (docs/face-detection.md, "Small faces in large photos"):
//  1. a proposal pass over the whole image at half the scale (min_size faces
//     at 16 px), decoded from a low score: every face it sees at 32 px or more
//     is judged there with the usual thresholds, every smaller one is a
//     candidate;
//  2. each candidate not already inside a checked tile gets a tile of
//     k_tile x k_tile input pixels centred on it at the full scale, where
//     YuNet judges it at 32 px and more with the usual thresholds (a face cut
//     by a tile's inner edge is left to the tile that holds it whole);
//  3. a coarse pass at the default 640 px long side when the proposal pass is
//     too fine to see the largest faces whole.
// All faces then go through one NMS in image pixels.
// Chosen on the mosaics of bench-face-detectors (FER_BENCH_SMALL=1), session 8:
// proposal score 0.15 / 0.3 / 0.5 with 128 px tiles: recall >= 24 px 71.0 /
// 70.6 / - %, 458 / 409 / - ms; 0.3 with 192 / 256 px tiles: 72.7 / 73.7%,
// 470 / 521 ms; 0.5 with 192: 71.2%, 409 ms.
constexpr float k_proposal_score = 0.3f;  // WIDER faces at 16-20 px: 82% reach 0.2, 67% the thresholds
constexpr double k_candidate_fraction = 0.6;  // of min_size: a face's box at 16 px is that rough
constexpr int k_tile = 192;  // candidates are under 64 px at the fine scale: 64 px of context around them
// The proposal pass's largest input: inside the runtime's 256 MB activation
// limit (YuNet's 9.7 MP pass fits, 12 MP does not).
constexpr double k_max_proposal_pixels = 8e6;

bool detect_cascade(yunet_detector & det, const uint8_t * pixels, int width, int height, size_t stride,
                    pixel_format format, const fer_detect_params & p, double fine, std::vector<yunet_face> & faces) {
    const float low = std::min({k_proposal_score, p.score_threshold, p.small_face_score_threshold});
    const double area = static_cast<double>(width) * height;
    const double proposal = std::min(fine / 2, std::sqrt(k_max_proposal_pixels / area));
    std::vector<yunet_face> seen;
    std::vector<float> seen_side;
    if (!run_pass(det, pixels, stride, format, 0, 0, width, height, geometry_at(width, height, proposal), low, false, p,
                  seen, &seen_side)) {
        return false;
    }
    std::vector<yunet_face> candidates;
    for (size_t i = 0; i < seen.size(); ++i) {
        if (seen_side[i] >= k_smallest_face) {
            // seen whole: judged as a pass at the proposal scale judges it (its side in that pass's pixels)
            if (seen[i].score >= score_needed(seen_side[i], p)) {
                faces.push_back(seen[i]);
            }
        } else if (std::max(seen[i].w, seen[i].h) >= k_candidate_fraction * p.min_size) {
            candidates.push_back(seen[i]);  // smaller ones: faces under min_size (most of a crowd's)
        }
    }
    // tiles around the candidates (best first: a strong candidate centres its tile)
    const int side = std::max(1, static_cast<int>(k_tile / fine + 1e-9));  // at most k_tile input pixels
    const int tw = std::min(side, width), th = std::min(side, height);
    const yunet_geometry tile = geometry_at(tw, th, fine);
    struct region {
        int x, y;
    };
    std::vector<region> tiles;
    const float margin = static_cast<float>(4.0 / fine);
    auto inside = [&](const yunet_face & f, const region & r) {
        // whole and clear of an inner edge (an edge on the image's border counts as clear)
        return (r.x == 0 || f.x >= r.x + margin) && (r.y == 0 || f.y >= r.y + margin) &&
               (r.x + tw == width || f.x + f.w <= r.x + tw - margin) &&
               (r.y + th == height || f.y + f.h <= r.y + th - margin) && f.x >= r.x - margin &&
               f.y >= r.y - margin && f.x + f.w <= r.x + tw + margin && f.y + f.h <= r.y + th + margin;
    };
    for (const yunet_face & c : candidates) {  // sorted by score (NMS)
        bool covered = false;
        for (const region & r : tiles) {
            covered = covered || inside(c, r);
        }
        if (covered) {
            continue;
        }
        const int cx = static_cast<int>(std::lround(c.x + c.w / 2)), cy = static_cast<int>(std::lround(c.y + c.h / 2));
        const region r{std::min(std::max(cx - tw / 2, 0), width - tw), std::min(std::max(cy - th / 2, 0), height - th)};
        tiles.push_back(r);
        std::vector<yunet_face> found;
        if (!run_pass(det, pixels, stride, format, r.x, r.y, tw, th, tile,
                      std::min(p.score_threshold, p.small_face_score_threshold), true, p, found)) {
            return false;
        }
        for (const yunet_face & f : found) {
            if (inside(f, r)) {
                faces.push_back(f);
            }
        }
    }
    // the largest faces: a 640 px pass when the proposal pass sees them above YuNet's range
    const double coarse = std::min(1.0, static_cast<double>(k_default_long_side) / std::max(width, height));
    if (proposal > 2 * coarse &&
        !run_pass(det, pixels, stride, format, 0, 0, width, height, geometry_at(width, height, coarse),
                  std::min(p.score_threshold, p.small_face_score_threshold), true, p, faces)) {
        return false;
    }
    yunet_nms(faces, p.nms_threshold, 0);
    return true;
}

}  // namespace

fer_detect_status yunet_detect(yunet_detector & det, const uint8_t * pixels, int width, int height, size_t stride,
                               pixel_format format, const fer_detect_params & p, std::vector<yunet_face> & out) {
    out.clear();
    const yunet_geometry g = yunet_choose_geometry(width, height, p);
    const double max_pixels = p.max_pass_pixels > 0 ? p.max_pass_pixels : k_default_max_pass_pixels;
    std::vector<yunet_face> faces;
    const bool cascade = p.input_long_side == 0 && p.min_size > 0 &&
                         static_cast<double>(g.input_w) * g.input_h > max_pixels;
    const bool ok = cascade ? detect_cascade(det, pixels, width, height, stride, format, p, g.scale, faces)
                            : run_pass(det, pixels, stride, format, 0, 0, width, height, g,
                                       std::min(p.score_threshold, p.small_face_score_threshold), true, p, faces);
    if (!ok) {
        return FER_DETECT_ERR_MEMORY;
    }
    for (const yunet_face & f : faces) {
        const float side = std::max(f.w, f.h);
        if ((p.min_size > 0 && side < p.min_size) || (p.max_size > 0 && side > p.max_size)) {
            continue;
        }
        out.push_back(f);
    }
    return FER_DETECT_OK;
}

}  // namespace fer::detect
