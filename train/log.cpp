#include "log.h"

#include <atomic>
#include <cstdio>

namespace fer {

namespace {
std::atomic<bool> g_quiet{false};
}

void log_warning(const std::string & msg) { std::fprintf(stderr, "warning: %s\n", msg.c_str()); }

void log_info(const std::string & msg) {
    if (!g_quiet) {
        std::fprintf(stderr, "%s\n", msg.c_str());
    }
}

void log_set_quiet(bool quiet) { g_quiet = quiet; }

}  // namespace fer
