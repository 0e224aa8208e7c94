// OpenCV cascade XML reader. A small, strict XML tokenizer (elements,
// attributes skipped, comments, <?...?> and <!...> declarations; no entities
// are needed by the format) builds a flat element tree over the input buffer,
// then the cascade is read from it. Input is untrusted: nesting depth, number
// sizes and every count are bounded, and nothing reads past the buffer.
#include "cascade.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace fer::detect {

namespace {

constexpr int k_max_depth = 64;

struct xml_element {
    const char * name = nullptr;
    size_t name_len = 0;
    size_t content_begin = 0, content_end = 0;  // offsets of the text between the tags
    int first_child = -1, next_sibling = -1, last_child = -1;
};

struct xml_doc {
    const char * data = nullptr;
    size_t size = 0;
    std::vector<xml_element> el;  // el[0]: the document (virtual root)
};

size_t line_of(const char * data, size_t pos) {
    size_t line = 1;
    for (size_t i = 0; i < pos; ++i) {
        line += data[i] == '\n';
    }
    return line;
}

bool xml_error(const xml_doc & d, size_t pos, const char * what, std::string & err) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "XML line %zu: %s", line_of(d.data, pos < d.size ? pos : d.size), what);
    err = buf;
    return false;
}

bool is_name_char(char ch) {
    return ch != 0 && !std::strchr(" \t\r\n/>=<\"'", ch);
}

const char * find(const char * hay, size_t from, size_t size, const char * needle) {
    const size_t n = std::strlen(needle);
    for (size_t i = from; i + n <= size; ++i) {
        if (std::memcmp(hay + i, needle, n) == 0) {
            return hay + i;
        }
    }
    return nullptr;
}

