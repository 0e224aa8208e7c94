// QR code encoder, written from the facts of ISO/IEC 18004:2015: byte mode,
// level M, versions 1-10. The steps are the standard's: data bits (mode,
// count, bytes, terminator, pad codewords), Reed-Solomon error correction per
// block over GF(256) (polynomial x^8+x^4+x^3+x^2+1), blocks interleaved,
// function patterns, the codewords in the two-column zigzag, the eight masks
// scored with the four penalty rules, format (and from version 7 version)
// information with their BCH codes.
#include "qr-code.h"

#include "error.h"

#include <array>
#include <cstdint>
#include <cstdlib>

namespace fer::serve {

namespace {

// Level M, versions 1-10 (the standard's table 9): error correction codewords
// per block, then blocks of group 1 and their data codewords, then group 2.
struct block_layout {
    int ec_per_block, blocks1, data1, blocks2, data2;
};
constexpr std::array<block_layout, 11> level_m = {{
    {0, 0, 0, 0, 0},  // no version 0
    {10, 1, 16, 0, 0}, {16, 1, 28, 0, 0}, {26, 1, 44, 0, 0}, {18, 2, 32, 0, 0}, {24, 2, 43, 0, 0},
    {16, 4, 27, 0, 0}, {18, 4, 31, 0, 0}, {22, 2, 38, 2, 39}, {22, 3, 36, 2, 37}, {26, 4, 43, 1, 44},
}};
// Centres of the alignment patterns (table E.1), versions 1-10.
const std::vector<int> alignment_centres[11] = {
    {}, {}, {6, 18}, {6, 22}, {6, 26}, {6, 30}, {6, 34}, {6, 22, 38}, {6, 24, 42}, {6, 26, 46}, {6, 28, 50},
};

int data_codewords(int version) {
    const block_layout & b = level_m[version];
    return b.blocks1 * b.data1 + b.blocks2 * b.data2;
}

// GF(256) arithmetic with the QR code's field polynomial 0x11d.
uint8_t gf_mul(uint8_t a, uint8_t b) {
    int r = 0;
    for (int i = 7; i >= 0; --i) {
        r = (r << 1) ^ ((r >> 7) * 0x11d);
        if ((b >> i) & 1) {
            r ^= a;
        }
    }
    return static_cast<uint8_t>(r);
}

// The remainder of data(x) * x^n divided by the generator prod (x - a^i), i < n.
std::vector<uint8_t> reed_solomon(const std::vector<uint8_t> & data, int n) {
    std::vector<uint8_t> gen(n, 0);  // coefficients below the leading 1, highest first
    gen[n - 1] = 1;
    uint8_t root = 1;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            gen[j] = gf_mul(gen[j], root);
            if (j + 1 < n) {
                gen[j] ^= gen[j + 1];
            }
        }
        root = gf_mul(root, 2);
    }
    std::vector<uint8_t> rem(n, 0);
    for (uint8_t d : data) {
        const uint8_t factor = d ^ rem[0];
        rem.erase(rem.begin());
        rem.push_back(0);
        for (int j = 0; j < n; ++j) {
            rem[j] ^= gf_mul(gen[j], factor);
        }
    }
    return rem;
}

// The bit stream of the text in byte mode, padded to the version's capacity.
std::vector<uint8_t> data_bits(const std::string & text, int version) {
    std::vector<bool> bits;
    const auto put = [&bits](uint32_t v, int n) {
        for (int i = n - 1; i >= 0; --i) {
            bits.push_back((v >> i) & 1);
        }
    };
    put(0x4, 4);                                            // byte mode
    put(static_cast<uint32_t>(text.size()), version < 10 ? 8 : 16);
    for (unsigned char c : text) {
        put(c, 8);
    }
    const size_t capacity = static_cast<size_t>(data_codewords(version)) * 8;
    put(0, static_cast<int>(std::min<size_t>(4, capacity - bits.size())));  // terminator
    while (bits.size() % 8) {
        bits.push_back(false);
    }
    std::vector<uint8_t> bytes;
    for (size_t i = 0; i < bits.size(); i += 8) {
        uint8_t b = 0;
        for (int k = 0; k < 8; ++k) {
            b = static_cast<uint8_t>((b << 1) | bits[i + k]);
        }
        bytes.push_back(b);
    }
    for (bool even = true; bytes.size() < capacity / 8; even = !even) {
        bytes.push_back(even ? 0xec : 0x11);
    }
    return bytes;
}

