// The HTTP API of `fer serve` (/v1/predict, /v1/model, /healthz[/ready|/live], /metrics)
// and the routes that answer everything else: the static site, 404 and 405.
// on_head runs on the server's front thread as soon as a request head is
// parsed: it answers what needs no work (probes, metrics, the model, every
// error the head shows: 401 before 413/415), so that these never wait
// behind image analysis. on_request runs on a worker with the whole body.
#pragma once

#include "compute-gate.h"
#include "fer-pipeline.h"
#include "http-server.h"
#include "metrics.h"
#include "static-site.h"

#include <cstdint>
#include <string>

namespace fer::serve {

struct api_options {
    size_t max_body_bytes = 10u << 20;
    int64_t max_pixels = 0;              // decoded image size limit, checked on the header before decoding
    std::string api_key;                 // empty: /v1/* is open
    size_t workers = 1;                  // images analysed at once (see compute_gate)
    size_t queue = 64;                   // the server's --queue: /healthz/ready fails when it is full
    fer_pipeline_params defaults{};      // pipeline settings a request's query may override
};

class api {
public:
    // model and det are shared by every worker thread (both are immutable);
    // each thread gets its own fer_context. site may be NULL (no site).
    api(const fer_model * model, const fer_detector * det, std::string model_json, api_options options,
        metrics & m, const static_site * site);

    head_decision on_head(const http_request & req, http_response & res) const;
    void on_request(http_request & req, http_response & res) const;

private:
    bool authorized(const http_request & req, http_response & res) const;
    void predict(http_request & req, http_response & res) const;

    const fer_model * model_;
    const fer_detector * det_;
    std::string model_json_;
    api_options options_;
    metrics & metrics_;
    const static_site * site_;
    mutable compute_gate gate_;
};

}  // namespace fer::serve
