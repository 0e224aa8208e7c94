// The threads that run complete requests (image analysis, static files) for
// fer's HTTP server. Fixed size; at most `max_waiting` requests wait for a
// thread, and try_submit refuses the one beyond, so that the front answers
// it 503 at once instead of queueing it without bound.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fer::serve {

class worker_pool {
public:
    // on_waiting(n): called (under the pool's lock) whenever the number of
    // requests waiting for a thread changes.
    worker_pool(size_t n_threads, size_t max_waiting, std::function<void(size_t)> on_waiting)
        : max_waiting_(max_waiting), on_waiting_(std::move(on_waiting)) {
        for (size_t i = 0; i < n_threads; ++i) {
            threads_.emplace_back([this] { work(); });
        }
    }
    ~worker_pool() { stop(std::chrono::hours(1)); }

    // False (and fn dropped) when every thread is busy and the queue is full.
    bool try_submit(std::function<void()> fn) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ || (idle_ == 0 && waiting_.size() >= max_waiting_) ||
            (idle_ > 0 && waiting_.size() >= idle_ + max_waiting_)) {
            return false;
        }
        waiting_.push_back(std::move(fn));
        report();
        ready_.notify_one();
        return true;
    }

    // Drops what waits, lets running work finish. False when some thread is
    // still busy after `wait` (its work is in a library call we cannot
    // interrupt); the threads are then detached.
    bool stop(std::chrono::milliseconds wait) {
        std::unique_lock<std::mutex> lock(mutex_);
        if (threads_.empty()) {
            return true;
        }
        stopping_ = true;
        waiting_.clear();
        ready_.notify_all();
        const bool all = exited_.wait_for(lock, wait, [this] { return running_ == 0; });
        lock.unlock();
        for (auto & t : threads_) {
            if (all) {
                t.join();
            } else {
                t.detach();
            }
        }
        threads_.clear();
        return all;
    }

private:
    void work() {
        std::unique_lock<std::mutex> lock(mutex_);
        ++running_;
        for (;;) {
            ++idle_;
            ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
            --idle_;
            if (stopping_) {
                break;
            }
            std::function<void()> fn = std::move(waiting_.front());
            waiting_.pop_front();
            report();
            lock.unlock();
            fn();
            lock.lock();
        }
        --running_;
        exited_.notify_all();
    }

    void report() {
        if (on_waiting_) {
            on_waiting_(waiting_.size() > idle_ ? waiting_.size() - idle_ : 0);
        }
    }

    size_t max_waiting_;
    std::function<void(size_t)> on_waiting_;
    std::vector<std::thread> threads_;
    std::deque<std::function<void()>> waiting_;
    std::mutex mutex_;
    std::condition_variable ready_, exited_;
    size_t idle_ = 0, running_ = 0;
    bool stopping_ = false;
};

}  // namespace fer::serve
