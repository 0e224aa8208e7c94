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
#include "serve/phone-setup.h"
#include "serve/qr-code.h"
#include "serve/http-server.h"
#include "serve/static-site.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace fer {

namespace {

struct serve_config {
    std::string site, model_path, detector_path;
    bool phone = false;      // --phone: HTTPS on the LAN, addresses and a QR code printed
    std::string cert_dir;    // where --phone keeps its generated certificate
    size_t workers = 0;
    bool access_log = true;
    serve::server_options server;
    serve::api_options api;
};

// The web app installed with fer (share/fer/web, web/CMakeLists.txt), else the
// source tree's build; none when neither exists.
std::string default_site() {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "fer" / "web";
        if (std::filesystem::is_regular_file(installed / "index.html", ec)) {
            return installed.string();
        }
    }
    const std::string s = std::string(FER_SOURCE_DIR) + "/build/web/site";
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
                 "                     'image'); query: min_face, max_faces, min_confidence, cam, tta,\n"
                 "                     quality.\n"
                 "                     Answers the JSON of `fer predict --json` for one image.\n"
                 "  GET /v1/model      class names, input spec, model name/version/SHA-256\n"
                 "  GET /healthz and /healthz/live (alive), GET /healthz/ready (503 while the queue is full),\n"
                 "  GET /metrics (Prometheus text), GET / the site (--site)\n"
                 "Errors are JSON: 400 bad image or request, 401 API key, 404, 405, 413, 415,\n"
                 "503 when every worker is busy and the queue is full, or past --max-connections.\n"
                 "SIGTERM or SIGINT: stop accepting, finish the requests in flight for at most\n"
                 "--shutdown-timeout, exit 0. Access log on stderr.");
    a.option("host", "ADDR", "address to listen on (0.0.0.0: every interface)", "127.0.0.1");
    a.option("port", "N", "TCP port (0: any free port, printed at start)", "8080");
    a.option("threads", "N", "worker threads (each runs one complete request at a time)",
             std::to_string(std::max(8u, 4 * cores)));
    a.option("workers", "N", "images decoded and analysed at once (default: CPU cores)", std::to_string(cores));
    a.option("queue", "N", "complete requests that may wait for a worker thread; beyond: 503", "64");
    a.option("max-connections", "N", "open connections; beyond: 503 with Retry-After at once", "512");
    a.option("max-body", "MB", "largest request body", "10");
    a.option("max-pixels", "N", "largest decoded image, width x height (checked before decoding)", "25000000");
    a.option("timeout", "S", "longest silence while a body is read or an answer written, seconds", "10");
    a.option("header-timeout", "S", "the whole request head must arrive within this, seconds (else 408)", "10");
    a.option("shutdown-timeout", "S", "after SIGTERM, requests in flight get this long, then are cut", "10");
    a.option("tls-cert", "PEM", "serve HTTPS with this certificate chain (with --tls-key)");
    a.option("tls-key", "PEM", "private key of --tls-cert");
    a.flag("phone", "for a phone on this network: listen on every interface (unless --host), serve HTTPS with a\n"
                    "self-signed certificate made once and kept in --cert-dir (unless --tls-cert), print the\n"
                    "LAN addresses and a QR code of the page's (docs/web-app.md: what each phone browser shows)");
    a.option("cert-dir", "DIR", "where --phone keeps its certificate (default: ~/.config/fer/tls)");
    a.option("api-key", "KEY", "require `Authorization: Bearer KEY` on /v1/* (default: $FER_API_KEY)");
    a.option("site", "DIR", "static site to serve at / (default: the installed web app, else build/web/site when it exists; none: no site)");
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
    serve::server_options & o = c.server;
    c.phone = a.enabled("phone");
    o.host = c.phone && !a.has("host") ? "0.0.0.0" : a.get("host");
    c.cert_dir = a.has("cert-dir") ? a.get("cert-dir") : serve::default_cert_dir();
    o.port = static_cast<int>(int_in(a, "port", 0, 65535));
    o.threads = static_cast<size_t>(int_in(a, "threads", 1, 1024));
    c.workers = static_cast<size_t>(int_in(a, "workers", 1, 1024));
    o.queue = static_cast<size_t>(int_in(a, "queue", 0, 100000));
    o.max_connections = static_cast<size_t>(int_in(a, "max-connections", 1, 100000));
    c.api.max_body_bytes = static_cast<size_t>(int_in(a, "max-body", 1, 1024)) << 20;
    c.api.max_pixels = int_in(a, "max-pixels", 1, FER_DETECT_MAX_PIXELS);
    o.read_timeout_ms = o.write_timeout_ms = static_cast<int>(int_in(a, "timeout", 1, 3600)) * 1000;
    o.header_timeout_ms = static_cast<int>(int_in(a, "header-timeout", 1, 3600)) * 1000;
    o.shutdown_timeout_ms = static_cast<int>(int_in(a, "shutdown-timeout", 0, 3600)) * 1000;
    o.tls_cert = a.get("tls-cert");
    o.tls_key = a.get("tls-key");
    if (o.tls_cert.empty() != o.tls_key.empty()) {
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
    c.api.queue = o.queue;
    c.api.defaults = fer_pipeline_default_params();  // those of fer predict
    return c;
}

