#include "api.h"

#include "face-json.h"
#include "http-errors.h"
#include "image-header.h"
#include "image-load.h"
#include "predict-request.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace fer::serve {

namespace {

// The largest number of faces one answer describes (FER pipeline output
// buffer); a request may ask for fewer with max_faces.
constexpr int32_t k_max_faces = 64;

// Bodies sent to routes that take none are read up to this size, then dropped.
constexpr size_t k_drain_bytes = 64u << 10;

// Worker threads live as long as the server, so a context per thread costs
// one arena per thread and no locking.
fer_context * thread_context(const fer_model * model) {
    struct context_free {
        void operator()(fer_context * c) const { fer_context_free(c); }
    };
    thread_local std::unique_ptr<fer_context, context_free> ctx;
    if (!ctx) {
        ctx.reset(fer_context_new(model));
    }
    return ctx.get();
}

bool is_api_get_path(const std::string & p) { return p == "/v1/model" || p == "/healthz" || p == "/metrics"; }

// Unread request bodies make the connection unusable for a next request.
void close_after(httplib::Response & res) { res.set_header("Connection", "close"); }

}  // namespace

api::api(const fer_model * model, const fer_detector * det, std::string model_json, api_options options, metrics & m)
    : model_(model),
      det_(det),
      model_json_(std::move(model_json)),
      options_(std::move(options)),
      metrics_(m),
      gate_(options_.workers) {}

bool api::authorized(const httplib::Request & req, httplib::Response & res) const {
    if (options_.api_key.empty()) {
        return true;
    }
    const std::string expected = "Bearer " + options_.api_key;
    const std::string got = req.get_header_value("Authorization");
    // Constant-time comparison: the time to reject must not tell how many
    // leading characters of a guess were right.
    if (got.size() == expected.size() && CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0) {
        return true;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, got.empty() ? "missing Authorization: Bearer <key>" : "wrong API key");
    return false;
}

void api::add_routes(httplib::Server & svr) const {
    svr.Get("/healthz", [](const httplib::Request &, httplib::Response & res) {
        res.set_content("{\"status\": \"ok\"}\n", "application/json");
    });
    svr.Get("/metrics", [this](const httplib::Request &, httplib::Response & res) {
        res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    svr.Get("/v1/model", [this](const httplib::Request & req, httplib::Response & res) {
        if (authorized(req, res)) {
            res.set_content(model_json_, "application/json");
        }
    });
    svr.Post("/v1/predict",
             [this](const httplib::Request & req, httplib::Response & res, const httplib::ContentReader & reader) {
                 predict(req, res, reader);
             });
}

void api::add_fallback_routes(httplib::Server & svr, const static_site * site) const {
    svr.Get(".*", [site](const httplib::Request & req, httplib::Response & res) {
        if (req.path == "/v1/predict") {
            res.set_header("Allow", "POST");
            send_error(res, 405, "use POST for /v1/predict");
        } else if (!site || !site->serve(req, res)) {
            send_error(res, 404, "not found: " + req.path);
        }
    });
    const auto wrong_method = [site](const httplib::Request & req, httplib::Response & res) {
        if (req.path == "/v1/predict") {
            res.set_header("Allow", "POST");
        } else if (is_api_get_path(req.path) || (site && site->resolve(req.path))) {
            res.set_header("Allow", "GET, HEAD");
        } else {
            send_error(res, 404, "not found: " + req.path);
            return;
        }
        send_error(res, 405, "method " + req.method + " not allowed on " + req.path);
    };
    // Content-reader handlers, so that httplib does not read the body first:
    // a small one is read and dropped (closing on unread data makes TCP reset
    // the connection, and the client could lose the answer), a larger one,
    // possibly chunked and endless, is not, and the connection is closed.
    const auto unread_body = [wrong_method](const httplib::Request & req, httplib::Response & res,
                                            const httplib::ContentReader & reader) {
        size_t n = 0;
        if (!reader([&n](const char *, size_t len) { return (n += len) <= k_drain_bytes; })) {
            close_after(res);
        }
        wrong_method(req, res);
    };
    svr.Post(".*", unread_body);
    svr.Put(".*", unread_body);
    svr.Patch(".*", unread_body);
    svr.Delete(".*", unread_body);
    svr.Options(".*", wrong_method);
}

void api::predict(const httplib::Request & req, httplib::Response & res, const httplib::ContentReader & reader) const {
    std::string bytes, file_name;
    if (const request_error e = read_image_body(req, reader, options_.max_body_bytes, bytes, file_name); e.status) {
        close_after(res);
        send_error(res, e.status, e.message);
        return;
    }
    // The body is read, so the connection stays usable whatever comes next.
    if (!authorized(req, res)) {
        return;
    }
    fer_pipeline_params params = options_.defaults;
    if (const request_error e = parse_pipeline_query(req, k_max_faces, params); e.status) {
        send_error(res, e.status, e.message);
        return;
    }
    fer_context * ctx = thread_context(model_);
    if (!ctx) {
        send_error(res, 500, "cannot create an inference context (out of memory?)");
        return;
    }
    image_header header;
    std::string err;
    if (!read_image_header(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), &header, &err)) {
        send_error(res, 400, "undecodable image: " + err);
        return;
    }
    if (header.width * header.height > options_.max_pixels) {
        send_error(res, 413, std::string(header.format) + " image of " + std::to_string(header.width) + "x" +
                                 std::to_string(header.height) + " pixels is above the limit of " +
                                 std::to_string(options_.max_pixels) + " pixels (--max-pixels)");
        return;
    }
    std::vector<fer_face> faces(k_max_faces);
    int32_t n_faces = 0;
    loaded_image img;
    {
        const compute_gate::pass pass(gate_);
        if (!load_image_buffer(bytes.data(), bytes.size(), &img, &err)) {
            send_error(res, 400, "undecodable image: " + err);
            return;
        }
        bytes = std::string();  // the encoded copy is no longer needed
        fer_detect_status ds = FER_DETECT_OK;
        const int st = fer_analyze_image(ctx, det_, img.bgr.data, img.width, img.height,
                                         static_cast<int32_t>(img.bgr.step), FER_PIXEL_BGR, &params, faces.data(),
                                         k_max_faces, &n_faces, &ds);
        if (st != FER_OK) {
            send_error(res, ds == FER_DETECT_ERR_TOO_LARGE ? 413 : 500,
                       std::string("face analysis failed: ") +
                           (ds != FER_DETECT_OK ? fer_detect_status_name(ds) : fer_status_string(st)));
            return;
        }
    }
    const int32_t n_written = std::min(n_faces, k_max_faces);
    metrics_.count_faces(n_written);
    faces.resize(static_cast<size_t>(n_written));
    res.set_content(faces_to_json(file_name, img.width, img.height, faces) + "\n", "application/json");
}

}  // namespace fer::serve
