// Bounds-checked access to a FlatBuffer held in memory: every table and
// vtable position, field offset, uoffset, vector length and string is checked
// against the buffer before it is read (64-bit arithmetic), so an untrusted
// model file can only be refused, never read out of bounds. The first
// problem is kept in `error`.
#pragma once

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace fer_rt {

// Formats a message into `error` unless it already holds one (the first
// problem is the one worth reporting); returns false, for `return fail(...)`.
inline bool keep_first_error(std::string & error, const char * fmt, va_list ap) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (error.empty()) {
        error = buf;
    }
    return false;
}

struct fb_table {
    uint64_t pos = 0, vt = 0;
    uint32_t vt_size = 0, t_size = 0;
};

class fb_reader {
public:
    fb_reader(const uint8_t * d, uint64_t n) : d_(d), n_(n) {}
    std::string error;

#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    bool fail(const char * fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        keep_first_error(error, fmt, ap);
        va_end(ap);
        return false;
    }
    uint32_t u32(uint64_t at) const { uint32_t v; std::memcpy(&v, d_ + at, 4); return v; }
    uint16_t u16(uint64_t at) const { uint16_t v; std::memcpy(&v, d_ + at, 2); return v; }

    bool table_at(uint64_t pos, fb_table * t, const char * what) {
        if (pos % 4 || pos + 4 > n_) {
            return fail("%s: table offset %llu is outside the file (%llu bytes) or misaligned", what,
                        static_cast<unsigned long long>(pos), static_cast<unsigned long long>(n_));
        }
        int32_t soff;
        std::memcpy(&soff, d_ + pos, 4);
        const int64_t vt = static_cast<int64_t>(pos) - soff;
        if (vt < 0 || vt % 2 || static_cast<uint64_t>(vt) + 4 > n_) {
            return fail("%s: vtable offset is outside the file", what);
        }
        t->pos = pos;
        t->vt = static_cast<uint64_t>(vt);
        t->vt_size = u16(t->vt);
        t->t_size = u16(t->vt + 2);
        if (t->vt_size < 4 || t->vt_size % 2 || t->vt + t->vt_size > n_) {
            return fail("%s: vtable of %u bytes does not fit the file", what, t->vt_size);
        }
        if (t->t_size < 4 || pos + t->t_size > n_) {
            return fail("%s: table of %u bytes runs past the end of the file", what, t->t_size);
        }
        return true;
    }

    // Absolute position of field `id` of `size` bytes, 0 when absent.
    bool field(const fb_table & t, int id, uint32_t size, uint64_t * at, const char * what) {
        *at = 0;
        const uint32_t slot = 4 + 2 * static_cast<uint32_t>(id);
        if (slot + 2 > t.vt_size) {
            return true;
        }
        const uint16_t off = u16(t.vt + slot);
        if (off == 0) {
            return true;
        }
        if (off < 4 || off + size > t.t_size) {
            return fail("%s: field %d lies outside its table", what, id);
        }
        *at = t.pos + off;
        return true;
    }

    template <class T> bool scalar(const fb_table & t, int id, T def, T * out, const char * what) {
        uint64_t at;
        if (!field(t, id, sizeof(T), &at, what)) {
            return false;
        }
        *out = def;
        if (at) {
            std::memcpy(out, d_ + at, sizeof(T));
        }
        return true;
    }

    // Target of an offset field; 0 when absent.
    bool ref(const fb_table & t, int id, uint64_t * target, const char * what) {
        uint64_t at;
        if (!field(t, id, 4, &at, what)) {
            return false;
        }
        *target = 0;
        if (!at) {
            return true;
        }
        const uint32_t v = u32(at);
        if (v == 0 || at + v >= n_) {
            return fail("%s: offset of field %d points past the end of the file", what, id);
        }
        *target = at + v;
        return true;
    }

    bool vector_at(uint64_t target, uint32_t elem, uint64_t * data, uint32_t * count, const char * what) {
        if (target % 4 || target + 4 > n_) {
            return fail("%s: vector header outside the file or misaligned", what);
        }
        *count = u32(target);
        if (target + 4 + static_cast<uint64_t>(*count) * elem > n_) {
            return fail("%s: vector of %u elements runs past the end of the file", what, *count);
        }
        *data = target + 4;
        return true;
    }

    // A vector field; absent: count 0.
    bool vec(const fb_table & t, int id, uint32_t elem, uint64_t * data, uint32_t * count, const char * what) {
        uint64_t target;
        *data = 0;
        *count = 0;
        if (!ref(t, id, &target, what)) {
            return false;
        }
        return target ? vector_at(target, elem, data, count, what) : true;
    }

    bool str(const fb_table & t, int id, std::string * s, const char * what) {
        uint64_t data;
        uint32_t count;
        if (!vec(t, id, 1, &data, &count, what)) {
            return false;
        }
        if (data) {
            if (data + count >= n_ || d_[data + count] != 0) {
                return fail("%s: string is not terminated inside the file", what);
            }
            s->assign(reinterpret_cast<const char *>(d_ + data), count);
        }
        return true;
    }

    bool table_in_vector(uint64_t data, uint32_t i, fb_table * t, const char * what) {
        const uint64_t at = data + 4ull * i;
        const uint32_t v = u32(at);
        if (v == 0) {
            return fail("%s: null table offset", what);
        }
        return table_at(at + v, t, what);
    }

    bool i32_vec(const fb_table & t, int id, std::vector<int32_t> * out, const char * what) {
        uint64_t data;
        uint32_t count;
        if (!vec(t, id, 4, &data, &count, what)) {
            return false;
        }
        out->resize(count);
        if (count) {
            std::memcpy(out->data(), d_ + data, 4ull * count);
        }
        return true;
    }

    const uint8_t * bytes(uint64_t at) const { return d_ + at; }
    uint64_t size() const { return n_; }

private:
    const uint8_t * d_;
    uint64_t n_;
};

}  // namespace fer_rt
