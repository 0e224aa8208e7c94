#include "onnx-reader.h"

#include "error.h"

#include <cstring>
#include <fstream>
#include <sstream>

// Protobuf wire format: a message is a sequence of (key, value) pairs, key =
// field number << 3 | wire type; wire type 0 = varint, 1 = 8 bytes, 2 =
// length-delimited (bytes, strings, sub-messages, packed repeated scalars),
// 5 = 4 bytes. Unknown fields are skipped, as protobuf readers do, so files
// from newer exporters still read. Field numbers are those of onnx.proto.

namespace fer::onnx {

namespace {

// Upper bound on the elements of one tensor: far above any model this tool
// converts, low enough that dims from a corrupt file cannot overflow size_t.
constexpr int64_t k_max_elements = int64_t(1) << 31;

class cursor {
public:
    cursor(const uint8_t * begin, const uint8_t * end, const uint8_t * file, std::string where)
        : p_(begin), end_(end), file_(file), where_(std::move(where)) {}

    bool done() const { return p_ >= end_; }
    const std::string & where() const { return where_; }

    [[noreturn]] void fail(const std::string & msg) const {
        std::ostringstream s;
        s << where_ << ": " << msg << " (at byte " << (p_ - file_) << ")";
        throw input_error(s.str());
    }

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (p_ >= end_) {
                fail("truncated varint");
            }
            const uint8_t b = *p_++;
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) {
                return v;
            }
        }
        fail("varint longer than 10 bytes");
    }

    // Next key: field number and wire type.
    std::pair<uint32_t, int> key() {
        const uint64_t k = varint();
        const uint64_t field = k >> 3;
        if (field == 0 || field > 0x1fffffff) {
            fail("invalid field number " + std::to_string(field));
        }
        return {static_cast<uint32_t>(field), static_cast<int>(k & 7)};
    }

    // The body of a length-delimited value, as a sub-cursor.
    cursor sub(const std::string & where) {
        const uint64_t n = varint();
        if (n > static_cast<uint64_t>(end_ - p_)) {
            fail("length " + std::to_string(n) + " runs past the end of its message (" +
                 std::to_string(end_ - p_) + " bytes left)");
        }
        cursor c(p_, p_ + n, file_, where);
        p_ += n;
        return c;
    }

    std::string bytes() {
        cursor c = sub(where_);
        return std::string(reinterpret_cast<const char *>(c.p_), static_cast<size_t>(c.end_ - c.p_));
    }

    uint32_t fixed32() {
        if (end_ - p_ < 4) {
            fail("truncated 4-byte value");
        }
        uint32_t v;
        std::memcpy(&v, p_, 4);  // protobuf is little-endian, as every target of fer
        p_ += 4;
        return v;
    }

    void skip(int wire) {
        switch (wire) {
        case 0: varint(); return;
        case 1:
            if (end_ - p_ < 8) {
                fail("truncated 8-byte value");
            }
            p_ += 8;
            return;
        case 2: sub(where_); return;
        case 5: fixed32(); return;
        default: fail("unsupported wire type " + std::to_string(wire) + " (groups are not used by ONNX)");
        }
    }

    void expect(int wire, int want, const char * field) {
        if (wire != want) {
            fail(std::string("field '") + field + "' has wire type " + std::to_string(wire) + ", expected " +
                 std::to_string(want));
        }
    }

    // Repeated int64 (varints): packed (wire type 2) or one element (0).
    void ints(int wire, std::vector<int64_t> & out, const char * field) {
        if (wire == 0) {
            out.push_back(static_cast<int64_t>(varint()));
            return;
        }
        expect(wire, 2, field);
        cursor c = sub(where_ + "." + field);
        while (!c.done()) {
            out.push_back(static_cast<int64_t>(c.varint()));
        }
    }

    // Repeated float (4 bytes each): packed (2) or one element (5).
    void floats(int wire, std::vector<float> & out, const char * field) {
        if (wire == 5) {
            out.push_back(as_float(fixed32()));
            return;
        }
        expect(wire, 2, field);
        cursor c = sub(where_ + "." + field);
        if ((c.end_ - c.p_) % 4) {
            c.fail(std::string("packed float field '") + field + "' is not a multiple of 4 bytes");
        }
        while (!c.done()) {
            out.push_back(as_float(c.fixed32()));
        }
    }

    static float as_float(uint32_t bits) {
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    }