// Data blocks with their error correction, interleaved codeword by codeword.
std::vector<uint8_t> codewords(const std::vector<uint8_t> & data, int version) {
    const block_layout & b = level_m[version];
    std::vector<std::vector<uint8_t>> blocks, ecc;
    size_t at = 0;
    for (int k = 0; k < b.blocks1 + b.blocks2; ++k) {
        const int n = k < b.blocks1 ? b.data1 : b.data2;
        blocks.emplace_back(data.begin() + static_cast<long>(at), data.begin() + static_cast<long>(at + n));
        at += static_cast<size_t>(n);
        ecc.push_back(reed_solomon(blocks.back(), b.ec_per_block));
    }
    std::vector<uint8_t> out;
    const int longest = b.blocks2 ? b.data2 : b.data1;
    for (int i = 0; i < longest; ++i) {
        for (const auto & blk : blocks) {
            if (i < static_cast<int>(blk.size())) {
                out.push_back(blk[static_cast<size_t>(i)]);
            }
        }
    }
    for (int i = 0; i < b.ec_per_block; ++i) {
        for (const auto & e : ecc) {
            out.push_back(e[static_cast<size_t>(i)]);
        }
    }
    return out;
}

struct grid {
    int size;
    std::vector<unsigned char> dark, reserved;  // reserved: a function module (not data, never masked)
    explicit grid(int n) : size(n), dark(static_cast<size_t>(n) * n, 0), reserved(static_cast<size_t>(n) * n, 0) {}
    void set(int x, int y, bool d) {
        dark[static_cast<size_t>(y) * size + x] = d;
        reserved[static_cast<size_t>(y) * size + x] = 1;
    }
    bool is_reserved(int x, int y) const { return reserved[static_cast<size_t>(y) * size + x] != 0; }
};

void finder(grid & g, int cx, int cy) {  // centre; with its light separator
    for (int dy = -4; dy <= 4; ++dy) {
        for (int dx = -4; dx <= 4; ++dx) {
            const int x = cx + dx, y = cy + dy;
            if (x < 0 || y < 0 || x >= g.size || y >= g.size) {
                continue;
            }
            const int d = std::max(std::abs(dx), std::abs(dy));
            g.set(x, y, d != 2 && d != 4);
        }
    }
}

// BCH remainder of value * 2^(degree of poly) divided by poly.
uint32_t bch(uint32_t value, uint32_t poly, int poly_degree) {
    uint32_t r = value << poly_degree;
    for (int i = 31; i >= poly_degree; --i) {
        if ((r >> i) & 1) {
            r ^= poly << (i - poly_degree);
        }
    }
    return (value << poly_degree) | r;
}

void format_bits(grid & g, int mask) {
    const uint32_t level_m_bits = 0;  // L 01, M 00, Q 11, H 10
    const uint32_t bits = bch((level_m_bits << 3) | static_cast<uint32_t>(mask), 0x537, 10) ^ 0x5412;
    const int n = g.size;
    for (int i = 0; i < 15; ++i) {
        const bool d = (bits >> i) & 1;
        // Around the top left finder...
        if (i < 6) {
            g.set(8, i, d);
        } else if (i < 8) {
            g.set(8, i + 1, d);
        } else if (i == 8) {
            g.set(7, 8, d);
        } else {
            g.set(14 - i, 8, d);
        }
        // ...and split between the other two.
        if (i < 8) {
            g.set(n - 1 - i, 8, d);
        } else {
            g.set(8, n - 15 + i, d);
        }
    }
    g.set(8, n - 8, true);  // the dark module
}

void version_bits(grid & g, int version) {
    if (version < 7) {
        return;
    }
    const uint32_t bits = bch(static_cast<uint32_t>(version), 0x1f25, 12);
    for (int i = 0; i < 18; ++i) {
        const bool d = (bits >> i) & 1;
        const int a = g.size - 11 + i % 3, b = i / 3;
        g.set(a, b, d);
        g.set(b, a, d);
    }
}

void function_patterns(grid & g, int version) {
    const int n = g.size;
    for (int i = 0; i < n; ++i) {  // timing patterns
        g.set(6, i, i % 2 == 0);
        g.set(i, 6, i % 2 == 0);
    }
    finder(g, 3, 3);
    finder(g, n - 4, 3);
    finder(g, 3, n - 4);
    const std::vector<int> & c = alignment_centres[version];
    for (size_t i = 0; i < c.size(); ++i) {
        for (size_t j = 0; j < c.size(); ++j) {
            const bool on_finder = (i == 0 && j == 0) || (i == 0 && j + 1 == c.size()) || (i + 1 == c.size() && j == 0);
            if (on_finder) {
                continue;
            }
            for (int dy = -2; dy <= 2; ++dy) {
                for (int dx = -2; dx <= 2; ++dx) {
                    g.set(c[i] + dx, c[j] + dy, std::max(std::abs(dx), std::abs(dy)) != 1);
                }
            }
        }
    }
    format_bits(g, 0);  // reserves the areas; written again with the chosen mask
    version_bits(g, version);
}

void place_data(grid & g, const std::vector<uint8_t> & cw) {
    const int n = g.size;
    size_t bit = 0;
    for (int right = n - 1; right >= 1; right -= 2) {
        if (right == 6) {
            right = 5;  // the vertical timing pattern has a column of its own
        }
        const bool upward = ((right + 1) & 2) == 0;
        for (int v = 0; v < n; ++v) {
            const int y = upward ? n - 1 - v : v;
            for (int j = 0; j < 2; ++j) {
                const int x = right - j;
                if (g.is_reserved(x, y)) {
                    continue;
                }
                bool d = false;  // remainder bits are light
                if (bit < cw.size() * 8) {
                    d = (cw[bit / 8] >> (7 - bit % 8)) & 1;
                    ++bit;
                }
                g.dark[static_cast<size_t>(y) * n + x] = d;
            }
        }
    }
}

