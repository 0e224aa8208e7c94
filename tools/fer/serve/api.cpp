#include "api.h"

#include "face-json.h"
#include "http-errors.h"
#include "image-header.h"
#include "image-load.h"
#include "jpeg-check.h"
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

// Bodies of static-file requests are read up to this size, then dropped.
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

bool is_api_get_path(const std::string & p) {
    return p == "/v1/model" || p == "/healthz" || p == "/healthz/ready" || p == "/healthz/live" || p == "/metrics";
}

// Range requests are not served (whole bodies only, which RFC 9110 allows),
// but a malformed Range header is still an error, as it was with httplib.
bool valid_range(const std::string & v) {
    if (v.compare(0, 6, "bytes=") != 0 || v.size() == 6) {
        return false;
    }
    return v.find_first_not_of("0123456789-, ", 6) == std::string::npos && v.find('-') != std::string::npos;
}

}  // namespace

api::api(const fer_model * model, const fer_detector * det, std::string model_json, api_options options, metrics & m,
         const static_site * site)
    : model_(model),
      det_(det),
      model_json_(std::move(model_json)),
      options_(std::move(options)),
      metrics_(m),
      site_(site),
      gate_(options_.workers) {}

bool api::authorized(const http_request & req, http_response & res) const {
    if (options_.api_key.empty()) {
        return true;
    }
    const std::string expected = "Bearer " + options_.api_key;
    const std::string got = req.header_value("authorization");
    // Constant-time comparison: the time to reject must not tell how many
    // leading characters of a guess were right.
    if (got.size() == expected.size() && CRYPTO_memcmp(got.data(), expected.data(), got.size()) == 0) {
        return true;
    }
    res.set_header("WWW-Authenticate", "Bearer");
    send_error(res, 401, got.empty() ? "missing Authorization: Bearer <key>" : "wrong API key");
    return false;
}

head_decision api::on_head(const http_request & req, http_response & res) const {
    head_decision answered;
    answered.answered = true;
    const std::string & p = req.path;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (const std::string * range = req.header("range"); range && !valid_range(*range)) {
        send_error(res, 416, "bad Range header");
        return answered;
    }
    // Liveness (/healthz, /healthz/live): the front thread answers, so the
    // process is not wedged. Readiness (/healthz/ready): also worth sending work
    // to -- the model is loaded (it is before the server listens) and requests
    // are not already queueing up to --queue; a balancer (Kubernetes' readiness
    // probe) then sends new work to other replicas until this one drains.
    if (get && (p == "/healthz" || p == "/healthz/live")) {
        res.set_content("{\"status\": \"ok\"}\n", "application/json");
        return answered;
    }
    if (get && p == "/healthz/ready") {
        const int64_t waiting = metrics_.connections_waiting();
        const bool saturated = options_.queue > 0 && waiting >= static_cast<int64_t>(options_.queue);
        res.status = saturated ? 503 : 200;
        res.set_content(std::string("{\"status\": \"") + (saturated ? "saturated" : "ready") +
                            "\", \"model\": \"loaded\", \"waiting\": " + std::to_string(waiting) +
                            ", \"queue\": " + std::to_string(options_.queue) + "}\n",
                        "application/json");
        if (saturated) {
            res.set_header("Retry-After", "1");
        }
        return answered;
    }
    if (get && p == "/metrics") {
        res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
        return answered;
    }
    if (get && p == "/v1/model") {
        if (authorized(req, res)) {
            res.set_content(model_json_, "application/json");
        }
        return answered;
    }
    if (p == "/v1/predict") {
        if (req.method != "POST") {
            res.set_header("Allow", "POST");
            send_error(res, 405, get ? "use POST for /v1/predict" : "method " + req.method + " not allowed on " + p);
            return answered;
        }
        // The key first: an unauthenticated caller learns nothing about the limits.
        if (!authorized(req, res)) {
            return answered;
        }
        fer_pipeline_params params = options_.defaults;
        request_error e = check_predict_content_type(req);
        if (!e.status) {
            e = parse_pipeline_query(req, k_max_faces, params);
        }
        if (e.status) {
            send_error(res, e.status, e.message);
            return answered;
        }
        head_decision read_body;
        read_body.max_body = options_.max_body_bytes;
        read_body.too_large = "request body larger than the limit of " + std::to_string(options_.max_body_bytes >> 20) +
                              " MB (--max-body)";
        return read_body;
    }
    if (is_api_get_path(p) || (!get && site_ && site_->resolve(p))) {
        res.set_header("Allow", "GET, HEAD");
        send_error(res, 405, "method " + req.method + " not allowed on " + p);
        return answered;
    }
    if (!get || !site_) {
        send_error(res, 404, "not found: " + p);
        return answered;
    }
    // A static file: read from disk on a worker, not here.
    head_decision read_body;
    read_body.max_body = k_drain_bytes;
    read_body.too_large = "request body larger than " + std::to_string(k_drain_bytes >> 10) + " KB on " + p;
    return read_body;
}

void api::on_request(http_request & req, http_response & res) const {
    if (req.path == "/v1/predict") {
        predict(req, res);
    } else if (!site_ || !site_->serve(req, res)) {
        send_error(res, 404, "not found: " + req.path);
    }
}

void api::predict(http_request & req, http_response & res) const {
    std::string bytes, file_name;
    if (const request_error e = read_image_body(req, bytes, file_name); e.status) {
        send_error(res, e.status, e.message);
        return;
    }
    req.body = std::string();  // the image is in `bytes` now
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
    // Each side is at most 2^24 (read_image_header), so the product cannot overflow.
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
        if (std::string(header.format) == "JPEG" &&
            !jpeg_scans_complete(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), &err)) {
            send_error(res, 400, "undecodable image: " + err);
            return;
        }
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
