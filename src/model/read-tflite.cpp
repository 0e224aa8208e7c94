// The TFLite reader: the file's header, operator codes, buffers, tensors
// (with their quantisation), metadata and ops, read through the
// bounds-checked FlatBuffer reader (src/tflite/flatbuffer-reader.h). Each op
// is looked up in the op table and checked by its own prepare function
// (src/ops/); the graph as a whole by verify-graph.cpp. Model files are
// untrusted (the web app fetches them): any problem refuses the file with a
// message naming the op or tensor.
#include "model/op-table.h"
#include "model/verify.h"

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fer_rt {

using namespace fer_tflite;

namespace {

// A metadata number ("127.5", "-1", "2.5e2"): digits with an optional sign,
// fraction and exponent, the whole string. Not std::strtof: its long double
// arithmetic is 5 KB of the web app's first download (WebAssembly has no long
// double), and locales play no part here. Exact for the integers and simple
// fractions the exporter writes; within float rounding otherwise.
bool parse_number(const char * s, float * out) {
    const char * p = s;
    const bool negative = *p == '-';
    if (*p == '-' || *p == '+') {
        ++p;
    }
    double v = 0.0, scale = 1.0;
    int digits = 0;
    for (; *p >= '0' && *p <= '9'; ++p, ++digits) {
        v = v * 10.0 + (*p - '0');
    }
    if (*p == '.') {
        for (++p; *p >= '0' && *p <= '9'; ++p, ++digits) {
            v = v * 10.0 + (*p - '0');
            scale *= 10.0;
        }
    }
    if (digits == 0) {
        return false;
    }
    v /= scale;
    if (*p == 'e' || *p == 'E') {
        ++p;
        const bool neg_exp = *p == '-';
        if (*p == '-' || *p == '+') {
            ++p;
        }
        int e = 0, e_digits = 0;
        for (; *p >= '0' && *p <= '9' && e < 1000; ++p, ++e_digits) {
            e = e * 10 + (*p - '0');
        }
        if (e_digits == 0) {
            return false;
        }
        for (; e > 0; --e) {
            v = neg_exp ? v / 10.0 : v * 10.0;
        }
    }
    if (*p != '\0') {
        return false;
    }
    *out = static_cast<float>(negative ? -v : v);
    return true;
}

struct buffer_ref {
    uint64_t data = 0;
    uint32_t size = 0;
};

class tflite_reader {
public:
    tflite_reader(const uint8_t * d, uint64_t n, fer_model * model) : L(d, n), m(model), v_(L, *model) {}
    fb_reader L;
    fer_model * m;
    int input_h = 0, input_w = 0;  // fer_model_params.input_height/width (0: the file's)

#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    bool fail(const char * fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        keep_first_error(L.error, fmt, ap);
        va_end(ap);
        return false;
    }

    bool load();

private:
    op_verifier v_;
    std::vector<buffer_ref> buffers_;
    std::vector<int> codes_, versions_;

    bool load_tensors(const fb_table & sg);
    bool load_ops(const fb_table & sg);
    bool prepare_op(const op_def & def, rt_op & op, const fb_table & opts, bool has_opts, int opt_type,
                    const std::vector<int32_t> & ins, const std::vector<int32_t> & outs);
    bool choose_input_size(const std::vector<int32_t> & inputs);
    bool load_metadata(const fb_table & root);
};

bool tflite_reader::load() {
    if (L.size() < 8) {
        return fail("not a TFLite model: %llu bytes is too short", static_cast<unsigned long long>(L.size()));
    }
    if (L.size() > k_max_file) {
        return fail("model file of %llu bytes exceeds the %llu-byte limit", static_cast<unsigned long long>(L.size()),
                    static_cast<unsigned long long>(k_max_file));
    }
    const uint8_t * id = L.bytes(4);
    if (std::memcmp(id, k_file_identifier, 4) != 0) {
        char shown[5];
        for (int i = 0; i < 4; ++i) {
            shown[i] = (id[i] >= 32 && id[i] < 127) ? static_cast<char>(id[i]) : '?';
        }
        shown[4] = 0;
        return fail("not a TFLite model: file identifier is '%s', expected 'TFL3'", shown);
    }
    fb_table root;
    if (!L.table_at(L.u32(0), &root, "model")) {
        return false;
    }
    uint32_t version;
    if (!L.scalar<uint32_t>(root, 0, 0, &version, "model")) {
        return false;
    }
    if (version != k_schema_version) {
        return fail("model: schema version %u is not supported (expected 3)", version);
    }
    // operator codes
    uint64_t data;
    uint32_t count;
    if (!L.vec(root, 1, 4, &data, &count, "model.operator_codes")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u operator codes is absurd", count);
    }
    for (uint32_t i = 0; i < count; ++i) {
        fb_table oc;
        int8_t dep;
        int32_t ver, code;
        std::string custom;
        if (!L.table_in_vector(data, i, &oc, "operator code") || !L.scalar<int8_t>(oc, 0, 0, &dep, "operator code") ||
            !L.str(oc, 1, &custom, "operator code") || !L.scalar<int32_t>(oc, 2, 1, &ver, "operator code") ||
            !L.scalar<int32_t>(oc, 3, 0, &code, "operator code")) {
            return false;
        }
        // TFLite takes the larger of the two fields (old files only set the byte).
        const int c = code > dep ? code : dep;
        if (c == tfl_custom || !custom.empty()) {
            return fail("operator code %u: custom op '%s' is not supported", i, custom.c_str());
        }
        codes_.push_back(c);
        versions_.push_back(ver);
    }
    // buffers
    if (!L.vec(root, 4, 4, &data, &count, "model.buffers")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u buffers is absurd", count);
    }
    for (uint32_t i = 0; i < count; ++i) {
        fb_table b;
        buffer_ref r;
        uint64_t off = 0;
        if (!L.table_in_vector(data, i, &b, "buffer") || !L.vec(b, 0, 1, &r.data, &r.size, "buffer data") ||
            !L.scalar<uint64_t>(b, 1, 0, &off, "buffer")) {
            return fail("buffer %u: %s", i, L.error.c_str());
        }
        if (off > 1) {
            return fail("buffer %u: data outside the FlatBuffer (offset field) is not supported", i);
        }
        buffers_.push_back(r);
    }
    // the subgraph
    if (!L.vec(root, 2, 4, &data, &count, "model.subgraphs")) {
        return false;
    }
    if (count != 1) {
        return fail("model: %u subgraphs; exactly one is supported", count);
    }
    fb_table sg;
    if (!L.table_in_vector(data, 0, &sg, "subgraph 0")) {
        return false;
    }
    std::vector<int32_t> inputs, outputs;
    // The metadata first: whether the graph is a classifier decides what its input and outputs must be.
    if (!load_metadata(root) || !load_tensors(sg) || !L.i32_vec(sg, 1, &inputs, "subgraph inputs") ||
        !L.i32_vec(sg, 2, &outputs, "subgraph outputs") || !choose_input_size(inputs) || !load_ops(sg) ||
        !verify_graph(v_, inputs, outputs)) {
        return false;
    }
    find_cam(m);
    return true;
}

// fer_model_params.input_height/width: the graph is instantiated for another
// input size. Every activation shape is then derived op by op (check_op) from
// the new input instead of being checked against the file.
bool tflite_reader::choose_input_size(const std::vector<int32_t> & inputs) {
    if (input_h == 0 && input_w == 0) {
        return true;
    }
    if (m->classifier) {
        return fail("input size %dx%d asked, but a classifier takes %dx%d faces", input_h, input_w, FER_INPUT_SIZE,
                    FER_INPUT_SIZE);
    }
    if (input_h < 1 || input_w < 1 || input_h > k_max_dim_param || input_w > k_max_dim_param) {
        return fail("input size %dx%d is out of range (1..%d)", input_h, input_w, k_max_dim_param);
    }
    if (inputs.size() != 1 || inputs[0] < 0 || inputs[0] >= static_cast<int32_t>(m->tensors.size())) {
        return fail("graph: exactly one valid input tensor is supported (%zu given)", inputs.size());
    }
    const rt_tensor & in = m->tensors[static_cast<size_t>(inputs[0])];
    if (in.rank != 4 || in.is_const) {
        return fail("graph: input '%s' %s is not an image tensor [1,H,W,C]; its size cannot be chosen",
                    in.name.c_str(), v_.shape_str(inputs[0]).c_str());
    }
    if (in.dims[1] == input_h && in.dims[2] == input_w) {
        return true;
    }
    const int d[4] = {in.dims[0], input_h, input_w, in.dims[3]};
    v_.where = "graph input";
    v_.resizing = true;
    return v_.set_shape(inputs[0], d, 4);
}

bool tflite_reader::load_tensors(const fb_table & sg) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(sg, 0, 4, &data, &count, "subgraph tensors")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u tensors is absurd", count);
    }
    // First pass: sizes of the constants, to reserve aligned storage once.
    m->tensors.resize(count);
    std::vector<uint32_t> buf_of(count, 0);
    uint64_t const_bytes = 0;
    for (uint32_t i = 0; i < count; ++i) {
        rt_tensor & t = m->tensors[i];
        fb_table tt;
        char what[64];
        std::snprintf(what, sizeof what, "tensor %u", i);
        int8_t type;
        uint32_t buffer;
        std::vector<int32_t> shape;
        uint8_t is_var;  // a bool in the schema; read as a byte (any non-zero value is true)
        uint64_t sparsity;
        if (!L.table_in_vector(data, i, &tt, what) || !L.i32_vec(tt, 0, &shape, what) ||
            !L.scalar<int8_t>(tt, 1, 0, &type, what) || !L.scalar<uint32_t>(tt, 2, 0, &buffer, what) ||
            !L.str(tt, 3, &t.name, what) || !L.scalar<uint8_t>(tt, 5, 0, &is_var, what) ||
            !L.ref(tt, 6, &sparsity, what)) {
            return false;
        }
        if (t.name.empty()) {
            t.name = what;
        }
        if (is_var || sparsity) {
            return fail("tensor %u '%s': variable or sparse tensors are not supported", i, t.name.c_str());
        }
        if (type != tfl_float32 && type != tfl_int32 && type != tfl_int8) {
            return fail("tensor %u '%s': type %s is not supported (FLOAT32, INT32 and INT8 only)", i, t.name.c_str(),
                        tflite_type_name(type));
        }
        t.type = type;
        t.elem = type == tfl_int8 ? 1 : 4;
        if (shape.size() > 4) {
            return fail("tensor %u '%s': rank %zu is not supported (at most 4)", i, t.name.c_str(), shape.size());
        }
        t.rank = static_cast<int>(shape.size());
        uint64_t n = 1;
        for (size_t k = 0; k < shape.size(); ++k) {
            if (shape[k] < 1) {
                return fail("tensor %u '%s': dimension %zu is %d (must be >= 1)", i, t.name.c_str(), k, shape[k]);
            }
            n *= static_cast<uint64_t>(shape[k]);
            if (n > k_max_elements) {
                return fail("tensor %u '%s': shape is absurd (more than %llu elements)", i, t.name.c_str(),
                            static_cast<unsigned long long>(k_max_elements));
            }
            t.dims[k] = shape[k];
            t.file_dims[k] = shape[k];
        }
        t.n = static_cast<size_t>(n);
        t.bytes = t.n * static_cast<size_t>(t.elem);
        uint64_t qpos;
        if (!L.ref(tt, 4, &qpos, what)) {
            return false;
        }
        if (qpos) {
            fb_table qt;
            uint64_t sd, zd;
            uint32_t sn, zn;
            uint8_t details;
            int32_t qdim;
            if (!L.table_at(qpos, &qt, what) || !L.vec(qt, 2, 4, &sd, &sn, what) || !L.vec(qt, 3, 8, &zd, &zn, what) ||
                !L.scalar<uint8_t>(qt, 4, 0, &details, what) || !L.scalar<int32_t>(qt, 6, 0, &qdim, what)) {
                return false;
            }
            if (details) {
                return fail("tensor %u '%s': custom quantisation is not supported", i, t.name.c_str());
            }
            if (sn && zn != sn) {
                return fail("tensor %u '%s': %u scales but %u zero points", i, t.name.c_str(), sn, zn);
            }
            if (sn > 1 && (qdim < 0 || qdim >= t.rank || static_cast<uint32_t>(t.dims[qdim]) != sn)) {
                return fail("tensor %u '%s': %u scales do not match dimension %d of %s", i, t.name.c_str(), sn, qdim,
                            v_.shape_str(static_cast<int>(i)).c_str());
            }
            t.scales.resize(sn);
            t.zps.resize(sn);
            if (sn) {
                std::memcpy(t.scales.data(), L.bytes(sd), 4ull * sn);
                std::memcpy(t.zps.data(), L.bytes(zd), 8ull * sn);
            }
            for (uint32_t k = 0; k < sn; ++k) {
                if (!std::isfinite(t.scales[k]) || t.scales[k] <= 0.0f ||
                    (t.type == tfl_int8 && (t.zps[k] < -128 || t.zps[k] > 127)) ||
                    (t.type == tfl_int32 && t.zps[k] != 0)) {
                    return fail("tensor %u '%s': quantisation %u (scale %g, zero point %lld) is invalid", i,
                                t.name.c_str(), k, static_cast<double>(t.scales[k]),
                                static_cast<long long>(t.zps[k]));
                }
            }
            t.qdim = qdim;
            if (sn) {
                t.scale = t.scales[0];
                t.zp = static_cast<int32_t>(t.zps[0]);
            }
        }
        if (t.type == tfl_int8 && t.scales.empty()) {
            return fail("tensor %u '%s': INT8 without quantisation parameters", i, t.name.c_str());
        }
        if (buffer >= buffers_.size()) {
            return fail("tensor %u '%s': buffer index %u is out of range (%zu buffers)", i, t.name.c_str(), buffer,
                        buffers_.size());
        }
        const buffer_ref & b = buffers_[buffer];
        if (b.size) {
            if (b.size != t.bytes) {
                return fail("tensor %u '%s': buffer %u holds %u bytes, shape %s of %s needs %zu", i, t.name.c_str(),
                            buffer, b.size, v_.shape_str(static_cast<int>(i)).c_str(), tflite_type_name(t.type), t.bytes);
            }
            t.is_const = true;
            t.const_off = static_cast<size_t>(const_bytes);
            const_bytes += (t.bytes + 15) / 16 * 16;
            buf_of[i] = buffer;
        }
        // quantisation parameters are ignored for float tensors (TFLite does the same)
    }
    // Tensors may share a buffer, so constant data can exceed the file; not by much in real models.
    if (const_bytes > 2 * L.size() + 16ull * count) {
        return fail("model: constant tensors need %llu bytes from a %llu-byte file (buffers shared too often)",
                    static_cast<unsigned long long>(const_bytes), static_cast<unsigned long long>(L.size()));
    }
    m->consts.assign(static_cast<size_t>(const_bytes / 4), 0.0f);
    for (uint32_t i = 0; i < count; ++i) {
        rt_tensor & t = m->tensors[i];
        if (t.is_const) {
            std::memcpy(reinterpret_cast<uint8_t *>(m->consts.data()) + t.const_off,
                        L.bytes(buffers_[buf_of[i]].data), t.bytes);
        }
    }
    return true;
}