bool mask_bit(int mask, int x, int y) {
    switch (mask) {
    case 0: return (x + y) % 2 == 0;
    case 1: return y % 2 == 0;
    case 2: return x % 3 == 0;
    case 3: return (x + y) % 3 == 0;
    case 4: return (y / 2 + x / 3) % 2 == 0;
    case 5: return (x * y) % 2 + (x * y) % 3 == 0;
    case 6: return ((x * y) % 2 + (x * y) % 3) % 2 == 0;
    default: return ((x + y) % 2 + (x * y) % 3) % 2 == 0;
    }
}

void apply_mask(grid & g, int mask) {
    for (int y = 0; y < g.size; ++y) {
        for (int x = 0; x < g.size; ++x) {
            if (!g.is_reserved(x, y) && mask_bit(mask, x, y)) {
                g.dark[static_cast<size_t>(y) * g.size + x] ^= 1;
            }
        }
    }
}

// The four penalty rules (section 7.8.3): runs of 5+, 2x2 blocks, finder-like
// 1:1:3:1:1 patterns with 4 light modules on a side, and dark/light balance.
long penalty(const grid & g) {
    const int n = g.size;
    const auto at = [&g, n](int x, int y) { return g.dark[static_cast<size_t>(y) * n + x] != 0; };
    long p = 0;
    for (int pass = 0; pass < 2; ++pass) {
        const auto m = [&](int i, int j) { return pass == 0 ? at(j, i) : at(i, j); };  // rows, then columns
        for (int i = 0; i < n; ++i) {
            int run = 1;
            for (int j = 1; j <= n; ++j) {
                if (j < n && m(i, j) == m(i, j - 1)) {
                    ++run;
                    continue;
                }
                if (run >= 5) {
                    p += 3 + (run - 5);
                }
                run = 1;
            }
            for (int j = 0; j + 11 <= n; ++j) {
                static const bool a[11] = {1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0}, b[11] = {0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1};
                bool ma = true, mb = true;
                for (int k = 0; k < 11; ++k) {
                    ma = ma && m(i, j + k) == a[k];
                    mb = mb && m(i, j + k) == b[k];
                }
                p += 40 * (ma + mb);
            }
        }
    }
    long dark = 0;
    for (int y = 0; y < n; ++y) {
        for (int x = 0; x < n; ++x) {
            dark += at(x, y);
            if (x + 1 < n && y + 1 < n && at(x, y) == at(x + 1, y) && at(x, y) == at(x, y + 1) &&
                at(x, y) == at(x + 1, y + 1)) {
                p += 3;
            }
        }
    }
    const long percent = dark * 100 / (static_cast<long>(n) * n);
    p += 10 * (std::abs(percent - 50) / 5);
    return p;
}

}  // namespace

qr_code make_qr_code(const std::string & text) {
    int version = 1;
    // 4 bits of mode, 8 or 16 of count, then the bytes.
    while (version <= 10 && 4 + (version < 10 ? 8 : 16) + 8 * text.size() > static_cast<size_t>(data_codewords(version)) * 8) {
        ++version;
    }
    if (version > 10) {
        throw input_error("QR code: " + std::to_string(text.size()) + " bytes is more than version 10 holds (213)");
    }
    const std::vector<uint8_t> cw = codewords(data_bits(text, version), version);
    qr_code best;
    long best_penalty = -1;
    for (int mask = 0; mask < 8; ++mask) {
        grid g(17 + 4 * version);
        function_patterns(g, version);
        place_data(g, cw);
        apply_mask(g, mask);
        format_bits(g, mask);
        const long p = penalty(g);
        if (best_penalty < 0 || p < best_penalty) {
            best_penalty = p;
            best.version = version;
            best.size = g.size;
            best.mask = mask;
            best.dark = g.dark;
        }
    }
    return best;
}

std::string qr_terminal_text(const qr_code & qr, bool ansi) {
    const int quiet = 4, n = qr.size + 2 * quiet;
    const auto dark = [&](int x, int y) {
        x -= quiet;
        y -= quiet;
        return x >= 0 && y >= 0 && x < qr.size && y < qr.size && qr.at(x, y);
    };
    std::string out;
    for (int y = 0; y < n; y += 2) {
        if (ansi) {
            out += "\x1b[30;107m";  // black on bright white, whatever the terminal's theme
        }
        for (int x = 0; x < n; ++x) {
            const bool top = dark(x, y), bottom = y + 1 < n && dark(x, y + 1);
            out += top && bottom ? "\u2588" : top ? "\u2580" : bottom ? "\u2584" : " ";
        }
        if (ansi) {
            out += "\x1b[0m";
        }
        out += '\n';
    }
    return out;
}

}  // namespace fer::serve