void access_log(const serve::http_request & req, const serve::http_response & res, double seconds) {
    const std::string target = req.target.size() > 200 ? req.target.substr(0, 200) + "..." : req.target;
    std::fprintf(stderr, "%s \"%s %s\" %d %zu %.1fms\n", req.remote_addr.empty() ? "-" : req.remote_addr.c_str(),
                 req.method.empty() ? "-" : json_escape(req.method).c_str(), json_escape(target).c_str(), res.status,
                 res.body.size(), seconds < 0 ? 0.0 : seconds * 1e3);
}

// Each connection holds one descriptor: raise the soft limit to the hard one
// and keep --max-connections below it (with room for files and the model).
void fit_descriptor_limit(serve::server_options & o) {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) != 0) {
        return;
    }
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    const size_t room = r.rlim_cur > 256 ? static_cast<size_t>(r.rlim_cur) - 256 : 16;
    if (o.max_connections > room) {
        std::fprintf(stderr, "fer serve: --max-connections %zu lowered to %zu (open file limit %llu)\n",
                     o.max_connections, room, static_cast<unsigned long long>(r.rlim_cur));
        o.max_connections = room;
    }
}

// The addresses a phone on the same network can open, and the first as a QR
// code: the phone's camera app reads it and offers to open the page.
void print_phone_addresses(const std::vector<std::string> & lan, int port, bool has_site, bool self_signed) {
    const std::string path = has_site ? "/" : "/healthz";
    if (lan.empty()) {
        std::printf("fer serve: no network address found besides loopback: https://localhost:%d%s on this machine only\n",
                    port, path.c_str());
        return;
    }
    std::printf("fer serve: open on a phone on the same network:\n");
    for (const std::string & a : lan) {
        std::printf("  https://%s:%d%s\n", a.c_str(), port, path.c_str());
    }
    const std::string url = "https://" + lan.front() + ":" + std::to_string(port) + path;
    std::printf("fer serve: QR code of %s\n%s", url.c_str(),
                serve::qr_terminal_text(serve::make_qr_code(url), isatty(STDOUT_FILENO) != 0).c_str());
    if (self_signed) {
        std::printf("fer serve: the phone warns about the self-signed certificate once; compare its SHA-256 "
                    "with the one above, then accept it (docs/web-app.md)\n");
    } else {
        std::printf("fer serve: with the certificate of --tls-cert, the phone shows no warning if it trusts its issuer\n");
    }
}

}  // namespace