bool tflite_reader::load_ops(const fb_table & sg) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(sg, 3, 4, &data, &count, "subgraph operators")) {
        return false;
    }
    if (count > k_max_count) {
        return fail("model: %u operators is absurd", count);
    }
    if (count == 0) {
        return fail("model: the graph has no operators");
    }
    m->ops.resize(count);
    for (uint32_t i = 0; i < count; ++i) {
        fb_table ot;
        char what[64];
        std::snprintf(what, sizeof what, "op %u", i);
        uint32_t opcode;
        std::vector<int32_t> ins, outs;
        uint8_t opt_type;
        uint64_t opt_pos;
        if (!L.table_in_vector(data, i, &ot, what) || !L.scalar<uint32_t>(ot, 0, 0, &opcode, what) ||
            !L.i32_vec(ot, 1, &ins, what) || !L.i32_vec(ot, 2, &outs, what) ||
            !L.scalar<uint8_t>(ot, 3, 0, &opt_type, what) || !L.ref(ot, 4, &opt_pos, what)) {
            return false;
        }
        if (opcode >= codes_.size()) {
            return fail("op %u: opcode index %u is out of range (%zu operator codes)", i, opcode, codes_.size());
        }
        const int builtin = codes_[opcode], version = versions_[opcode];
        const op_def * info = find_op_def(builtin);
        v_.where = "op " + std::to_string(i) + " (" + builtin_name(builtin);
        if (!info) {
            return fail("%s %d): unsupported operator", v_.where.c_str(), builtin);
        }
        if (version < 1 || version > info->max_version) {
            return fail("%s): version %d is not supported (1..%d)", v_.where.c_str(), version, info->max_version);
        }
        for (int32_t t : ins) {
            if (t < -1 || t >= static_cast<int32_t>(m->tensors.size())) {
                return fail("%s): input tensor index %d is out of range", v_.where.c_str(), t);
            }
        }
        if (outs.size() != 1 || outs[0] < 0 || outs[0] >= static_cast<int32_t>(m->tensors.size())) {
            return fail("%s): needs exactly one valid output tensor", v_.where.c_str());
        }
        v_.where += " '" + v_.tname(outs[0]) + "'";
        v_.where += ")";
        fb_table opt;
        if (opt_pos && !L.table_at(opt_pos, &opt, what)) {
            return false;
        }
        rt_op & op = m->ops[i];
        op.builtin = builtin;
        if (!prepare_op(*info, op, opt, opt_pos != 0, opt_type, ins, outs)) {
            return false;
        }
    }
    return true;
}

