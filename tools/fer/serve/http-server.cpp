#include "http-server.h"

#include "error.h"
#include "http-errors.h"
#include "tls.h"
#include "worker-pool.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace fer::serve {

namespace {

using clock_type = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

// After the last answer on a connection that closes, unread bytes (a body
// refused early, pipelined requests) are read and dropped for a moment:
// closing a socket with unread data makes TCP send a reset, which can destroy
// the answer before the client reads it.
constexpr size_t k_linger_bytes = 1u << 20;
constexpr ms k_linger_time{2000};
// Connections turned away with 503 past max_connections get the answer and
// the same short linger, up to this many at once; beyond, they are closed.
constexpr size_t k_max_refusing = 128;
constexpr size_t k_read_chunk = 16384;

enum class phase { handshake, head, body, dispatched, writing, lingering };

struct connection {
    uint64_t id = 0;
    int fd = -1;
    SSL * ssl = nullptr;
    bool refusing = false;  // past the connection cap: 503, then close
    bool closed = false;
    phase ph = phase::head;
    uint32_t interest = 0;  // current epoll events
    ssize_t want = 0;       // io_want_* from the last TLS call that could not proceed
    std::string remote;
    std::string in;         // received, not yet consumed
    std::string out;        // to write
    size_t out_off = 0;
    bool close_after_write = false;
    bool fresh = true;      // no request on it yet (the first head gets header_timeout from the accept)
    bool begun = false;     // bytes of the current request have arrived
    bool parse_due = false; // new bytes since the last head parse
    clock_type::time_point deadline;
    clock_type::time_point t0;  // head parsed (latency)
    bool started = false;
    http_request req;
    head_result head;
    size_t max_body = 0;
    std::string too_large;
    uint64_t body_left = 0;
    std::unique_ptr<chunked_decoder> chunks;
    size_t lingered = 0;
};

struct job {
    uint64_t conn_id;
    http_request req;
    http_response res;
    clock_type::time_point t0;
};

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string peer_address(const sockaddr_storage & a) {
    char buf[INET6_ADDRSTRLEN] = "";
    if (a.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in &>(a).sin_addr, buf, sizeof buf);
    } else if (a.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6 &>(a).sin6_addr, buf, sizeof buf);
    }
    return buf;
}

}  // namespace

struct http_server::impl {
    server_options opt;
    server_handlers h;
    std::unique_ptr<tls_context> tls;
    worker_pool pool;
    int listen_fd = -1, epoll_fd = -1, wake_fd = -1;
    std::unordered_map<int, std::unique_ptr<connection>> conns;  // by fd
    std::unordered_map<uint64_t, int> fd_of;                     // connection id -> fd
    uint64_t next_id = 1;
    size_t n_serving = 0, n_refusing = 0;
    std::atomic<bool> stop_asked{false};
    bool stopping = false;
    clock_type::time_point stop_deadline, accept_paused_until;
    bool accept_paused = false;
    std::mutex done_mutex;
    std::vector<std::unique_ptr<job>> done;  // answered by workers, waiting for the front

    impl(server_options o, server_handlers hs)
        : opt(std::move(o)), h(std::move(hs)), pool(opt.threads, opt.queue, h.on_waiting) {
        if (!opt.tls_cert.empty()) {
            tls = std::make_unique<tls_context>(opt.tls_cert, opt.tls_key);
        }
    }

