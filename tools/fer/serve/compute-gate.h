// At most N images decoded and analysed at once, whatever the number of
// connection threads: CPU work beyond the cores only adds latency, and each
// decoded image can take up to --max-pixels x 4 bytes.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace fer::serve {

class compute_gate {
public:
    explicit compute_gate(size_t n) : free_(n) {}

    class pass {
    public:
        explicit pass(compute_gate & g) : g_(g) {
            std::unique_lock<std::mutex> lock(g_.mutex_);
            g_.freed_.wait(lock, [this] { return g_.free_ > 0; });
            --g_.free_;
        }
        ~pass() {
            {
                std::lock_guard<std::mutex> lock(g_.mutex_);
                ++g_.free_;
            }
            g_.freed_.notify_one();
        }
        pass(const pass &) = delete;
        pass & operator=(const pass &) = delete;

    private:
        compute_gate & g_;
    };

private:
    std::mutex mutex_;
    std::condition_variable freed_;
    size_t free_;
};

}  // namespace fer::serve
