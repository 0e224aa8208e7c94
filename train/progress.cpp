#include "progress.h"

#include <cstdio>
#include <unistd.h>

namespace fer {

std::string format_duration(double s) {
    if (s < 0 || s > 1e7) {
        return "--:--";
    }
    const long t = static_cast<long>(s + 0.5);
    char buf[32];
    if (t >= 3600) {
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%02ld:%02ld", t / 60, t % 60);
    }
    return buf;
}

progress_bar::progress_bar(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total > 0 ? total : 1), tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void progress_bar::update(int64_t done, const std::string & extra) {
    auto now = std::chrono::steady_clock::now();
    if (tty_) {
        if (std::chrono::duration<double>(now - last_draw_).count() < 0.2) {
            return;
        }
    } else {
        int decile = static_cast<int>(10 * done / total_);
        if (decile == last_decile_ || done >= total_) {  // finish() prints the last line
            return;
        }
        last_decile_ = decile;
    }
    last_draw_ = now;
    draw(done, extra, false);
}

void progress_bar::finish(const std::string & extra) { draw(total_, extra, true); }

void progress_bar::draw(int64_t done, const std::string & extra, bool final) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : -1.0;
    const int width = 24;
    const int fill = static_cast<int>(width * done / total_);
    std::string bar(static_cast<size_t>(fill), '#');
    bar += std::string(static_cast<size_t>(width - fill), '.');
    std::fprintf(stderr, "%s%s [%s] %3d%% %.0f %s/s %s %s%s", tty_ ? "\r\033[K" : "", label_.c_str(), bar.c_str(),
                 static_cast<int>(100 * done / total_), rate, unit_.c_str(),
                 final ? ("in " + format_duration(elapsed)).c_str() : ("ETA " + format_duration(eta)).c_str(),
                 extra.c_str(), (final || !tty_) ? "\n" : "");
    std::fflush(stderr);
}

}  // namespace fer
