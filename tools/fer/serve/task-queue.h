// The connection queue of `fer serve`. httplib hands every accepted
// connection to a TaskQueue; its own ThreadPool queues them without bound, so
// a burst could grow memory (and latency) without limit. This one runs
// connections on a fixed set of threads, lets at most `max_waiting` wait, and
// answers the ones beyond with 503 straight away (see shedding()).
#pragma once

#include "metrics.h"

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace fer::serve {

class bounded_task_queue : public httplib::TaskQueue {
public:
    bounded_task_queue(size_t n_threads, size_t max_waiting, metrics & m);
    ~bounded_task_queue() override;

    void enqueue(std::function<void()> fn) override;
    // Runs what is waiting (httplib has stopped listening by then, so those
    // connections are closed at once), then joins the threads.
    void shutdown() override;

    // True on the thread that is turning a connection away: the request
    // handlers then answer 503 without doing any work.
    static bool shedding();

private:
    void work();

    size_t max_waiting_;
    metrics & metrics_;
    std::vector<std::thread> threads_;
    std::deque<std::function<void()>> waiting_;
    std::mutex mutex_;
    std::condition_variable ready_;
    bool stopping_ = false;
};

}  // namespace fer::serve
