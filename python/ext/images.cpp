// NumPy arrays to the runtime's pixel layouts: checked first (dtype, shape,
// layout), then passed by pointer whenever the runtime reads the layout as it
// is (grey, BGR, RGBA, any row stride): no copy of the picture.
#include "binding.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fer_py {

namespace {

std::string shape_text(const py::array & a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        s += (i ? ", " : "") + std::to_string(a.shape(i));
    }
    return s + (a.ndim() == 1 ? ",)" : ")");
}

py::array as_uint8_array(const py::handle & obj, const char * what) {
    if (!py::isinstance<py::array>(obj)) {
        throw py::type_error(std::string(what) + " must be a NumPy uint8 array, got " +
                             std::string(py::str(obj.get_type().attr("__name__"))));
    }
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (a.dtype().kind() != 'u' || a.itemsize() != 1) {
        throw py::type_error(std::string(what) + " must have dtype uint8 (8-bit pixels), got " +
                             std::string(py::str(a.dtype())) + "; e.g. convert with np.clip(x, 0, 255).astype(np.uint8)");
    }
    return a;
}

constexpr int64_t k_max_side = 1 << 30;

}  // namespace

image_view image_from_array(const py::handle & obj, const std::string & color_in, const char * what) {
    py::array a = as_uint8_array(obj, what);
    const std::string color = color_in == "gray" ? "grey" : color_in;
    if (a.ndim() != 2 && a.ndim() != 3) {
        throw py::value_error(std::string(what) + " must be (height, width) grey or (height, width, channels), got shape " +
                              shape_text(a));
    }
    const int64_t h = a.shape(0), w = a.shape(1), c = a.ndim() == 3 ? a.shape(2) : 1;
    if (c != 1 && c != 3 && c != 4) {
        throw py::value_error(std::string(what) + " must have 1, 3 or 4 channels, got shape " + shape_text(a));
    }
    if (h <= 0 || w <= 0) {
        throw py::value_error(std::string(what) + " is empty (shape " + shape_text(a) + ")");
    }
    // Pixels of a row must be adjacent (the runtime steps through a row byte
    // by byte); rows may be anywhere after each other (a crop of a bigger
    // array is read in place).
    const int64_t row = a.strides(0), col = a.strides(1), chan = a.ndim() == 3 ? a.strides(2) : 1;
    // (NumPy may give any stride to a dimension of length 1: not checked then.)
    if ((c > 1 && chan != 1) || (w > 1 && col != c) || (h > 1 && row < w * c)) {
        throw py::value_error(std::string(what) + " of shape " + shape_text(a) + " has strides (" + std::to_string(row) +
                              ", " + std::to_string(col) + (a.ndim() == 3 ? ", " + std::to_string(chan) : "") +
                              "): the pixels of a row must be contiguous and rows must go down; "
                              "pass np.ascontiguousarray(image)");
    }
    if (h > k_max_side || w > k_max_side || row > INT32_MAX) {
        throw py::value_error(std::string(what) + " of shape " + shape_text(a) + " is too large");
    }
    image_view v;
    v.pixels = static_cast<const uint8_t *>(a.data());
    v.width = static_cast<int32_t>(w);
    v.height = static_cast<int32_t>(h);
    v.stride = static_cast<int32_t>(h > 1 ? row : w * c);
    v.keep_alive = a;
    // "rgb" (rgb=True) on four channels is RGBA, as "bgr" is BGRA.
    const std::string want = color == "auto"             ? (c == 1 ? "grey" : c == 3 ? "bgr" : "bgra")
                             : (color == "rgb" && c == 4) ? "rgba"
                             : (color == "bgr" && c == 4) ? "bgra"
                                                          : color;
    const int64_t want_c = want == "grey" ? 1 : (want == "bgr" || want == "rgb") ? 3 : (want == "bgra" || want == "rgba") ? 4 : 0;
    if (want_c == 0) {
        throw py::value_error("color must be one of 'bgr', 'rgb', 'bgra', 'rgba', 'grey' (got '" + color_in + "')");
    }
    if (want_c != c) {
        throw py::value_error(std::string(what) + " of shape " + shape_text(a) + " has " + std::to_string(c) +
                              " channel(s); color='" + color_in + "' needs " + std::to_string(want_c));
    }
    v.format = want == "grey" ? FER_PIXEL_GREY : want == "rgba" ? FER_PIXEL_RGBA : FER_PIXEL_BGR;
    if (want == "rgb" || want == "bgra") {
        v.convert_from = want == "rgb" ? 3 : 4;  // the copy is made by convert_image, without the GIL
    }
    return v;
}