int cmd_serve(int argc, char ** argv) {
    bool help_shown = false;
    serve_config c = parse_options(argc, argv, help_shown);
    if (help_shown) {
        return 0;
    }
    // A client that goes away mid-answer must cost an EPIPE, not the process.
    signal(SIGPIPE, SIG_IGN);
    fit_descriptor_limit(c.server);

    std::vector<std::string> lan;
    bool self_signed = false;
    if (c.phone) {
        lan = c.server.host == "0.0.0.0" ? serve::lan_addresses() : std::vector<std::string>{c.server.host};
        if (c.server.tls_cert.empty()) {
            const serve::phone_certificate pc = serve::ensure_phone_certificate(c.cert_dir, lan);
            c.server.tls_cert = pc.cert_path;
            c.server.tls_key = pc.key_path;
            self_signed = true;
            std::printf("fer serve: %s certificate %s\n  SHA-256 %s\n", pc.created ? "made a self-signed" : "reusing the",
                        pc.cert_path.c_str(), pc.sha256.c_str());
        }
    }
    const runtime_model model = load_runtime_model(c.model_path);
    const face_detector det = load_face_detector(c.detector_path);
    std::unique_ptr<serve::static_site> site;
    if (!c.site.empty()) {
        site = std::make_unique<serve::static_site>(c.site);
    }
    serve::metrics m;
    const serve::api api(model.get(), det.get(),
                         serve::describe_model(model.get(), c.model_path, det.get(), c.detector_path), c.api, m,
                         site.get());
    serve::server_handlers h;
    h.on_head = [&api](const serve::http_request & req, serve::http_response & res) { return api.on_head(req, res); };
    h.on_request = [&api](serve::http_request & req, serve::http_response & res) { api.on_request(req, res); };
    const bool log = c.access_log;
    h.on_done = [&m, log](const serve::http_request & req, const serve::http_response & res, double seconds) {
        m.request_finished(serve::route_label(req.path), res.status, seconds, seconds >= 0);
        if (log) {
            access_log(req, res, seconds);
        }
    };
    h.on_request_start = [&m] { m.request_started(); };
    h.on_shed = [&m] { m.count_connection_shed(); };
    h.on_waiting = [&m](size_t n) { m.set_connections_waiting(static_cast<int64_t>(n)); };

    // Signals go to one thread that waits for them; every other thread
    // (the server's, created later) inherits the blocked mask.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    serve::http_server svr(c.server, h);  // throws input_error for an unusable certificate or key
    const int port = svr.bind();

    std::atomic<bool> serving_done{false};
    std::thread stopper([&] {
        int sig = 0;
        sigwait(&stop_signals, &sig);
        if (serving_done) {
            return;
        }
        std::fprintf(stderr, "fer serve: %s, finishing the requests in flight (at most %d s)\n",
                     sig == SIGINT ? "SIGINT" : "SIGTERM", c.server.shutdown_timeout_ms / 1000);
        svr.stop();
    });

    const serve::server_options & o = c.server;
    std::printf("fer serve: listening on %s://%s:%d (%zu threads, %zu workers, queue %zu, %zu connections%s%s)\n",
                o.tls_cert.empty() ? "http" : "https", o.host.c_str(), port, o.threads, c.workers, o.queue,
                o.max_connections, c.api.api_key.empty() ? "" : ", API key required",
                site ? (", site " + site->root().string()).c_str() : ", no site");
    if (c.phone) {
        print_phone_addresses(lan, port, site != nullptr, self_signed);
    }
    std::fflush(stdout);
    const bool joined = svr.run();
    serving_done = true;
    pthread_kill(stopper.native_handle(), SIGTERM);  // wakes the stopper if no signal came
    stopper.join();
    std::fprintf(stderr, "fer serve: stopped\n");
    if (!joined) {
        // A worker is still inside an analysis that cannot be interrupted;
        // the shutdown bound wins: leave without running destructors.
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(0);
    }
    return 0;
}

}  // namespace fer
