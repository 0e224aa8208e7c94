// fer's own HTTP/1.1 server, made for hostile networks (docs/serving.md,
// "Why our own HTTP layer"). One event-loop thread (the front) accepts
// connections and reads every request head and body under strict limits
// and deadlines; only complete requests reach the worker threads, so a slow
// or idle client holds a file descriptor and a few KB, never a thread.
// Requests that need no work (/healthz, /metrics, early errors) are answered
// on the front itself and cannot be starved by slow or heavy requests.
#pragma once

#include "http-message.h"
#include "http-parser.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace fer::serve {

struct server_options {
    std::string host = "127.0.0.1";
    int port = 8080;                 // 0: any free port
    std::string tls_cert, tls_key;   // both set: HTTPS
    size_t threads = 8;              // worker threads
    size_t queue = 64;               // complete requests that may wait for a worker; beyond: 503
    size_t max_connections = 512;    // open connections; beyond: 503 + Retry-After at once, then close
    int header_timeout_ms = 10000;   // whole request head (and TLS handshake), from its first byte
    int read_timeout_ms = 10000;     // body: longest silence between two reads
    int write_timeout_ms = 10000;    // answer: longest stall of the client's reading
    int keep_alive_ms = 5000;        // idle time between two requests
    int shutdown_timeout_ms = 10000; // after stop(): then every connection left is cut
    http_limits limits;
};

// What the front decides once a request head is parsed and valid.
struct head_decision {
    bool answered = false;   // the response is ready; a body that follows is not read (the connection closes)
    size_t max_body = 0;     // otherwise: largest body to read before handing the request to a worker
    std::string too_large;   // the message of the 413 above max_body
};

struct server_handlers {
    // Front thread: must be quick (no disk, no decoding).
    std::function<head_decision(const http_request &, http_response &)> on_head;
    // Worker thread, with the complete body.
    std::function<void(http_request &, http_response &)> on_request;
    // Every response, when it is queued for writing. seconds < 0: no request
    // head was parsed (framing error, timeout, connection refused).
    std::function<void(const http_request &, const http_response &, double seconds)> on_done;
    std::function<void()> on_request_start;      // a request head was parsed
    std::function<void()> on_shed;               // a connection or request turned away with 503
    std::function<void(size_t)> on_waiting;      // requests waiting for a worker now
};

class http_server {
public:
    http_server(server_options options, server_handlers handlers);
    ~http_server();
    // Binds and listens; returns the port. Throws fer::runtime_error when it cannot.
    int bind();
    // Serves until stop(), then finishes the requests in progress for at most
    // shutdown_timeout_ms. False when worker threads were still busy at the
    // end (the caller should then _exit: those threads cannot be joined).
    bool run();
    // Thread-safe; returns at once.
    void stop();

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace fer::serve