    ~impl() {
        for (auto & [fd, c] : conns) {
            tls_free(c->ssl);
            ::close(fd);
        }
        for (int fd : {listen_fd, epoll_fd, wake_fd}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    // ---- socket I/O, plain or TLS: > 0 bytes, or io_want_* / io_closed
    ssize_t read_some(connection & c, char * buf, size_t n) {
        if (c.ssl) {
            return tls_read(c.ssl, buf, n);
        }
        const ssize_t r = ::recv(c.fd, buf, n, 0);
        if (r > 0) {
            return r;
        }
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? io_want_read : io_closed;
    }
    ssize_t write_some(connection & c, const char * buf, size_t n) {
        if (c.ssl) {
            return tls_write(c.ssl, buf, n);
        }
        const ssize_t r = ::send(c.fd, buf, n, MSG_NOSIGNAL);
        if (r >= 0) {
            return r > 0 ? r : io_want_write;
        }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? io_want_write : io_closed;
    }

    void set_interest(connection & c, uint32_t ev) {
        if (c.interest == ev) {
            return;
        }
        epoll_event e{};
        e.events = ev;
        e.data.fd = c.fd;
        if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &e) != 0 && errno == ENOENT) {
            epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &e);  // taken out after a hang-up while dispatched
        }
        c.interest = ev;
    }
    // The events a stalled TLS call waits for; plain sockets wait for `plain`.
    uint32_t events_for(const connection & c, uint32_t plain) const {
        if (c.ssl && c.want == io_want_write) {
            return EPOLLOUT;
        }
        if (c.ssl && c.want == io_want_read) {
            return EPOLLIN;
        }
        return plain;
    }

    void close_conn(connection & c) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
        tls_free(c.ssl);
        c.ssl = nullptr;
        ::close(c.fd);
        (c.refusing ? n_refusing : n_serving)--;
        fd_of.erase(c.id);
    }

    // ---- responses
    std::string serialize(const http_request & req, const http_response & res, bool close) {
        std::string s = "HTTP/1.1 " + std::to_string(res.status) + " " + reason_phrase(res.status) + "\r\n";
        const bool no_body = res.status == 304 || res.status == 204 || req.method == "HEAD";
        if (!res.content_type.empty()) {
            s += "Content-Type: " + res.content_type + "\r\n";
        }
        if (res.status != 304 && res.status != 204) {
            s += "Content-Length: " + std::to_string(res.body.size()) + "\r\n";
        }
        for (const auto & [k, v] : res.headers) {
            s += k + ": " + v + "\r\n";
        }
        if (close) {
            s += "Connection: close\r\n";
        } else if (req.minor_version == 0) {
            s += "Connection: keep-alive\r\n";
        }
        s += "\r\n";
        if (!no_body) {
            s += res.body;
        }
        return s;
    }

    void respond(connection & c, const http_request & req, const http_response & res, double seconds) {
        const bool close = res.close || !c.head.keep_alive || stopping || c.refusing;
        c.out.append(serialize(req, res, close));
        c.close_after_write = close;
        c.ph = phase::writing;
        c.deadline = clock_type::now() + ms(opt.write_timeout_ms);
        if (h.on_done) {
            h.on_done(req, res, seconds);
        }
    }

    double elapsed(const connection & c) const {
        return c.started ? std::chrono::duration<double>(clock_type::now() - c.t0).count() : -1.0;
    }

    // An error found by the front (framing, limits, deadlines): JSON, then close.
    void fail(connection & c, int status, const std::string & message) {
        http_response res;
        res.status = status;
        res.set_content(error_json(status, message), "application/json");
        res.close = true;
        respond(c, c.req, res, elapsed(c));
    }

    static std::string error_json(int status, const std::string & message) { return error_body(status, message); }
    static void internal_error(http_response & res, const char * what) {
        res = http_response();
        send_error(res, 500, std::string("internal error: ") + what);
    }

    // ---- the request state machine on the front
    // Consumes what c.in holds for the current phase; true when it moved on.
    bool advance(connection & c) {
        if (c.ph == phase::head) {
            if (c.in.empty() || !c.parse_due) {
                return false;
            }
            c.parse_due = false;
            if (!c.begun) {
                c.begun = true;
                // The first request's clock started at the accept; later ones at their first byte.
                if (!c.fresh) {
                    c.deadline = clock_type::now() + ms(opt.header_timeout_ms);
                }
            }
            c.req = http_request();
            c.req.remote_addr = c.remote;
            c.head = parse_head(c.in, opt.limits, c.req);
            if (c.head.status) {
                c.head.keep_alive = false;
                fail(c, c.head.status, c.head.message);
                return true;
            }
            if (c.head.consumed == 0) {
                return false;  // incomplete
            }
            c.in.erase(0, c.head.consumed);
            c.fresh = false;
            c.started = true;
            c.t0 = clock_type::now();
            if (h.on_request_start) {
                h.on_request_start();
            }
            http_response res;
            head_decision d;
            try {
                d = h.on_head(c.req, res);
            } catch (const std::exception & e) {
                internal_error(res, e.what());
                d.answered = true;
            }
            if (d.answered) {
                // The body, if any, stays unread: the connection cannot carry another request.
                res.close = res.close || c.head.framing != body_framing::none;
                respond(c, c.req, res, elapsed(c));
                return true;
            }
            c.max_body = d.max_body;
            c.too_large = d.too_large;
            if (c.head.framing == body_framing::length && c.head.content_length > c.max_body) {
                fail(c, 413, c.too_large);  // from the header alone: nothing of the body is read
                return true;
            }
            if (c.head.expect_continue && c.head.framing != body_framing::none) {
                c.out.append("HTTP/1.1 100 Continue\r\n\r\n");
                flush_interim(c);
            }
            c.ph = phase::body;
            c.body_left = c.head.content_length;
            c.chunks = c.head.framing == body_framing::chunked ? std::make_unique<chunked_decoder>(c.max_body) : nullptr;
            c.deadline = clock_type::now() + ms(opt.read_timeout_ms);
            if (c.head.framing == body_framing::none) {
                dispatch(c);
            }
            return true;
        }
        if (c.ph == phase::body) {
            if (c.in.empty()) {
                return false;
            }
            c.deadline = clock_type::now() + ms(opt.read_timeout_ms);
            if (!c.chunks) {
                const size_t n = static_cast<size_t>(std::min<uint64_t>(c.body_left, c.in.size()));
                c.req.body.append(c.in, 0, n);
                c.in.erase(0, n);
                c.body_left -= n;
                if (c.body_left == 0) {
                    dispatch(c);
                }
                return true;
            }
            size_t pos = 0;
            const auto r = c.chunks->feed(c.in, &pos, c.req.body);
            c.in.erase(0, pos);
            if (r == chunked_decoder::done) {
                dispatch(c);
            } else if (r == chunked_decoder::too_large) {
                fail(c, 413, c.too_large);
            } else if (r == chunked_decoder::error) {
                fail(c, 400, "malformed chunked body: " + c.chunks->message());
            }
            return true;
        }
        return false;
    }

    // Writes the 100 Continue now if the socket takes it; otherwise it goes
    // out ahead of the answer.
    void flush_interim(connection & c) {
        while (c.out_off < c.out.size()) {
            const ssize_t n = write_some(c, c.out.data() + c.out_off, c.out.size() - c.out_off);
            if (n <= 0) {
                return;
            }
            c.out_off += static_cast<size_t>(n);
        }
        c.out.clear();
        c.out_off = 0;
    }

    void dispatch(connection & c) {
        c.ph = phase::dispatched;
        auto j = std::make_shared<job>();
        j->conn_id = c.id;
        j->req = std::move(c.req);
        j->t0 = c.t0;
        const bool ok = pool.try_submit(
            [this, j] {
                // An exception must cost this request a 500, not the process.
                try {
                    h.on_request(j->req, j->res);
                } catch (const std::exception & e) {
                    internal_error(j->res, e.what());
                } catch (...) {
                    internal_error(j->res, "unknown exception");
                }
                std::lock_guard<std::mutex> lock(done_mutex);
                done.push_back(std::make_unique<job>(std::move(*j)));
                const uint64_t one = 1;
                (void)!::write(wake_fd, &one, sizeof one);
            });
        if (!ok) {
            c.req = std::move(j->req);
            if (h.on_shed) {
                h.on_shed();
            }
            http_response res;
            res.status = 503;
            res.set_header("Retry-After", "1");
            res.set_content(error_json(503, "server busy: every worker is taken and the queue is full, retry later"),
                            "application/json");
            res.close = true;
            c.ph = phase::writing;  // so that respond() keeps the connection's framing state
            respond(c, c.req, res, elapsed(c));
            return;
        }
        set_interest(c, 0);
    }

    // After the answer is written: the next request, or the end.
    void finish_answer(connection & c) {
        c.out.clear();
        c.out_off = 0;
        c.started = false;
        if (c.close_after_write || stopping) {
            start_linger(c);
            return;
        }
        c.ph = phase::head;
        c.begun = false;
        c.parse_due = !c.in.empty();  // a pipelined request may be waiting
        c.deadline = clock_type::now() + ms(opt.keep_alive_ms);
        if (c.parse_due) {
            c.begun = true;
            c.deadline = clock_type::now() + ms(opt.header_timeout_ms);
        }
    }

    void start_linger(connection & c) {
        c.ph = phase::lingering;
        c.in.clear();
        // While stopping, the process is about to end: a short linger only.
        c.deadline = clock_type::now() + (stopping ? ms(200) : k_linger_time);
        if (c.ssl) {
            tls_free(c.ssl);  // close_notify
            c.ssl = nullptr;
        }
        ::shutdown(c.fd, SHUT_WR);
    }

    // Runs a connection as far as it can go without blocking.
    void pump(connection & c) {
        char buf[k_read_chunk];
        for (int guard = 0; guard < 10000 && !c.closed; ++guard) {
            switch (c.ph) {
            case phase::handshake: {
                const ssize_t r = tls_handshake(c.ssl);
                if (r == io_closed) {
                    close_conn(c);
                    return;
                }
                if (r != 1) {
                    c.want = r;
                    set_interest(c, events_for(c, EPOLLIN));
                    return;
                }
                c.want = 0;
                c.ph = phase::head;
                continue;
            }
            case phase::head:
            case phase::body: {
                if (advance(c)) {
                    continue;
                }
                const ssize_t n = read_some(c, buf, sizeof buf);
                if (n > 0) {
                    c.want = 0;
                    c.in.append(buf, static_cast<size_t>(n));
                    c.parse_due = true;
                    continue;
                }
                if (n == io_closed) {
                    // The client is gone (or half-closed before a request was complete): nobody to answer.
                    close_conn(c);
                    return;
                }
                c.want = n;
                set_interest(c, events_for(c, EPOLLIN));
                return;
            }
            case phase::dispatched: set_interest(c, 0); return;
            case phase::writing: {
                if (c.out_off == c.out.size()) {
                    finish_answer(c);
                    continue;
                }
                const ssize_t n = write_some(c, c.out.data() + c.out_off, c.out.size() - c.out_off);
                if (n > 0) {
                    c.out_off += static_cast<size_t>(n);
                    c.deadline = clock_type::now() + ms(opt.write_timeout_ms);
                    continue;
                }
                if (n == io_closed) {
                    close_conn(c);
                    return;
                }
                c.want = n;
                set_interest(c, events_for(c, EPOLLOUT));
                return;
            }
            case phase::lingering: {
                const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
                if (n > 0 && (c.lingered += static_cast<size_t>(n)) < k_linger_bytes) {
                    continue;
                }
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
                    set_interest(c, EPOLLIN);
                    return;
                }
                close_conn(c);
                return;
            }
            }
        }
    }

    // ---- accepting
    void accept_all() {
        for (;;) {
            sockaddr_storage addr{};
            socklen_t len = sizeof addr;
            const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr *>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    // Out of descriptors: stop accepting for a moment instead of spinning on a
                    // listening socket that stays readable.
                    pause_accepting();
                }
                return;
            }
            const bool refuse = n_serving >= opt.max_connections;
            if (refuse && n_refusing >= k_max_refusing) {
                if (h.on_shed) {
                    h.on_shed();
                }
                ::close(fd);
                continue;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small JSON answers must not wait
            auto c = std::make_unique<connection>();
            c->id = next_id++;
            c->fd = fd;
            c->remote = peer_address(addr);
            c->refusing = refuse;
            (refuse ? n_refusing : n_serving)++;
            c->deadline = clock_type::now() + ms(opt.header_timeout_ms);
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.fd = fd;
            c->interest = EPOLLIN;
            epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &e);
            connection & ref = *c;
            fd_of[c->id] = fd;
            conns[fd] = std::move(c);
            if (refuse) {
                // Past the cap: answered at once, without reading anything (no TLS either: a
                // TLS client sees the connection close, which is all it can be told).
                if (h.on_shed) {
                    h.on_shed();
                }
                if (tls) {
                    close_conn(ref);
                    continue;
                }
                http_response res;
                res.status = 503;
                res.set_header("Retry-After", "1");
                res.set_content(error_json(503, "server busy: too many open connections, retry later"),
                                "application/json");
                res.close = true;
                respond(ref, ref.req, res, -1);
            } else if (tls) {
                ref.ssl = tls->new_session(fd);
                if (!ref.ssl) {
                    close_conn(ref);
                    continue;
                }
                ref.ph = phase::handshake;
            }
            pump(ref);
        }
    }

    void pause_accepting() {
        if (!accept_paused && listen_fd >= 0) {
            epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
            accept_paused = true;
            accept_paused_until = clock_type::now() + ms(100);
        }
    }
    void resume_accepting() {
        if (accept_paused && listen_fd >= 0 && clock_type::now() >= accept_paused_until) {
            epoll_event e{};
            e.events = EPOLLIN;
            e.data.fd = listen_fd;
            epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &e);
            accept_paused = false;
        }
    }

    // ---- deadlines, checked every 100 ms
    void sweep() {
        const auto now = clock_type::now();
        for (auto & [fd, cp] : conns) {
            connection & c = *cp;
            if (c.closed || now < c.deadline) {
                continue;
            }
            switch (c.ph) {
            case phase::head:
                if (!c.in.empty()) {  // part of a head: slowloris, or a lost client
                    fail(c, 408, "request head not complete within " + std::to_string(opt.header_timeout_ms / 1000) +
                                     " s");
                    pump(c);
                } else {
                    close_conn(c);  // nothing sent: an idle or keep-alive connection
                }
                break;
            case phase::body:
                fail(c, 408, "request body stalled for " + std::to_string(opt.read_timeout_ms / 1000) + " s");
                pump(c);
                break;
            case phase::dispatched: break;
            default: close_conn(c); break;
            }
        }
        collect();
    }

    void collect() {
        for (auto it = conns.begin(); it != conns.end();) {
            it = it->second->closed ? conns.erase(it) : std::next(it);
        }
    }

    void begin_stop() {
        stopping = true;
        stop_deadline = clock_type::now() + ms(opt.shutdown_timeout_ms);
        if (listen_fd >= 0) {
            epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
            ::close(listen_fd);  // new connections are refused from now on
            listen_fd = -1;
        }
        for (auto & [fd, c] : conns) {
            // Nothing of a request received yet: nothing to finish.
            if ((c->ph == phase::head && c->in.empty()) || c->ph == phase::lingering || c->refusing ||
                c->ph == phase::handshake) {
                close_conn(*c);
            }
        }
        collect();
    }

    void complete_jobs() {
        uint64_t n;
        (void)!::read(wake_fd, &n, sizeof n);
        std::vector<std::unique_ptr<job>> ready;
        {
            std::lock_guard<std::mutex> lock(done_mutex);
            ready.swap(done);
        }
        for (auto & j : ready) {
            const double seconds = std::chrono::duration<double>(clock_type::now() - j->t0).count();
            const auto f = fd_of.find(j->conn_id);
            if (f == fd_of.end()) {
                if (h.on_done) {
                    h.on_done(j->req, j->res, seconds);  // the client left; counted all the same
                }
                continue;
            }
            connection & c = *conns.at(f->second);
            respond(c, j->req, j->res, seconds);
            pump(c);
        }
        collect();
    }

    bool loop() {
        std::vector<epoll_event> events(256);
        auto last_sweep = clock_type::now();
        for (;;) {
            if (stop_asked && !stopping) {
                begin_stop();
            }
            if (stopping && (conns.empty() || clock_type::now() >= stop_deadline)) {
                break;
            }
            const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == listen_fd) {
                    accept_all();
                } else if (fd == wake_fd) {
                    complete_jobs();
                } else if (auto it = conns.find(fd); it != conns.end() && !it->second->closed) {
                    connection & c = *it->second;
                    if (c.ph == phase::dispatched && (events[i].events & (EPOLLERR | EPOLLHUP))) {
                        // Level-triggered hang-up would wake us in a loop; writing the answer will find out.
                        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c.fd, nullptr);
                        c.interest = 0;
                        continue;
                    }
                    pump(c);
                }
            }
            collect();
            resume_accepting();
            if (clock_type::now() - last_sweep >= ms(100)) {
                sweep();
                last_sweep = clock_type::now();
            }
        }
        for (auto & [fd, c] : conns) {
            close_conn(*c);
        }
        collect();
        // Requests still being analysed get a last short grace before the process ends.
        return pool.stop(ms(1000));
    }
};

