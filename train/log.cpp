#include "log.h"

#include <atomic>
#include <cstdio>

namespace fer {

namespace {
std::atomic<bool> g_quiet{false};
}

std::string terminal_safe(const std::string & s) {
    std::string o;
    o.reserve(s.size());
    for (unsigned char c : s) {
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7F) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            o += buf;
        } else {
            o += static_cast<char>(c);
        }
    }
    return o;
}

void log_warning(const std::string & msg) { std::fprintf(stderr, "warning: %s\n", terminal_safe(msg).c_str()); }

void log_info(const std::string & msg) {
    if (!g_quiet) {
        std::fprintf(stderr, "%s\n", msg.c_str());
    }
}

void log_set_quiet(bool quiet) { g_quiet = quiet; }

}  // namespace fer