bool parse_xml(const char * data, size_t size, xml_doc & d, std::string & err) {
    d.data = data;
    d.size = size;
    d.el.clear();
    d.el.emplace_back();
    int stack[k_max_depth + 1];
    int depth = 0;
    stack[0] = 0;
    size_t pos = 0;
    if (size >= 3 && std::memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        pos = 3;
    }
    while (pos < size) {
        const char * lt = static_cast<const char *>(std::memchr(data + pos, '<', size - pos));
        if (!lt) {
            // Trailing text: only whitespace is allowed outside the root element.
            for (; pos < size; ++pos) {
                if (!std::strchr(" \t\r\n", data[pos]) || data[pos] == 0) {
                    if (depth == 0) {
                        return xml_error(d, pos,
                                         d.el[0].first_child >= 0 ? "text after the root element"
                                                                  : "text outside the root element (not an XML file?)",
                                         err);
                    }
                    break;
                }
            }
            break;
        }
        const size_t at = size_t(lt - data);
        if (depth == 0) {
            for (size_t i = pos; i < at; ++i) {
                if (!std::strchr(" \t\r\n", data[i]) || data[i] == 0) {
                    return xml_error(d, i, "text outside the root element (not an XML file?)", err);
                }
            }
        }
        if (size - at >= 4 && std::memcmp(lt, "<!--", 4) == 0) {
            const char * end = find(data, at + 4, size, "-->");
            if (!end) {
                return xml_error(d, at, "unterminated comment", err);
            }
            pos = size_t(end - data) + 3;
            continue;
        }
        if (size - at >= 2 && (lt[1] == '?' || lt[1] == '!')) {
            const char * end = find(data, at + 2, size, lt[1] == '?' ? "?>" : ">");
            if (!end) {
                return xml_error(d, at, "unterminated declaration", err);
            }
            pos = size_t(end - data) + (lt[1] == '?' ? 2 : 1);
            continue;
        }
        if (size - at >= 2 && lt[1] == '/') {  // end tag
            size_t p = at + 2;
            const size_t name_begin = p;
            while (p < size && is_name_char(data[p])) {
                ++p;
            }
            const size_t name_len = p - name_begin;
            while (p < size && std::strchr(" \t\r\n", data[p]) && data[p]) {
                ++p;
            }
            if (p >= size || data[p] != '>') {
                return xml_error(d, at, "malformed end tag", err);
            }
            if (depth == 0) {
                return xml_error(d, at, "end tag without a start tag", err);
            }
            xml_element & e = d.el[size_t(stack[depth])];
            if (e.name_len != name_len || std::memcmp(e.name, data + name_begin, name_len) != 0) {
                return xml_error(d, at, "end tag does not match the open element", err);
            }
            e.content_end = at;
            --depth;
            pos = p + 1;
            continue;
        }
        // Start tag.
        size_t p = at + 1;
        const size_t name_begin = p;
        while (p < size && is_name_char(data[p])) {
            ++p;
        }
        if (p == name_begin) {
            return xml_error(d, at, "malformed tag", err);
        }
        const size_t name_len = p - name_begin;
        bool self_closing = false;
        for (;;) {  // attributes: skipped, quoted values honoured
            if (p >= size) {
                return xml_error(d, at, "unterminated tag", err);
            }
            const char ch = data[p];
            if (ch == '"' || ch == '\'') {
                const char * q = static_cast<const char *>(std::memchr(data + p + 1, ch, size - p - 1));
                if (!q) {
                    return xml_error(d, p, "unterminated attribute value", err);
                }
                p = size_t(q - data) + 1;
                continue;
            }
            if (ch == '<') {
                return xml_error(d, p, "'<' inside a tag", err);
            }
            if (ch == '>') {
                self_closing = data[p - 1] == '/';
                ++p;
                break;
            }
            ++p;
        }
        if (depth == 0 && d.el[0].first_child >= 0) {
            return xml_error(d, at, "more than one root element", err);
        }
        const int idx = int(d.el.size());
        if (d.el.size() >= size_t(k_max_count)) {
            return xml_error(d, at, "too many elements", err);
        }
        xml_element e;
        e.name = data + name_begin;
        e.name_len = name_len;
        e.content_begin = e.content_end = p;
        d.el.push_back(e);
        xml_element & parent = d.el[size_t(stack[depth])];
        if (parent.last_child < 0) {
            parent.first_child = idx;
        } else {
            d.el[size_t(parent.last_child)].next_sibling = idx;
        }
        parent.last_child = idx;
        if (!self_closing) {
            if (depth == k_max_depth) {
                return xml_error(d, at, "elements nested too deeply", err);
            }
            stack[++depth] = idx;
        }
        pos = p;
    }
    if (depth != 0) {
        return xml_error(d, size, "unexpected end of file inside an element", err);
    }
    if (d.el[0].first_child < 0) {
        return xml_error(d, 0, "no root element (not an XML file?)", err);
    }
    return true;
}

// ---- reading the cascade from the element tree ----

struct reader {
    const xml_doc & d;
    std::string & err;