private:
    const uint8_t * p_;
    const uint8_t * end_;
    const uint8_t * file_;
    std::string where_;
};

std::string indexed(const std::string & where, const char * field, size_t i) {
    return where + "." + field + "[" + std::to_string(i) + "]";
}

// TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7,
// name 8, raw_data 9, data_location 14 (1 = external: not supported).
tensor read_tensor(cursor c) {
    tensor t;
    std::string raw;
    bool has_raw = false;
    std::vector<int64_t> i32;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        switch (field) {
        case 1: c.ints(wire, t.dims, "dims"); break;
        case 2: c.expect(wire, 0, "data_type"); t.data_type = static_cast<int>(c.varint()); break;
        case 4: c.floats(wire, t.floats, "float_data"); break;
        case 5: c.ints(wire, i32, "int32_data"); break;
        case 7: c.ints(wire, t.ints, "int64_data"); break;
        case 8: c.expect(wire, 2, "name"); t.name = c.bytes(); break;
        case 9: c.expect(wire, 2, "raw_data"); raw = c.bytes(); has_raw = true; break;
        case 14:
            c.expect(wire, 0, "data_location");
            if (c.varint() == 1) {
                c.fail("tensor '" + t.name + "' keeps its data in an external file, which is not supported");
            }
            break;
        default: c.skip(wire);
        }
    }
    int64_t n = 1;
    for (int64_t d : t.dims) {
        if (d < 0 || (d > 0 && n > k_max_elements / d)) {
            c.fail("tensor '" + t.name + "' has invalid dims");
        }
        n *= d;
    }
    const std::string what = "tensor '" + t.name + "'";
    if (t.data_type == dt_int32 && !i32.empty()) {
        t.ints = i32;  // int32_data holds INT32 values (as varints)
    }
    if (has_raw) {
        const size_t elem = t.data_type == dt_int64 ? 8 : t.data_type == dt_float || t.data_type == dt_int32 ? 4 : 0;
        if (elem == 0) {
            c.fail(what + ": data_type " + std::to_string(t.data_type) + " is not supported (FLOAT, INT32, INT64 are)");
        }
        if (raw.size() != static_cast<size_t>(n) * elem) {
            c.fail(what + ": raw_data has " + std::to_string(raw.size()) + " bytes, dims say " +
                   std::to_string(static_cast<size_t>(n) * elem));
        }
        for (size_t k = 0; k < static_cast<size_t>(n); ++k) {
            const char * p = raw.data() + k * elem;
            if (t.data_type == dt_float) {
                float v;
                std::memcpy(&v, p, 4);
                t.floats.push_back(v);
            } else if (t.data_type == dt_int32) {
                int32_t v;
                std::memcpy(&v, p, 4);
                t.ints.push_back(v);
            } else {
                int64_t v;
                std::memcpy(&v, p, 8);
                t.ints.push_back(v);
            }
        }
    }
    const size_t have = t.data_type == dt_float ? t.floats.size() : t.ints.size();
    if ((t.data_type == dt_float || t.data_type == dt_int64 || t.data_type == dt_int32) &&
        have != static_cast<size_t>(n)) {
        c.fail(what + ": " + std::to_string(have) + " values, dims say " + std::to_string(n));
    }
    return t;
}

