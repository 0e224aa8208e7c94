// fer serve: the HTTP API for emotion recognition, and the web app's static
// files. Design and deployment notes: docs/serving.md.
#include "args.h"
#include "cli-common.h"
#include "commands.h"
#include "error.h"
#include "fer-pipeline.h"
#include "serve/api.h"
#include "serve/http-errors.h"
#include "serve/metrics.h"
#include "serve/model-info.h"
#include "serve/static-site.h"
#include "serve/task-queue.h"

#include <httplib.h>

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

namespace fer {

namespace {

struct serve_config {
    std::string host, tls_cert, tls_key, site, model_path, detector_path;
    int port = 0;
    size_t threads = 0, workers = 0, queue = 0;
    int timeout_s = 0;
    bool access_log = true;
    serve::api_options api;
};

std::string default_site() {
    const std::string s = std::string(FER_SOURCE_DIR) + "/build/web/site";
    std::error_code ec;
    return std::filesystem::is_directory(s, ec) ? s : "";
}

long long int_in(const arg_parser & a, const std::string & name, long long lo, long long hi) {
    const long long v = a.get_int(name);
    if (v < lo || v > hi) {
        throw usage_error("serve: --" + name + " must be in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return v;
}

serve_config parse_options(int argc, char ** argv, bool & help_shown) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    arg_parser a("serve", "[OPTIONS]",
                 "Serve the emotion recognition API over HTTP(S) and the web app's static files:\n"
                 "  POST /v1/predict   an image (raw image/jpeg|png|webp body, or multipart field\n"
                 "                     'image'); query: min_face, max_faces, min_confidence, cam, tta.\n"
                 "                     Answers the JSON of `fer predict --json` for one image.\n"
                 "  GET /v1/model      class names, input spec, model name/version/SHA-256\n"
                 "  GET /healthz, GET /metrics (Prometheus text), GET / the site (--site)\n"
                 "Errors are JSON: 400 bad image or request, 401 API key, 404, 405, 413, 415,\n"
                 "503 when every worker is busy and the queue is full. SIGTERM or SIGINT:\n"
                 "stop accepting, finish the requests in flight, exit 0. Access log on stderr.");
    a.option("host", "ADDR", "address to listen on (0.0.0.0: every interface)", "127.0.0.1");
    a.option("port", "N", "TCP port (0: any free port, printed at start)", "8080");
    a.option("threads", "N", "connection threads (each serves one connection at a time)",
             std::to_string(std::max(8u, 4 * cores)));
    a.option("workers", "N", "images decoded and analysed at once (default: CPU cores)", std::to_string(cores));
    a.option("queue", "N", "accepted connections that may wait for a thread; beyond: 503", "64");
    a.option("max-body", "MB", "largest request body", "10");
    a.option("max-pixels", "N", "largest decoded image, width x height (checked before decoding)", "25000000");
    a.option("timeout", "S", "read and write timeout of a connection, seconds", "10");
    a.option("tls-cert", "PEM", "serve HTTPS with this certificate chain (with --tls-key)");
    a.option("tls-key", "PEM", "private key of --tls-cert");
    a.option("api-key", "KEY", "require `Authorization: Bearer KEY` on /v1/* (default: $FER_API_KEY)");
    a.option("site", "DIR", "static site to serve at / (default: build/web/site when it exists; none: no site)");
    a.option("model", "PATH", "TFLite model (default: $FER_TFLITE_MODEL or the shipped one)");
    a.option("detector", "NAME|FILE", "yunet (default: CNN with landmarks), haar (OpenCV's frontalface_alt2), or a file: YuNet .tflite, Haar cascade XML or FERHAAR1 ($FER_DETECTOR)");
    a.flag("quiet", "no access log");
    serve_config c;
    help_shown = !a.parse(argc, argv);
    if (help_shown) {
        return c;
    }
    if (!a.positionals().empty()) {
        throw usage_error("serve: unexpected argument '" + a.positionals()[0] + "'");
    }
    c.host = a.get("host");
    c.port = static_cast<int>(int_in(a, "port", 0, 65535));
    c.threads = static_cast<size_t>(int_in(a, "threads", 1, 1024));
    c.workers = static_cast<size_t>(int_in(a, "workers", 1, 1024));
    c.queue = static_cast<size_t>(int_in(a, "queue", 0, 100000));
    c.api.max_body_bytes = static_cast<size_t>(int_in(a, "max-body", 1, 1024)) << 20;
    c.api.max_pixels = int_in(a, "max-pixels", 1, FER_DETECT_MAX_PIXELS);
    c.timeout_s = static_cast<int>(int_in(a, "timeout", 1, 3600));
    c.tls_cert = a.get("tls-cert");
    c.tls_key = a.get("tls-key");
    if (c.tls_cert.empty() != c.tls_key.empty()) {
        throw usage_error("serve: --tls-cert and --tls-key go together");
    }
    c.api.api_key = a.get("api-key");
    if (c.api.api_key.empty()) {
        if (const char * env = std::getenv("FER_API_KEY")) {
            c.api.api_key = env;
        }
    }
    if (c.api.api_key.find_first_of(" \t\r\n") != std::string::npos) {
        throw usage_error("serve: --api-key must not contain white space");
    }
    c.site = a.has("site") ? a.get("site") : default_site();
    if (c.site == "none") {
        c.site.clear();
    }
    c.model_path = a.has("model") ? a.get("model") : default_tflite_model_path();
    c.detector_path = resolve_detector_path(a.has("detector") ? a.get("detector") : "");
    c.access_log = !a.enabled("quiet");
    c.api.workers = c.workers;
    c.api.defaults = fer_pipeline_default_params();  // those of fer predict
    return c;
}

// Thread-local bookkeeping between the pre-routing handler (request head
// parsed) and the logger (response written): both run on the thread that
// serves the connection.
thread_local bool t_started = false;
thread_local std::chrono::steady_clock::time_point t_start;

void access_log(const httplib::Request & req, const httplib::Response & res, double seconds) {
    const std::string target = req.target.size() > 200 ? req.target.substr(0, 200) + "..." : req.target;
    std::fprintf(stderr, "%s \"%s %s\" %d %zu %.1fms\n", req.remote_addr.empty() ? "-" : req.remote_addr.c_str(),
                 req.method.empty() ? "-" : req.method.c_str(), json_escape(target).c_str(), res.status,
                 res.body.size(), seconds * 1e3);
}

void configure(httplib::Server & svr, const serve_config & c, serve::metrics & m, int & listen_fd) {
    svr.new_task_queue = [&c, &m] { return new serve::bounded_task_queue(c.threads, c.queue, m); };
    svr.set_read_timeout(c.timeout_s);
    svr.set_write_timeout(c.timeout_s);
    svr.set_keep_alive_timeout(5);
    // A connection keeps its thread while it stays open; after this many
    // requests it is closed so that waiting connections get a turn.
    svr.set_keep_alive_max_count(100);
    svr.set_payload_max_length(c.api.max_body_bytes);
    svr.set_tcp_nodelay(true);  // small JSON answers must not wait for Nagle
    svr.set_socket_options([&listen_fd](socket_t fd) {
        int yes = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd = fd;
    });
    svr.set_pre_routing_handler([&m](const httplib::Request &, httplib::Response & res) {
        t_started = true;
        t_start = std::chrono::steady_clock::now();
        m.request_started();
        if (serve::bounded_task_queue::shedding()) {
            res.set_header("Retry-After", "1");
            res.set_header("Connection", "close");
            serve::send_error(res, 503, "server busy: every worker is taken and the queue is full, retry later");
            return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
    });
    svr.set_error_handler([](const httplib::Request & req, httplib::Response & res) {
        if (res.body.empty()) {
            serve::send_error(res, res.status, serve::default_error_message(res.status, req));
        }
    });
    const bool log = c.access_log;
    svr.set_logger([&m, log](const httplib::Request & req, const httplib::Response & res) {
        const double seconds =
            t_started ? std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count() : -1.0;
        m.request_finished(serve::route_label(req.path), res.status, seconds, t_started);
        t_started = false;
        if (log) {
            access_log(req, res, seconds < 0 ? 0 : seconds);
        }
    });
}

}  // namespace

int cmd_serve(int argc, char ** argv) {
    bool help_shown = false;
    const serve_config c = parse_options(argc, argv, help_shown);
    if (help_shown) {
        return 0;
    }
    // A client that goes away mid-answer must cost an EPIPE, not the process.
    signal(SIGPIPE, SIG_IGN);

    const runtime_model model = load_runtime_model(c.model_path);
    const face_detector det = load_face_detector(c.detector_path);
    std::unique_ptr<serve::static_site> site;
    if (!c.site.empty()) {
        site = std::make_unique<serve::static_site>(c.site);
    }

    std::unique_ptr<httplib::Server> svr;
    if (!c.tls_cert.empty()) {
        auto tls = std::make_unique<httplib::SSLServer>(c.tls_cert.c_str(), c.tls_key.c_str());
        if (!tls->is_valid()) {
            throw input_error("serve: cannot use --tls-cert " + c.tls_cert + " with --tls-key " + c.tls_key +
                              " (unreadable, not PEM, or the key does not match)");
        }
        svr = std::move(tls);
    } else {
        svr = std::make_unique<httplib::Server>();
    }
    serve::metrics m;
    int listen_fd = -1;
    configure(*svr, c, m, listen_fd);
    const serve::api api(model.get(), det.get(),
                         serve::describe_model(model.get(), c.model_path, det.get(), c.detector_path), c.api, m);
    api.add_routes(*svr);
    api.add_fallback_routes(*svr, site.get());

    // Signals go to one thread that waits for them; every other thread
    // (httplib's included, created later) inherits the blocked mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    const int port = c.port == 0 ? svr->bind_to_any_port(c.host) : (svr->bind_to_port(c.host, c.port) ? c.port : -1);
    if (port < 0) {
        throw runtime_error("serve: cannot listen on " + c.host + ":" + std::to_string(c.port) +
                            " (address in use, or not an address of this machine)");
    }
    // httplib 0.11 listens with a backlog of 5, too short for a burst of
    // clients; Linux lets a second listen() raise it.
    if (listen_fd >= 0) {
        ::listen(listen_fd, SOMAXCONN);
    }

    std::atomic<bool> listening_done{false};
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        if (listening_done) {
            return;
        }
        std::fprintf(stderr, "fer serve: %s, finishing the requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
        // stop() is a no-op before listen_after_bind() has started.
        while (!svr->is_running() && !listening_done) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        svr->stop();
    });

    std::printf("fer serve: listening on %s://%s:%d (%zu threads, %zu workers, queue %zu%s%s)\n",
                c.tls_cert.empty() ? "http" : "https", c.host.c_str(), port, c.threads, c.workers, c.queue,
                c.api.api_key.empty() ? "" : ", API key required",
                site ? (", site " + site->root().string()).c_str() : ", no site");
    std::fflush(stdout);
    const bool ok = svr->listen_after_bind();
    listening_done = true;
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper if no signal came
    stopper.join();
    if (!ok) {
        throw runtime_error("serve: the listening socket failed");
    }
    std::fprintf(stderr, "fer serve: stopped\n");
    return 0;
}

}  // namespace fer
