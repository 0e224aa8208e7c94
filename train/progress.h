// A terminal progress bar with rate and ETA. On a terminal it redraws one
// line; otherwise (logs, CI) it prints a line about every 10%.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fer {

class progress_bar {
public:
    progress_bar(std::string label, int64_t total, std::string unit = "img");
    // `done` items so far; `extra` is shown after the bar (loss, accuracy, ...).
    void update(int64_t done, const std::string & extra = "");
    void finish(const std::string & extra = "");

private:
    std::string label_, unit_;
    int64_t total_;
    bool tty_;
    int last_decile_ = -1;
    std::chrono::steady_clock::time_point start_, last_draw_;
    void draw(int64_t done, const std::string & extra, bool final);
};

std::string format_duration(double seconds);

}  // namespace fer
