// Counters of `fer serve`, rendered at GET /metrics in the Prometheus text
// format (version 0.0.4). Routes are a fixed, small set of labels (not raw
// paths), so that scanning random URLs cannot grow the label space.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace fer::serve {

// The route label of a request path: one of the API routes, "site" for
// everything else (static files and unknown paths).
const char * route_label(const std::string & path);

class metrics {
public:
    static constexpr std::array<double, 12> k_buckets = {0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                         0.25,   0.5,   1.0,  2.5,   5.0,  10.0};

    void request_started() { in_flight_.fetch_add(1, std::memory_order_relaxed); }
    // seconds < 0 when no request head was parsed (a framing error, a timeout, a refused connection).
    void request_finished(const char * route, int status, double seconds, bool started);
    void count_faces(int64_t n) { faces_.fetch_add(n, std::memory_order_relaxed); images_.fetch_add(1, std::memory_order_relaxed); }
    void count_connection_shed() { shed_.fetch_add(1, std::memory_order_relaxed); }
    void set_connections_waiting(int64_t n) { waiting_.store(n, std::memory_order_relaxed); }
    int64_t connections_waiting() const { return waiting_.load(std::memory_order_relaxed); }

    std::string render() const;

private:
    struct histogram {
        std::array<uint64_t, k_buckets.size()> le{};  // non-cumulative here, summed when rendered
        uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status)
    std::map<std::string, histogram> latency_;                 // by route
    std::atomic<int64_t> in_flight_{0}, faces_{0}, images_{0}, shed_{0}, waiting_{0};
};

// Resident set size of this process in bytes (0 when /proc is unavailable).
int64_t resident_memory_bytes();

}  // namespace fer::serve
