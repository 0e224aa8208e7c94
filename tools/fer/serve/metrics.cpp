#include "metrics.h"

#include <unistd.h>

#include <cstdio>
#include <sstream>

namespace fer::serve {

const char * route_label(const std::string & path) {
    static const char * const k_api[] = {"/v1/predict", "/v1/model", "/healthz", "/healthz/ready", "/healthz/live",
                                         "/metrics"};
    for (const char * r : k_api) {
        if (path == r) {
            return r;
        }
    }
    return "site";
}

void metrics::request_finished(const char * route, int status, double seconds, bool started) {
    if (started) {
        in_flight_.fetch_sub(1, std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    ++requests_[{route, status}];
    if (seconds < 0) {
        return;
    }
    histogram & h = latency_[route];
    size_t b = 0;
    while (b < k_buckets.size() && seconds > k_buckets[b]) {
        ++b;
    }
    if (b < k_buckets.size()) {
        ++h.le[b];
    }
    ++h.count;
    h.sum += seconds;
}

int64_t resident_memory_bytes() {
    FILE * f = std::fopen("/proc/self/statm", "r");
    if (!f) {
        return 0;
    }
    long long pages_total = 0, pages_resident = 0;
    const int n = std::fscanf(f, "%lld %lld", &pages_total, &pages_resident);
    std::fclose(f);
    return n == 2 ? pages_resident * static_cast<int64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string metrics::render() const {
    std::ostringstream o;
    o.precision(9);
    o << "# HELP fer_http_requests_total HTTP requests answered, by route and status.\n"
         "# TYPE fer_http_requests_total counter\n";
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto & [key, n] : requests_) {
        o << "fer_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
    }
    o << "# HELP fer_http_request_duration_seconds Time from the parsed request head to the response written.\n"
         "# TYPE fer_http_request_duration_seconds histogram\n";
    for (const auto & [route, h] : latency_) {
        uint64_t cumulative = 0;
        for (size_t b = 0; b < k_buckets.size(); ++b) {
            cumulative += h.le[b];
            o << "fer_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << k_buckets[b] << "\"} "
              << cumulative << "\n";
        }
        o << "fer_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
          << "fer_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
          << "fer_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
    }
    // One family with a single sample: its name is written once for HELP, TYPE and the value.
    auto single = [&o](const char * name, const char * type, const char * help, int64_t value) {
        o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n" << name << " " << value
          << "\n";
    };
    single("fer_http_requests_in_flight", "gauge", "Requests being handled now.", in_flight_.load());
    single("fer_connections_waiting", "gauge", "Complete requests waiting for a worker thread.", waiting_.load());
    single("fer_connections_shed_total", "counter", "Connections or requests answered 503 (past --max-connections, or the queue full).",
           shed_.load());
    single("fer_images_analyzed_total", "counter", "Images decoded and analysed by /v1/predict.", images_.load());
    single("fer_faces_detected_total", "counter", "Faces found in the analysed images.", faces_.load());
    single("process_resident_memory_bytes", "gauge", "Resident memory of the server process.",
           resident_memory_bytes());
    return o.str();
}

}  // namespace fer::serve