// AttributeProto: name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, strings 9, type 20.
attribute read_attribute(cursor c) {
    attribute a;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        switch (field) {
        case 1: c.expect(wire, 2, "name"); a.name = c.bytes(); break;
        case 2: c.expect(wire, 5, "f"); a.f = cursor::as_float(c.fixed32()); break;
        case 3: c.expect(wire, 0, "i"); a.i = static_cast<int64_t>(c.varint()); break;
        case 4: c.expect(wire, 2, "s"); a.s = c.bytes(); break;
        case 7: c.floats(wire, a.floats, "floats"); break;
        case 8: c.ints(wire, a.ints, "ints"); break;
        case 9: c.expect(wire, 2, "strings"); a.strings.push_back(c.bytes()); break;
        case 20: c.expect(wire, 0, "type"); a.type = static_cast<int>(c.varint()); break;
        default: c.skip(wire);  // t, g, tensors, graphs, doc_string: not used by the converter
        }
    }
    if (a.name.empty()) {
        c.fail("attribute without a name");
    }
    return a;
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
node read_node(cursor c) {
    node n;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        switch (field) {
        case 1: c.expect(wire, 2, "input"); n.inputs.push_back(c.bytes()); break;
        case 2: c.expect(wire, 2, "output"); n.outputs.push_back(c.bytes()); break;
        case 3: c.expect(wire, 2, "name"); n.name = c.bytes(); break;
        case 4: c.expect(wire, 2, "op_type"); n.op_type = c.bytes(); break;
        case 5:
            c.expect(wire, 2, "attribute");
            n.attributes.push_back(read_attribute(c.sub(indexed(c.where(), "attribute", n.attributes.size()))));
            break;
        case 7: c.expect(wire, 2, "domain"); n.domain = c.bytes(); break;
        default: c.skip(wire);
        }
    }
    if (n.op_type.empty()) {
        c.fail("node without an op_type");
    }
    return n;
}

// ValueInfoProto: name 1, type 2 -> TypeProto.tensor_type 1 -> elem_type 1,
// shape 2 -> TensorShapeProto.dim 1 -> dim_value 1 | dim_param 2.
value_info read_value_info(cursor c) {
    value_info v;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        if (field == 1) {
            c.expect(wire, 2, "name");
            v.name = c.bytes();
        } else if (field == 2) {
            c.expect(wire, 2, "type");
            cursor type = c.sub(c.where() + ".type");
            while (!type.done()) {
                const auto [tf, tw] = type.key();
                if (tf != 1) {
                    type.skip(tw);
                    continue;
                }
                type.expect(tw, 2, "tensor_type");
                cursor tt = type.sub(type.where() + ".tensor_type");
                while (!tt.done()) {
                    const auto [f, w] = tt.key();
                    if (f == 1) {
                        tt.expect(w, 0, "elem_type");
                        v.elem_type = static_cast<int>(tt.varint());
                    } else if (f == 2) {
                        tt.expect(w, 2, "shape");
                        cursor shape = tt.sub(tt.where() + ".shape");
                        while (!shape.done()) {
                            const auto [sf, sw] = shape.key();
                            if (sf != 1) {
                                shape.skip(sw);
                                continue;
                            }
                            shape.expect(sw, 2, "dim");
                            cursor dim = shape.sub(indexed(shape.where(), "dim", v.dims.size()));
                            int64_t d = -1;  // dim_param or unknown: symbolic
                            while (!dim.done()) {
                                const auto [df, dw] = dim.key();
                                if (df == 1) {
                                    dim.expect(dw, 0, "dim_value");
                                    d = static_cast<int64_t>(dim.varint());
                                } else {
                                    dim.skip(dw);
                                }
                            }
                            v.dims.push_back(d);
                        }
                    } else {
                        tt.skip(w);
                    }
                }
            }
        } else {
            c.skip(wire);
        }
    }
    return v;
}

// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
graph read_graph(cursor c) {
    graph g;
    std::vector<value_info> inputs;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        switch (field) {
        case 1:
            c.expect(wire, 2, "node");
            g.nodes.push_back(read_node(c.sub(indexed(c.where(), "node", g.nodes.size()))));
            break;
        case 2: c.expect(wire, 2, "name"); g.name = c.bytes(); break;
        case 5: {
            c.expect(wire, 2, "initializer");
            tensor t = read_tensor(c.sub(indexed(c.where(), "initializer", g.initializers.size())));
            if (t.name.empty() || g.initializers.count(t.name)) {
                c.fail("initializer '" + t.name + "' is unnamed or named twice");
            }
            g.initializers[t.name] = std::move(t);
            break;
        }
        case 11:
            c.expect(wire, 2, "input");
            inputs.push_back(read_value_info(c.sub(indexed(c.where(), "input", inputs.size()))));
            break;
        case 12:
            c.expect(wire, 2, "output");
            g.outputs.push_back(read_value_info(c.sub(indexed(c.where(), "output", g.outputs.size()))));
            break;
        default: c.skip(wire);
        }
    }
    // Older exporters list initializers among the inputs too: keep the real ones.
    for (auto & v : inputs) {
        if (!g.initializers.count(v.name)) {
            g.inputs.push_back(std::move(v));
        }
    }
    return g;
}

}  // namespace

int64_t tensor::count() const {
    int64_t n = 1;
    for (int64_t d : dims) {
        n *= d;
    }
    return n;
}

const attribute * node::find(const std::string & attr_name) const {
    for (const auto & a : attributes) {
        if (a.name == attr_name) {
            return &a;
        }
    }
    return nullptr;
}

// ModelProto: ir_version 1, producer_name 2, producer_version 3, graph 7,
// opset_import 8 -> OperatorSetIdProto (domain 1, version 2).
model read_model(const std::string & bytes, const std::string & what) {
    const auto * b = reinterpret_cast<const uint8_t *>(bytes.data());
    cursor c(b, b + bytes.size(), b, what + ": ModelProto");
    model m;
    bool has_graph = false;
    while (!c.done()) {
        const auto [field, wire] = c.key();
        switch (field) {
        case 1: c.expect(wire, 0, "ir_version"); m.ir_version = static_cast<int64_t>(c.varint()); break;
        case 2: c.expect(wire, 2, "producer_name"); m.producer_name = c.bytes(); break;
        case 3: c.expect(wire, 2, "producer_version"); m.producer_version = c.bytes(); break;
        case 7:
            c.expect(wire, 2, "graph");
            m.g = read_graph(c.sub(c.where() + ".graph"));
            has_graph = true;
            break;
        case 8: {
            c.expect(wire, 2, "opset_import");
            cursor o = c.sub(c.where() + ".opset_import");
            std::string domain;
            int64_t version = 0;
            while (!o.done()) {
                const auto [f, w] = o.key();
                if (f == 1) {
                    o.expect(w, 2, "domain");
                    domain = o.bytes();
                } else if (f == 2) {
                    o.expect(w, 0, "version");
                    version = static_cast<int64_t>(o.varint());
                } else {
                    o.skip(w);
                }
            }
            if (domain.empty() || domain == "ai.onnx") {
                m.opset = version;
            }
            break;
        }
        default: c.skip(wire);
        }
    }
    if (!has_graph || m.g.nodes.empty()) {
        throw input_error(what + ": not an ONNX model (no graph with nodes; the file may be truncated)");
    }
    if (m.ir_version <= 0 || m.opset <= 0) {
        throw input_error(what + ": ModelProto lacks ir_version or a default-domain opset_import");
    }
    return m;
}

model read_model_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        throw input_error(path + ": cannot open");
    }
    std::ostringstream s;
    s << f.rdbuf();
    if (!f && !f.eof()) {
        throw input_error(path + ": read error");
    }
    return read_model(s.str(), path);
}

}  // namespace fer::onnx
