// QR codes (ISO/IEC 18004) for `fer serve --phone`: the page's address shown
// in the terminal, for a phone's camera. Byte mode, error correction level M
// (15% of the code may be unreadable: a photo of a screen), versions 1-10
// (up to 213 bytes: any URL of a LAN address).
#pragma once

#include <string>
#include <vector>

namespace fer::serve {

struct qr_code {
    int version = 0;                 // 1..10
    int size = 0;                    // modules a side: 17 + 4 * version
    int mask = 0;                    // 0..7, the one with the lowest penalty
    std::vector<unsigned char> dark; // size * size, row by row: 1 dark, 0 light

    bool at(int x, int y) const { return dark[static_cast<size_t>(y) * size + x] != 0; }
};

// Throws fer::input_error when the text is longer than version 10 holds.
qr_code make_qr_code(const std::string & text);

// The code as terminal lines, two module rows a line (Unicode half blocks),
// with the standard quiet zone of 4 modules. ansi: dark on white explicitly
// (right on dark and light terminal themes alike); without, a block is dark
// and a space light.
std::string qr_terminal_text(const qr_code & qr, bool ansi);

}  // namespace fer::serve