    bool name_is(int e, const char * name) const {
        const xml_element & x = d.el[size_t(e)];
        return x.name_len == std::strlen(name) && std::memcmp(x.name, name, x.name_len) == 0;
    }
    int child(int e, const char * name) const {
        for (int c = d.el[size_t(e)].first_child; c >= 0; c = d.el[size_t(c)].next_sibling) {
            if (name_is(c, name)) {
                return c;
            }
        }
        return -1;
    }
    int count_children(int e) const {
        int n = 0;
        for (int c = d.el[size_t(e)].first_child; c >= 0; c = d.el[size_t(c)].next_sibling) {
            ++n;
        }
        return n;
    }
    bool fail(int e, const char * what) const {
        const size_t pos = e >= 0 ? size_t(d.el[size_t(e)].name - d.data) : 0;
        char buf[200];
        std::snprintf(buf, sizeof buf, "cascade XML line %zu: %s", line_of(d.data, pos), what);
        err = buf;
        return false;
    }
    // Text of a leaf element, trimmed.
    bool text(int e, const char *& b, const char *& end) const {
        const xml_element & x = d.el[size_t(e)];
        if (x.first_child >= 0) {
            return fail(e, "expected text, found elements");
        }
        b = d.data + x.content_begin;
        end = d.data + x.content_end;
        return true;
    }
    // Whitespace-separated numbers of a leaf element.
    bool numbers(int e, std::vector<double> & out) const {
        out.clear();
        const char *p, *end;
        if (!text(e, p, end)) {
            return false;
        }
        while (p < end) {
            while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
                ++p;
            }
            if (p == end) {
                break;
            }
            char buf[64];
            size_t n = 0;
            while (p < end && !(*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
                if (n + 1 >= sizeof buf) {
                    return fail(e, "number too long");
                }
                buf[n++] = *p++;
            }
            buf[n] = 0;
            char * stop = nullptr;
            errno = 0;
            const double v = std::strtod(buf, &stop);
            if (stop != buf + n || !std::isfinite(v)) {
                return fail(e, "not a number");
            }
            out.push_back(v);
        }
        return true;
    }
    bool number(int parent, const char * name, double & v, bool required = true) const {
        const int e = child(parent, name);
        if (e < 0) {
            if (required) {
                char buf[96];
                std::snprintf(buf, sizeof buf, "missing <%s>", name);
                return fail(parent, buf);
            }
            return true;
        }
        std::vector<double> vals;
        if (!numbers(e, vals)) {
            return false;
        }
        if (vals.size() != 1) {
            return fail(e, "expected one number");
        }
        v = vals[0];
        return true;
    }
    bool string_is(int parent, const char * name, const char * expected, const char * what) const {
        const int e = child(parent, name);
        if (e < 0) {
            char buf[96];
            std::snprintf(buf, sizeof buf, "missing <%s>", name);
            return fail(parent, buf);
        }
        const char *b, *end;
        if (!text(e, b, end)) {
            return false;
        }
        while (b < end && std::strchr(" \t\r\n", *b)) {
            ++b;
        }
        while (end > b && std::strchr(" \t\r\n", end[-1])) {
            --end;
        }
        if (size_t(end - b) != std::strlen(expected) || std::memcmp(b, expected, size_t(end - b)) != 0) {
            return fail(e, what);
        }
        return true;
    }
};

bool as_int(double v, int32_t & out) {
    if (!(v >= -2147483647.0 && v <= 2147483647.0) || v != std::floor(v)) {
        return false;
    }
    out = int32_t(v);
    return true;
}

}  // namespace

