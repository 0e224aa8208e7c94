// The HTTP API of `fer serve` (/v1/predict, /v1/model, /healthz, /metrics)
// and the routes that answer everything else: the static site, 404 and 405.
#pragma once

#include "compute-gate.h"
#include "fer-pipeline.h"
#include "metrics.h"
#include "static-site.h"

#include <httplib.h>

#include <cstdint>
#include <string>

namespace fer::serve {

struct api_options {
    size_t max_body_bytes = 10u << 20;
    int64_t max_pixels = 0;              // decoded image size limit, checked on the header before decoding
    std::string api_key;                 // empty: /v1/* is open
    size_t workers = 1;                  // images analysed at once (see compute_gate)
    fer_pipeline_params defaults{};      // pipeline settings a request's query may override
};

class api {
public:
    // model and det are shared by every worker thread (both are immutable);
    // each thread gets its own fer_context.
    api(const fer_model * model, const fer_detector * det, std::string model_json, api_options options,
        metrics & m);

    void add_routes(httplib::Server & svr) const;
    // After add_routes: GET/HEAD for the site (when not NULL), 405 for known
    // paths asked with the wrong method, 404 for the rest. Bodies sent to
    // those routes are not read (they could be chunked and endless).
    void add_fallback_routes(httplib::Server & svr, const static_site * site) const;

private:
    bool authorized(const httplib::Request & req, httplib::Response & res) const;
    void predict(const httplib::Request & req, httplib::Response & res, const httplib::ContentReader & reader) const;

    const fer_model * model_;
    const fer_detector * det_;
    std::string model_json_;
    api_options options_;
    metrics & metrics_;
    mutable compute_gate gate_;
};

}  // namespace fer::serve