void convert_image(image_view & v) {
    if (!v.convert_from) {
        return;
    }
    // RGB: swap R and B; BGRA: drop alpha. The runtime reads BGR.
    const bool rgb = v.convert_from == 3;
    const int in_c = v.convert_from;
    v.copy.resize(static_cast<size_t>(v.width) * static_cast<size_t>(v.height) * 3);
    for (int32_t y = 0; y < v.height; ++y) {
        const uint8_t * s = v.pixels + static_cast<ptrdiff_t>(y) * v.stride;
        uint8_t * d = v.copy.data() + static_cast<size_t>(y) * static_cast<size_t>(v.width) * 3;
        for (int32_t x = 0; x < v.width; ++x, s += in_c, d += 3) {
            d[0] = rgb ? s[2] : s[0];
            d[1] = s[1];
            d[2] = rgb ? s[0] : s[2];
        }
    }
    v.pixels = v.copy.data();
    v.stride = v.width * 3;
    v.convert_from = 0;
}

crop_batch crops_from_array(const py::handle & obj) {
    py::array a = as_uint8_array(obj, "crops");
    crop_batch b;
    py::ssize_t nd = a.ndim();
    if (nd == 4 && a.shape(3) == 1) {
        nd = 3;  // (n, h, w, 1): one channel
    }
    if (nd != 2 && nd != 3) {
        throw py::value_error("crops must be one grey face (height, width) or a batch (n, height, width), got shape " +
                              shape_text(a));
    }
    const py::ssize_t off = nd == 3 ? 1 : 0;
    b.n = nd == 3 ? static_cast<size_t>(a.shape(0)) : 1;
    b.height = static_cast<int32_t>(std::min<py::ssize_t>(a.shape(off), INT32_MAX));
    b.width = static_cast<int32_t>(std::min<py::ssize_t>(a.shape(off + 1), INT32_MAX));
    b.row_stride = a.strides(off);
    b.crop_stride = nd == 3 ? a.strides(0) : 0;
    if (b.height <= 0 || b.width <= 0) {
        throw py::value_error("crops are empty (shape " + shape_text(a) + ")");
    }
    if (b.n == 0) {
        return b;  // an empty batch: nothing to read
    }
    if ((b.width > 1 && a.strides(off + 1) != 1) || (b.height > 1 && b.row_stride < b.width) ||
        b.row_stride > INT32_MAX || (nd == 3 && b.n > 1 && b.crop_stride < b.row_stride * b.height)) {
        throw py::value_error("crops of shape " + shape_text(a) +
                              " are not laid out row by row (pixels of a row contiguous, rows and crops going "
                              "forward); pass np.ascontiguousarray(crops)");
    }
    b.base = static_cast<const uint8_t *>(a.data());
    b.keep_alive = a;
    return b;
}

const uint8_t * crop_48(const crop_batch & b, size_t i, std::vector<uint8_t> & scratch, int * stride) {
    const uint8_t * src = b.base + static_cast<ptrdiff_t>(i) * b.crop_stride;
    if (b.width == FER_INPUT_SIZE && b.height == FER_INPUT_SIZE) {
        *stride = static_cast<int>(b.row_stride);
        return src;
    }
    // Area averaging, as FER2013's faces were made and as `fer predict
    // --whole` resizes (OpenCV INTER_AREA): each output pixel is the mean of
    // the source area it covers, partial pixels weighted by their overlap.
    const int n = FER_INPUT_SIZE;
    scratch.assign(static_cast<size_t>(n * n), 0);
    const double sx = double(b.width) / n, sy = double(b.height) / n;
    for (int oy = 0; oy < n; ++oy) {
        const double y0 = oy * sy, y1 = (oy + 1) * sy;
        for (int ox = 0; ox < n; ++ox) {
            const double x0 = ox * sx, x1 = (ox + 1) * sx;
            double sum = 0.0, area = 0.0;
            for (int y = static_cast<int>(y0); y < b.height && y < y1; ++y) {
                const double wy = std::min<double>(y + 1, y1) - std::max<double>(y, y0);
                const uint8_t * r = src + static_cast<ptrdiff_t>(y) * b.row_stride;
                for (int x = static_cast<int>(x0); x < b.width && x < x1; ++x) {
                    const double w = wy * (std::min<double>(x + 1, x1) - std::max<double>(x, x0));
                    sum += w * r[x];
                    area += w;
                }
            }
            scratch[static_cast<size_t>(oy * n + ox)] = static_cast<uint8_t>(std::min(255.0, std::floor(sum / area + 0.5)));
        }
    }
    *stride = n;
    return scratch.data();
}

}  // namespace fer_py