// ---- the public face

http_server::http_server(server_options options, server_handlers handlers)
    : impl_(std::make_unique<impl>(std::move(options), std::move(handlers))) {}

http_server::~http_server() = default;

int http_server::bind() {
    impl & m = *impl_;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo * list = nullptr;
    const std::string port = std::to_string(m.opt.port);
    const std::string where = m.opt.host + ":" + port;
    if (getaddrinfo(m.opt.host.c_str(), port.c_str(), &hints, &list) != 0 || !list) {
        throw runtime_error("serve: cannot listen on " + where + " (not an address of this machine)");
    }
    int fd = -1;
    for (addrinfo * a = list; a && fd < 0; a = a->ai_next) {
        fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
            ::close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(list);
    if (fd < 0) {
        throw runtime_error("serve: cannot listen on " + where + " (address in use, or not an address of this machine)");
    }
    set_nonblocking(fd);
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    const int bound = ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6 &>(addr).sin6_port
                                                       : reinterpret_cast<sockaddr_in &>(addr).sin_port);
    m.listen_fd = fd;
    m.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    m.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (m.epoll_fd < 0 || m.wake_fd < 0) {
        throw runtime_error("serve: cannot create the event loop (out of file descriptors?)");
    }
    for (int f : {m.listen_fd, m.wake_fd}) {
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.fd = f;
        epoll_ctl(m.epoll_fd, EPOLL_CTL_ADD, f, &e);
    }
    return bound;
}

bool http_server::run() { return impl_->loop(); }

void http_server::stop() {
    impl_->stop_asked = true;
    const uint64_t one = 1;
    (void)!::write(impl_->wake_fd, &one, sizeof one);
}

}  // namespace fer::serve
