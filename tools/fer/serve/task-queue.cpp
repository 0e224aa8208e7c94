#include "task-queue.h"

namespace fer::serve {

namespace {
thread_local bool t_shedding = false;
}

bool bounded_task_queue::shedding() { return t_shedding; }

bounded_task_queue::bounded_task_queue(size_t n_threads, size_t max_waiting, metrics & m)
    : max_waiting_(max_waiting), metrics_(m) {
    threads_.reserve(n_threads);
    for (size_t i = 0; i < n_threads; ++i) {
        threads_.emplace_back([this] { work(); });
    }
}

bounded_task_queue::~bounded_task_queue() {
    if (!threads_.empty()) {
        shutdown();
    }
}

void bounded_task_queue::enqueue(std::function<void()> fn) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (waiting_.size() < max_waiting_) {
            waiting_.push_back(std::move(fn));
            metrics_.set_connections_waiting(static_cast<int64_t>(waiting_.size()));
            ready_.notify_one();
            return;
        }
    }
    // Full. httplib 0.11 gives no way to refuse a task (the socket is inside
    // fn), so the listening thread serves this connection itself, in a mode
    // where every request gets a 503 and the connection is closed. Reading
    // the request head is bounded by the read timeout; while it lasts, new
    // connections wait in the kernel's backlog, which is the back-pressure
    // we want when saturated.
    metrics_.count_connection_shed();
    t_shedding = true;
    fn();
    t_shedding = false;
}

void bounded_task_queue::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto & t : threads_) {
        t.join();
    }
    threads_.clear();
}

void bounded_task_queue::work() {
    for (;;) {
        std::function<void()> fn;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
            if (waiting_.empty()) {
                return;  // stopping, and nothing left
            }
            fn = std::move(waiting_.front());
            waiting_.pop_front();
            metrics_.set_connections_waiting(static_cast<int64_t>(waiting_.size()));
        }
        fn();
    }
}

}  // namespace fer::serve
