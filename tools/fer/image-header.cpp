#include "image-header.h"

#include <cctype>
#include <cstring>

namespace fer {

namespace {

uint32_t be16(const uint8_t * p) { return uint32_t(p[0]) << 8 | p[1]; }
uint32_t be32(const uint8_t * p) { return be16(p) << 16 | be16(p + 2); }
uint32_t le16(const uint8_t * p) { return uint32_t(p[1]) << 8 | p[0]; }
uint32_t le32(const uint8_t * p) { return le16(p + 2) << 16 | le16(p); }

bool fail(std::string * error, const char * why) {
    *error = why;
    return false;
}

bool png(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    // Signature (8 bytes), then the first chunk must be IHDR: length, type, width, height.
    if (n < 24 || std::memcmp(d + 12, "IHDR", 4) != 0) {
        return fail(error, "truncated PNG (no IHDR chunk)");
    }
    h->width = be32(d + 16);
    h->height = be32(d + 20);
    return true;
}

bool jpeg(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    // Walk the marker segments up to the first start-of-frame, which holds the size.
    size_t i = 2;
    while (i + 4 <= n) {
        if (d[i] != 0xFF) {
            return fail(error, "corrupt JPEG (bad marker before the frame header)");
        }
        const uint8_t m = d[i + 1];
        if (m == 0xFF) {  // fill byte
            ++i;
            continue;
        }
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // markers without a length
            i += 2;
            continue;
        }
        const size_t len = be16(d + i + 2);
        if (len < 2) {
            return fail(error, "corrupt JPEG (segment length below 2)");
        }
        const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
        if (sof) {
            if (i + 9 > n) {
                break;
            }
            h->height = be16(d + i + 5);
            h->width = be16(d + i + 7);
            return true;
        }
        if (m == 0xDA || m == 0xD9) {
            return fail(error, "corrupt JPEG (image data before the frame header)");
        }
        i += 2 + len;
    }
    return fail(error, "truncated JPEG (no frame header)");
}

bool bmp(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    if (n < 26) {
        return fail(error, "truncated BMP header");
    }
    const uint32_t info = le32(d + 14);
    if (info == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
        h->width = le16(d + 18);
        h->height = le16(d + 20);
        return true;
    }
    // Negative height: rows stored top-down.
    h->width = static_cast<int32_t>(le32(d + 18));
    const int64_t height = static_cast<int32_t>(le32(d + 22));
    h->height = height < 0 ? -height : height;
    if (h->width < 0) {
        return fail(error, "corrupt BMP (negative width)");
    }
    return true;
}

bool webp(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    if (n < 30) {
        return fail(error, "truncated WebP header");
    }
    const uint8_t * c = d + 12;  // first chunk
    if (std::memcmp(c, "VP8 ", 4) == 0) {  // lossy: 14-bit sizes after the start code
        if (d[23] != 0x9D || d[24] != 0x01 || d[25] != 0x2A) {
            return fail(error, "corrupt WebP (bad VP8 start code)");
        }
        h->width = le16(d + 26) & 0x3FFF;
        h->height = le16(d + 28) & 0x3FFF;
        return true;
    }
    if (std::memcmp(c, "VP8L", 4) == 0) {  // lossless: 14-bit (size - 1) fields, bit-packed
        if (d[20] != 0x2F) {
            return fail(error, "corrupt WebP (bad VP8L signature)");
        }
        const uint32_t bits = le32(d + 21);
        h->width = (bits & 0x3FFF) + 1;
        h->height = ((bits >> 14) & 0x3FFF) + 1;
        return true;
    }
    if (std::memcmp(c, "VP8X", 4) == 0) {  // extended: 24-bit (canvas size - 1)
        h->width = (le32(d + 24) & 0xFFFFFF) + 1;
        h->height = (le32(d + 27) & 0xFFFFFF) + 1;
        return true;
    }
    return fail(error, "unsupported WebP chunk");
}

// Next decimal number of a PNM header, skipping whitespace and # comments.
bool pnm_number(const uint8_t * d, size_t n, size_t * i, int64_t * v) {
    while (*i < n && (std::isspace(d[*i]) || d[*i] == '#')) {
        if (d[*i] == '#') {
            while (*i < n && d[*i] != '\n') {
                ++*i;
            }
        } else {
            ++*i;
        }
    }
    if (*i >= n || !std::isdigit(d[*i])) {
        return false;
    }
    *v = 0;
    for (; *i < n && std::isdigit(d[*i]); ++*i) {
        if (*v > 100000000) {
            return false;
        }
        *v = *v * 10 + (d[*i] - '0');
    }
    return true;
}

bool pnm(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    size_t i = 2;
    if (!pnm_number(d, n, &i, &h->width) || !pnm_number(d, n, &i, &h->height)) {
        return fail(error, "corrupt or truncated PNM header");
    }
    return true;
}

bool tiff(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    const bool le = d[0] == 'I';
    auto u16 = [&](size_t at) { return le ? le16(d + at) : be16(d + at); };
    auto u32 = [&](size_t at) { return le ? le32(d + at) : be32(d + at); };
    const size_t ifd = u32(4);
    if (ifd < 8 || ifd + 2 > n) {
        return fail(error, "truncated TIFF (first directory past the end)");
    }
    const size_t count = u16(ifd);
    for (size_t k = 0; k < count; ++k) {
        const size_t e = ifd + 2 + 12 * k;
        if (e + 12 > n) {
            break;
        }
        const uint32_t tag = u16(e), type = u16(e + 2);
        const int64_t value = type == 3 ? u16(e + 8) : u32(e + 8);  // SHORT or LONG
        if (tag == 256) {
            h->width = value;
        } else if (tag == 257) {
            h->height = value;
        }
    }
    if (h->width <= 0 || h->height <= 0) {
        return fail(error, "corrupt TIFF (no image width/length)");
    }
    return true;
}

}  // namespace

namespace {

bool read_any(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    *h = image_header();
    if (n == 0) {
        return fail(error, "empty file");
    }
    if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) {
        h->format = "PNG";
        return png(d, n, h, error);
    }
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) {
        h->format = "JPEG";
        return jpeg(d, n, h, error);
    }
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') {
        h->format = "BMP";
        return bmp(d, n, h, error);
    }
    if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) {
        h->format = "WebP";
        return webp(d, n, h, error);
    }
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' && std::isspace(d[2])) {
        h->format = "PNM";
        return pnm(d, n, h, error);
    }
    if (n >= 8 && (std::memcmp(d, "II*\0", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0)) {
        h->format = "TIFF";
        return tiff(d, n, h, error);
    }
    return fail(error, "not an image (not PNG, JPEG, BMP, WebP, PNM or TIFF)");
}

}  // namespace

bool read_image_header(const uint8_t * d, size_t n, image_header * h, std::string * error) {
    if (!read_any(d, n, h, error)) {
        return false;
    }
    // Formats allow sides up to 2^32 - 1 (PNG, TIFF), whose product overflows
    // 64-bit arithmetic. No real picture has a side above 2^24 (16.7 M
    // pixels): refusing those here lets every caller multiply safely.
    constexpr int64_t k_max_side = int64_t(1) << 24;
    if (h->width < 0 || h->height < 0 || h->width > k_max_side || h->height > k_max_side) {
        *error = std::string(h->format) + " header gives an absurd size (" + std::to_string(h->width) + "x" +
                 std::to_string(h->height) + ")";
        return false;
    }
    return true;
}

}  // namespace fer