bool read_xml(const char * data, size_t size, cascade & c, std::string & err) {
    c = cascade();
    xml_doc d;
    if (!parse_xml(data, size, d, err)) {
        return false;
    }
    reader r{d, err};
    const int storage = d.el[0].first_child;
    if (!r.name_is(storage, "opencv_storage")) {
        return r.fail(storage, "root element is not <opencv_storage> (not an OpenCV cascade file)");
    }
    const int root = d.el[size_t(storage)].first_child;  // OpenCV: the first top-level node
    if (root < 0) {
        return r.fail(storage, "empty <opencv_storage>");
    }
    if (r.child(root, "stages") >= 0 && r.child(root, "stageType") < 0) {
        return r.fail(root, "old-style cascade (opencv-haar-classifier) is not supported; use a new-style "
                            "cascade such as haarcascade_frontalface_default.xml");
    }
    if (!r.string_is(root, "stageType", "BOOST", "unsupported stageType (only BOOST)") ||
        !r.string_is(root, "featureType", "HAAR", "unsupported featureType (only HAAR; LBP and HOG are not)")) {
        return false;
    }
    double w = 0, h = 0;
    if (!r.number(root, "width", w) || !r.number(root, "height", h)) {
        return false;
    }
    if (!as_int(w, c.win_w) || !as_int(h, c.win_h)) {
        return r.fail(root, "window width/height must be integers");
    }
    const int fparams = r.child(root, "featureParams");
    if (fparams < 0) {
        return r.fail(root, "missing <featureParams>");
    }
    double max_cat = 0;
    if (!r.number(fparams, "maxCatCount", max_cat, false)) {
        return false;
    }
    if (max_cat != 0) {
        return r.fail(fparams, "categorical features (maxCatCount > 0) are not supported for HAAR");
    }

    const int stages = r.child(root, "stages");
    if (stages < 0) {
        return r.fail(root, "missing <stages>");
    }
    std::vector<double> vals;
    for (int s = d.el[size_t(stages)].first_child; s >= 0; s = d.el[size_t(s)].next_sibling) {
        stage st;
        double thr = 0;
        if (!r.number(s, "stageThreshold", thr)) {
            return false;
        }
        st.threshold = float(thr);
        const int weak = r.child(s, "weakClassifiers");
        if (weak < 0) {
            return r.fail(s, "missing <weakClassifiers>");
        }
        for (int t = d.el[size_t(weak)].first_child; t >= 0; t = d.el[size_t(t)].next_sibling) {
            const int in = r.child(t, "internalNodes");
            const int lv = r.child(t, "leafValues");
            if (in < 0 || lv < 0) {
                return r.fail(t, "weak classifier without <internalNodes> or <leafValues>");
            }
            if (!r.numbers(in, vals)) {
                return false;
            }
            if (vals.empty() || vals.size() % 4 != 0) {
                return r.fail(in, "<internalNodes> must hold groups of 4 numbers (left right feature threshold)");
            }
            const size_t nn = vals.size() / 4;
            if (nn > size_t(k_max_tree_nodes)) {
                return r.fail(in, "weak classifier with too many nodes");
            }
            for (size_t i = 0; i < nn; ++i) {
                tree_node n;
                if (!as_int(vals[4 * i], n.left) || !as_int(vals[4 * i + 1], n.right) ||
                    !as_int(vals[4 * i + 2], n.feature)) {
                    return r.fail(in, "node indices must be integers");
                }
                n.threshold = float(vals[4 * i + 3]);
                c.nodes.push_back(n);
            }
            if (!r.numbers(lv, vals)) {
                return false;
            }
            if (vals.size() != nn + 1) {
                return r.fail(lv, "a weak classifier with N nodes needs N+1 leaf values");
            }
            for (double v : vals) {
                c.leaves.push_back(float(v));
            }
            c.tree_nodes.push_back(int32_t(nn));
            ++st.n_trees;
            if (c.tree_nodes.size() > size_t(k_max_count)) {
                return r.fail(t, "too many weak classifiers");
            }
        }
        if (st.n_trees == 0) {
            return r.fail(s, "stage without weak classifiers");
        }
        c.stages.push_back(st);
    }

    const int features = r.child(root, "features");
    if (features < 0) {
        return r.fail(root, "missing <features>");
    }
    for (int f = d.el[size_t(features)].first_child; f >= 0; f = d.el[size_t(f)].next_sibling) {
        haar_feature ft;
        const int rects = r.child(f, "rects");
        if (rects < 0) {
            return r.fail(f, "feature without <rects>");
        }
        if (r.count_children(rects) > k_max_rects || r.count_children(rects) < 1) {
            return r.fail(rects, "a HAAR feature has 1 to 3 rectangles");
        }
        for (int e = d.el[size_t(rects)].first_child; e >= 0; e = d.el[size_t(e)].next_sibling) {
            if (!r.numbers(e, vals)) {
                return false;
            }
            haar_rect & rc = ft.rect[ft.n_rects];
            if (vals.size() != 5 || !as_int(vals[0], rc.x) || !as_int(vals[1], rc.y) || !as_int(vals[2], rc.w) ||
                !as_int(vals[3], rc.h)) {
                return r.fail(e, "a rectangle is 4 integers and a weight: x y width height weight");
            }
            rc.weight = float(vals[4]);
            ++ft.n_rects;
        }
        double tilted = 0;
        if (!r.number(f, "tilted", tilted, false)) {
            return false;
        }
        ft.tilted = tilted != 0;
        c.features.push_back(ft);
        if (c.features.size() > size_t(k_max_count)) {
            return r.fail(f, "too many features");
        }
    }
    return validate(c, err);
}

}  // namespace fer::detect
