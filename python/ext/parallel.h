// Items of a batch spread over the model's `threads` workers, each with its
// own context from the pool (called without the GIL).
#pragma once

#include "binding.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace fer_py {

// fn(ctx, i, scratch) returns "" or an error text; the error of the lowest
// failing index is returned (later items may be skipped), "" when all passed.
template <typename Fn> std::string parallel_for(model & m, size_t n, Fn fn) {
    if (n == 0) {
        return "";
    }
    std::atomic<size_t> next{0};
    std::mutex mu;
    size_t first_bad = n;
    std::string error;
    auto worker = [&] {
        try {
            model::lease ctx(m);
            std::vector<uint8_t> scratch;
            for (size_t i; (i = next++) < n;) {
                std::string e = fn(ctx.get(), i, scratch);
                if (!e.empty()) {
                    std::lock_guard<std::mutex> lock(mu);
                    if (i < first_bad) {
                        first_bad = i;
                        error = std::move(e);
                    }
                    next = n;  // stop handing out items
                }
            }
        } catch (const std::exception & e) {  // no memory for a context
            std::lock_guard<std::mutex> lock(mu);
            if (error.empty()) {
                error = std::string("cannot allocate the model's memory (") + e.what() + ")";
            }
            next = n;
        }
    };
    const size_t workers = std::min<size_t>(static_cast<size_t>(m.threads()), n);
    if (workers <= 1) {
        worker();  // the calling thread: no thread start for a single item
        return error;
    }
    std::vector<std::thread> pool;
    for (size_t t = 1; t < workers; ++t) {
        pool.emplace_back(worker);
    }
    worker();
    for (auto & t : pool) {
        t.join();
    }
    return error;
}

}  // namespace fer_py