// What every op shares before its own prepare: its tensors, an output that
// is not a constant, the activation type (input 0's); after it, the kernel.
bool tflite_reader::prepare_op(const op_def & def, rt_op & op, const fb_table & opts, bool has_opts, int opt_type,
                               const std::vector<int32_t> & ins, const std::vector<int32_t> & outs) {
    op.out = outs[0];
    for (size_t k = 0; k < ins.size() && k < 3; ++k) {
        op.in[k] = ins[k];
    }
    v_.ins = ins;
    v_.out = outs[0];
    v_.opts = opts;
    v_.has_opts = has_opts;
    v_.opt_type = opt_type;
    if (m->tensor(v_.out).is_const) {
        return fail("%s: output '%s' is a constant tensor", v_.w(), v_.tname(v_.out).c_str());
    }
    v_.act_type = tfl_float32;
    if (!ins.empty() && ins[0] >= 0 && m->tensor(ins[0]).type == tfl_int8) {
        v_.act_type = tfl_int8;
    }
    if (!def.prepare(v_, op)) {
        return false;
    }
    op.eval = v_.act_type == tfl_int8 ? def.eval_s8 : def.eval_f32;
    if (!op.eval) {
        return fail("%s: %s input is not supported", v_.w(), tflite_type_name(v_.act_type));
    }
    return true;
}

bool tflite_reader::load_metadata(const fb_table & root) {
    uint64_t data;
    uint32_t count;
    if (!L.vec(root, 6, 4, &data, &count, "model.metadata")) {
        return false;
    }
    for (uint32_t i = 0; i < count && i < k_max_count; ++i) {
        fb_table mt;
        std::string name;
        uint32_t buffer;
        if (!L.table_in_vector(data, i, &mt, "metadata") || !L.str(mt, 0, &name, "metadata") ||
            !L.scalar<uint32_t>(mt, 1, 0, &buffer, "metadata")) {
            return false;
        }
        if (buffer >= buffers_.size()) {
            return fail("metadata '%s': buffer index %u is out of range", name.c_str(), buffer);
        }
        const std::string text(reinterpret_cast<const char *>(L.bytes(buffers_[buffer].data)), buffers_[buffer].size);
        if (name == k_meta_labels) {
            size_t start = 0;
            while (start < text.size()) {
                size_t end = text.find('\n', start);
                if (end == std::string::npos) {
                    end = text.size();
                }
                if (end > start) {
                    m->labels.push_back(text.substr(start, end - start));
                }
                start = end + 1;
            }
            if (m->labels.size() != FER_N_CLASSES) {
                return fail("metadata 'fer.labels': %zu labels, expected %d", m->labels.size(), FER_N_CLASSES);
            }
        } else if (name == k_meta_info) {
            size_t start = 0;
            while (start < text.size()) {
                size_t end = text.find('\n', start);
                if (end == std::string::npos) {
                    end = text.size();
                }
                const std::string line = text.substr(start, end - start);
                const size_t eq = line.find('=');
                if (eq != std::string::npos) {
                    m->info.emplace_back(line.substr(0, eq), line.substr(eq + 1));
                }
                start = end + 1;
            }
        }
    }
    for (const auto & kv : m->info) {
        if (kv.first == "task") {
            m->classifier = kv.second == "classifier";
        }
    }
    if (!m->classifier && !m->labels.empty()) {
        return fail("metadata: a model whose task is not 'classifier' has no class labels ('fer.labels')");
    }
    for (const auto & kv : m->info) {
        if (kv.first == "pixel_mean" || kv.first == "pixel_std") {
            float v = 0.0f;
            if (!parse_number(kv.second.c_str(), &v) || !std::isfinite(v) || (kv.first == "pixel_std" && v <= 0.0f)) {
                return fail("metadata 'fer.info': %s=%s is not a usable number", kv.first.c_str(), kv.second.c_str());
            }
            (kv.first == "pixel_mean" ? m->pixel_mean : m->pixel_std) = v;
        }
    }
    return true;
}

}  // namespace

bool read_tflite(const uint8_t * data, uint64_t size, int input_h, int input_w, fer_model * m, std::string * error) {
    tflite_reader r(data, size, m);
    r.input_h = input_h;
    r.input_w = input_w;
    if (!r.load()) {
        *error = r.L.error;
        return false;
    }
    return true;
}

}  // namespace fer_rt
