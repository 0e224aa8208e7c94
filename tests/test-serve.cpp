// End-to-end tests of `fer serve`: the real executable on a loopback port,
// talked to over HTTP with httplib's client and over raw sockets (malformed
// requests, path traversal, slow uploads). Photos with faces come from
// ../shared/data/faces; the tests that need them skip when it is absent, and
// the repository's samples/group-photo.jpg stands in where it can.
#include "serve-harness.h"
#include "test-util.h"

#include <httplib.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

using namespace serve_test;

const std::string k_faces = std::string(FER_SHARED_DATA) + "/faces";

bool have_photos() { return fs::exists(k_faces + "/Tom_Cruise_avp_2014_4.jpg"); }

// The repository's own photo of several people (samples/): the predict tests
// that must run in a fresh clone use it.
const std::string k_group = std::string(FER_SOURCE_DIR) + "/samples/group-photo.jpg";

#define REQUIRE_PHOTOS()                                                                      \
    if (!have_photos()) {                                                                     \
        GTEST_SKIP() << k_faces << " is absent: the photos with faces are not available here"; \
    }

// A PNG of random noise: decodable, no face.
std::string noise_png(int w, int h, unsigned seed) {
    cv::setRNGSeed(static_cast<int>(seed));
    cv::Mat m(h, w, CV_8UC3);
    cv::randu(m, cv::Scalar::all(0), cv::Scalar::all(255));
    std::vector<uchar> out;
    cv::imencode(".png", m, out);
    return std::string(out.begin(), out.end());
}

// The same pixels as a JPEG file, losslessly re-encoded as PNG.
std::string jpeg_as_png(const std::string & jpeg_path) {
    const cv::Mat m = cv::imread(jpeg_path, cv::IMREAD_COLOR);
    std::vector<uchar> out;
    cv::imencode(".png", m, out);
    return std::string(out.begin(), out.end());
}

size_t count_of(const std::string & s, const std::string & needle) {
    size_t n = 0;
    for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) {
        ++n;
    }
    return n;
}

// The answer without its "file" field, which names the upload.
std::string without_file(const std::string & json) {
    const size_t a = json.find("\"file\": \"");
    if (a == std::string::npos) {
        return json;
    }
    const size_t b = json.find('"', a + 9);
    return json.substr(0, a) + json.substr(b + 1);
}

httplib::Client client_of(const server & s) {
    httplib::Client c("127.0.0.1", s.port());
    c.set_read_timeout(60);
    c.set_write_timeout(60);
    return c;
}

int status_of(const httplib::Result & r) { return r ? r->status : -1; }

void expect_json_error(const httplib::Result & r, int status, const std::string & needle = "") {
    ASSERT_TRUE(r) << "no answer: " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(r->body.find("\"error\": {\"status\": " + std::to_string(status) + ", \"message\": \""),
              std::string::npos)
        << r->body;
    if (!needle.empty()) {
        EXPECT_NE(r->body.find(needle), std::string::npos) << r->body;
    }
}

}  // namespace

TEST(Serve, StartsAndDescribesTheModel) {
    server s({"--site", "none"});
    ASSERT_GT(s.port(), 0) << "server did not start: " << s.banner() << s.log();
    auto c = client_of(s);
    auto h = c.Get("/healthz");
    ASSERT_EQ(status_of(h), 200);
    EXPECT_NE(h->body.find("\"ok\""), std::string::npos);

    auto m = c.Get("/v1/model");
    ASSERT_EQ(status_of(m), 200);
    EXPECT_EQ(m->get_header_value("Content-Type"), "application/json");
    EXPECT_NE(m->body.find("\"classes\": [\"angry\", \"disgust\", \"fear\", \"happy\", \"sad\", \"surprise\", "
                           "\"neutral\"]"),
              std::string::npos)
        << m->body;
    // The hash must be the model file's, computed independently.
    FILE * p = popen(("sha256sum " + k_model).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char hex[65] = "";
    ASSERT_EQ(std::fscanf(p, "%64s", hex), 1);
    pclose(p);
    EXPECT_NE(m->body.find(std::string("\"sha256\": \"") + hex + "\""), std::string::npos) << m->body;
    EXPECT_NE(m->body.find("\"width\": 48"), std::string::npos);
    EXPECT_EQ(s.stop(), 0) << s.log();
}

TEST(Serve, PredictsOneFaceSeveralFacesAndNone) {
    REQUIRE_PHOTOS();
    server s({"--site", "none"});
    ASSERT_GT(s.port(), 0) << s.log();
    auto c = client_of(s);
    const std::string tom = read_file(k_faces + "/Tom_Cruise_avp_2014_4.jpg");

    auto one = c.Post("/v1/predict", tom, "image/jpeg");
    ASSERT_EQ(status_of(one), 200) << (one ? one->body : "");
    EXPECT_EQ(one->get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(count_of(one->body, "\"box\""), 1u) << one->body;
    EXPECT_NE(one->body.find("\"width\": 565, \"height\": 800"), std::string::npos) << one->body;

    // The same pixels as PNG, and as a multipart upload: the same answer.
    auto png = c.Post("/v1/predict", jpeg_as_png(k_faces + "/Tom_Cruise_avp_2014_4.jpg"), "image/png");
    ASSERT_EQ(status_of(png), 200);
    EXPECT_EQ(without_file(png->body), without_file(one->body));
    httplib::MultipartFormDataItems form = {{"image", tom, "tom.jpg", "image/jpeg"}};
    auto multi = c.Post("/v1/predict", form);
    ASSERT_EQ(status_of(multi), 200);
    EXPECT_NE(multi->body.find("\"file\": \"tom.jpg\""), std::string::npos);
    EXPECT_EQ(without_file(multi->body), without_file(one->body));

    auto many = c.Post("/v1/predict", read_file(k_faces + "/solvay_conference.jpg"), "image/jpeg");
    ASSERT_EQ(status_of(many), 200);
    const size_t n_many = count_of(many->body, "\"box\"");
    // 29 people; at the default smallest face (the pipeline's) the detector finds the larger ones.
    EXPECT_GE(n_many, 3u) << many->body;
    auto capped = c.Post("/v1/predict?max_faces=3&min_face=20&min_confidence=0.99", read_file(k_faces + "/solvay_conference.jpg"),
                         "image/jpeg");
    ASSERT_EQ(status_of(capped), 200);
    EXPECT_EQ(count_of(capped->body, "\"box\""), 3u) << capped->body;
    EXPECT_EQ(count_of(capped->body, "\"uncertain\": true"), 3u) << capped->body;

    auto none = c.Post("/v1/predict", read_file(k_faces + "/dogs.jpg"), "image/jpeg");
    ASSERT_EQ(status_of(none), 200);
    EXPECT_NE(none->body.find("\"faces\": []"), std::string::npos) << none->body;

    // The metrics saw exactly these requests and faces. The server counts a
    // request after writing its answer, so the last one may take a moment.
    std::string metrics;
    for (int i = 0; i < 100; ++i) {
        auto m = c.Get("/metrics");
        ASSERT_EQ(status_of(m), 200);
        metrics = m->body;
        if (metrics.find("fer_http_request_duration_seconds_count{route=\"/v1/predict\"} 6") != std::string::npos) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_NE(metrics.find("fer_http_requests_total{route=\"/v1/predict\",status=\"200\"} 6"), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("fer_faces_detected_total " + std::to_string(1 + 1 + 1 + n_many + 3)), std::string::npos)
        << metrics;
    EXPECT_NE(metrics.find("fer_http_requests_in_flight 1"), std::string::npos);  // this /metrics request
    EXPECT_EQ(s.stop(), 0);
    EXPECT_NE(s.log().find("\"POST /v1/predict\" 200"), std::string::npos) << "access log: " << s.log();
}

// The repository's group photo (no ../shared needed): its faces found and
// classified, the same answer for its JPEG, the same pixels as PNG and a
// multipart upload; no face in noise.
TEST(Serve, PredictsTheRepositoryGroupPhoto) {
    server s({"--site", "none"});
    ASSERT_GT(s.port(), 0) << s.log();
    auto c = client_of(s);
    const std::string group = read_file(k_group);
    ASSERT_FALSE(group.empty()) << k_group;
    auto jpg = c.Post("/v1/predict", group, "image/jpeg");
    ASSERT_EQ(status_of(jpg), 200) << (jpg ? jpg->body : "");
    EXPECT_GE(count_of(jpg->body, "\"box\""), 4u) << jpg->body;
    EXPECT_NE(jpg->body.find("\"width\": 640, \"height\": 360"), std::string::npos) << jpg->body;
    auto png = c.Post("/v1/predict", jpeg_as_png(k_group), "image/png");
    ASSERT_EQ(status_of(png), 200);
    EXPECT_EQ(without_file(png->body), without_file(jpg->body));
    httplib::MultipartFormDataItems form = {{"image", group, "group.jpg", "image/jpeg"}};
    auto multi = c.Post("/v1/predict", form);
    ASSERT_EQ(status_of(multi), 200);
    EXPECT_NE(multi->body.find("\"file\": \"group.jpg\""), std::string::npos);
    EXPECT_EQ(without_file(multi->body), without_file(jpg->body));
    auto none = c.Post("/v1/predict", noise_png(320, 240, 4), "image/png");
    ASSERT_EQ(status_of(none), 200);
    EXPECT_NE(none->body.find("\"faces\": []"), std::string::npos) << none->body;
    EXPECT_EQ(s.stop(), 0) << s.log();
}

// `fer predict --json` and the server must describe a photo identically, with
// flip test-time augmentation and the best mode too (which must change the
// probabilities). The shared conference photo when present, else the
// repository's group photo.
TEST(Serve, AnswersWhatFerPredictPrints) {
    const std::string photo = have_photos() ? k_faces + "/solvay_conference.jpg" : k_group;
    server s({"--site", "none"});
    const char * cli_options[3] = {" ", " --tta flip ", " --quality best "};
    const char * queries[3] = {"/v1/predict", "/v1/predict?tta=flip", "/v1/predict?quality=best"};
    std::string answers[3];
    for (int mode = 0; mode < 3; ++mode) {
        FILE * p = popen((std::string(FER_EXE) + " predict --json --model " + k_model + cli_options[mode] + photo +
                          " 2>/dev/null")
                             .c_str(),
                         "r");
        ASSERT_NE(p, nullptr);
        std::string cli;
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0) {
            cli.append(buf, n);
        }
        pclose(p);
        if (cli.find("\"faces\"") == std::string::npos) {
            GTEST_SKIP() << "fer predict --json does not print the face pipeline's JSON in this build";
        }
        auto r = client_of(s).Post(queries[mode], read_file(photo), "image/jpeg");
        ASSERT_EQ(status_of(r), 200);
        const std::string body = without_file(r->body);
        const std::string obj = body.substr(0, body.find_last_not_of("\n") + 1);
        EXPECT_NE(without_file(cli).find(obj.substr(1, obj.size() - 2)), std::string::npos)
            << queries[mode] << " server: " << obj << "\ncli: " << cli;
        answers[mode] = obj;
    }
    EXPECT_NE(answers[0], answers[1]) << "flip TTA changed no probability";
    EXPECT_NE(answers[0], answers[2]) << "the best mode changed no probability";
    EXPECT_NE(answers[1], answers[2]) << "the best mode is flip TTA";
    expect_json_error(client_of(s).Post("/v1/predict?tta=mirror", read_file(photo), "image/jpeg"), 400, "tta");
    expect_json_error(client_of(s).Post("/v1/predict?quality=great", read_file(photo), "image/jpeg"), 400, "quality");
}

TEST(Serve, EveryErrorIsJsonWithItsStatus) {
    server s({"--site", "none", "--max-body", "1", "--max-pixels", "10000"});
    ASSERT_GT(s.port(), 0) << s.log();
    auto c = client_of(s);
    const std::string small = noise_png(64, 64, 1);

    expect_json_error(c.Post("/v1/predict", "not an image at all", "image/jpeg"), 400, "undecodable image");
    const std::string cut = noise_png(80, 80, 2);
    expect_json_error(c.Post("/v1/predict", cut.substr(0, cut.size() / 2), "image/png"), 400, "undecodable");
    expect_json_error(c.Post("/v1/predict?max_faces=-1", small, "image/png"), 400, "max_faces");
    expect_json_error(c.Post("/v1/predict?min_confidence=2", small, "image/png"), 400, "min_confidence");
    expect_json_error(c.Post("/v1/predict?cam=maybe", small, "image/png"), 400, "cam");
    expect_json_error(c.Post("/v1/predict?colour=red", small, "image/png"), 400, "unknown query parameter");
    httplib::MultipartFormDataItems wrong_field = {{"picture", small, "a.png", "image/png"}};
    expect_json_error(c.Post("/v1/predict", wrong_field), 400, "'image'");

    expect_json_error(c.Get("/no/such/thing"), 404, "not found");
    expect_json_error(c.Get("/v1/predict"), 405);
    expect_json_error(c.Post("/healthz", "x", "text/plain"), 405);
    expect_json_error(c.Delete("/v1/model"), 405);

    expect_json_error(c.Post("/v1/predict", std::string((1u << 20) + 1, 'x'), "image/png"), 413, "--max-body");
    expect_json_error(c.Post("/v1/predict", noise_png(200, 100, 3), "image/png"), 413, "--max-pixels");

    expect_json_error(c.Post("/v1/predict", small, "text/plain"), 415, "image/jpeg");
    expect_json_error(c.Post("/v1/predict", small, "application/octet-stream"), 415);
    httplib::MultipartFormDataItems gif = {{"image", "GIF89a", "a.gif", "image/gif"}};
    expect_json_error(c.Post("/v1/predict", gif), 415, "image/gif");

    // The server is still well after all that.
    auto ok = c.Post("/v1/predict", small, "image/png");
    ASSERT_EQ(status_of(ok), 200);
    EXPECT_NE(ok->body.find("\"faces\": []"), std::string::npos) << ok->body;
    EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, ApiKeyGuardsTheApiOnly) {
    server s({"--site", "none", "--api-key", "s3cret-key"});
    ASSERT_GT(s.port(), 0) << s.log();
    auto c = client_of(s);
    const std::string img = noise_png(64, 64, 4);
    expect_json_error(c.Post("/v1/predict", img, "image/png"), 401, "missing");
    expect_json_error(c.Get("/v1/model"), 401);
    httplib::Headers wrong = {{"Authorization", "Bearer s3cret-kez"}};
    auto w = c.Post("/v1/predict", wrong, img, "image/png");
    expect_json_error(w, 401, "wrong API key");
    EXPECT_EQ(w->get_header_value("WWW-Authenticate"), "Bearer");
    httplib::Headers right = {{"Authorization", "Bearer s3cret-key"}};
    EXPECT_EQ(status_of(c.Post("/v1/predict", right, img, "image/png")), 200);
    EXPECT_EQ(status_of(c.Get("/v1/model", right)), 200);
    EXPECT_EQ(status_of(c.Get("/healthz")), 200);  // probes need no key
    EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, SurvivesMalformedHttp) {
    server s({"--site", "none", "--timeout", "2"});
    ASSERT_GT(s.port(), 0) << s.log();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"garbage line", "GARBAGE\r\n\r\n"},
        {"binary", std::string("\x00\x01\x02\xff\xfe\r\n\r\n", 9)},
        {"no version", "GET /healthz\r\n\r\n"},
        {"unknown method", "BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"bad chunk size", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                           "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"},
        {"short body", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\nabc"},
        {"non-numeric length", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                               "Content-Length: abc\r\n\r\n"},
        {"huge length", "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                        "Content-Length: 99999999999999999999\r\n\r\n"},
        {"long URI", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"},
        {"long header", "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(10000, 'b') + "\r\n\r\n"},
        {"bad range", "GET /healthz HTTP/1.1\r\nHost: x\r\nRange: bytes=zz\r\n\r\n"},
        {"head only, then close", "POST /v1/predict HTTP/1.1\r\nHost: x\r\n"},
    };
    for (const auto & [name, bytes] : cases) {
        const std::string answer = raw_exchange(s.port(), bytes, name == "head only, then close");
        // Either an HTTP error (4xx, JSON) or a closed connection; never a 2xx or a 5xx.
        if (!answer.empty()) {
            EXPECT_EQ(answer.rfind("HTTP/1.1 4", 0), 0u) << name << ": " << answer.substr(0, 200);
            EXPECT_NE(answer.find("\"error\""), std::string::npos) << name << ": " << answer.substr(0, 300);
        }
    }
    // Still alive, still right.
    const std::string ok = raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
    EXPECT_EQ(s.stop(), 0) << s.log();
}

TEST(Serve, StaticSiteStaysInsideItsFolder) {
    fer_test::temp_dir dir("fer-serve-site");
    const fs::path site = dir.path() / "site";
    fs::create_directories(site / "js");
    std::ofstream(site / "index.html") << "<!doctype html><title>fer</title>";
    std::ofstream(site / "js" / "app.js") << "console.log('fer');";
    std::ofstream(site / "fer.wasm", std::ios::binary) << std::string("\0asm\1\0\0\0", 8);
    std::ofstream(dir.path() / "secret.txt") << "TOP-SECRET";
    fs::create_symlink(dir.path() / "secret.txt", site / "leak.txt");
    fs::create_directory_symlink(dir.path(), site / "up");

    server s({"--site", site.string()});
    ASSERT_GT(s.port(), 0) << s.log();
    auto c = client_of(s);
    auto index = c.Get("/");
    ASSERT_EQ(status_of(index), 200);
    EXPECT_EQ(index->body, "<!doctype html><title>fer</title>");
    EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
    EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
    auto js = c.Get("/js/app.js");
    ASSERT_EQ(status_of(js), 200);
    EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
    auto wasm = c.Get("/fer.wasm");
    ASSERT_EQ(status_of(wasm), 200);
    EXPECT_EQ(wasm->get_header_value("Content-Type"), "application/wasm");
    EXPECT_EQ(wasm->body.size(), 8u);
    EXPECT_EQ(wasm->get_header_value("Cache-Control"), "public, max-age=3600");
    const std::string etag = wasm->get_header_value("ETag");
    ASSERT_FALSE(etag.empty());
    auto again = c.Get("/fer.wasm", {{"If-None-Match", etag}});
    EXPECT_EQ(status_of(again), 304);
    EXPECT_EQ(status_of(c.Get("/js/")), 404);  // no index.html there
    expect_json_error(c.Post("/index.html", "x", "text/plain"), 405);

    const std::vector<std::string> attacks = {
        "/../secret.txt",          "/%2e%2e/secret.txt",         "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",        "/js/../../secret.txt",       "/js/%2e%2e/%2e%2e/secret.txt",
        "/%252e%252e/secret.txt",  "/..\\secret.txt",            "/%2e%2e%5csecret.txt",
        "/leak.txt",               "/up/secret.txt",             "/.%2e/secret.txt",
        "/index.html%00.js",       "//../secret.txt",            "/./../secret.txt",
    };
    for (const auto & a : attacks) {
        const std::string answer =
            raw_exchange(s.port(), "GET " + a + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(answer.find("TOP-SECRET"), std::string::npos) << a;
        EXPECT_TRUE(answer.rfind("HTTP/1.1 404", 0) == 0 || answer.rfind("HTTP/1.1 400", 0) == 0)
            << a << ": " << answer.substr(0, 120);
    }
    EXPECT_EQ(s.stop(), 0);
    if (HasFailure()) {
        std::fprintf(stderr, "server log:\n%s\n", s.log().c_str());
    }
}

TEST(Serve, ConcurrentClientsGetTheirOwnAnswers) {
    server s({"--site", "none", "--threads", "8", "--workers", "2"});
    ASSERT_GT(s.port(), 0) << s.log();
    std::vector<std::string> images = {read_file(k_group)};  // faces even without ../shared
    if (have_photos()) {
        for (const char * f : {"Tom_Cruise_avp_2014_4.jpg", "solvay_conference.jpg", "dogs.jpg", "2008_001322.jpg"}) {
            images.push_back(read_file(k_faces + "/" + f));
        }
    }
    for (unsigned i = 0; i < 3; ++i) {
        images.push_back(noise_png(100 + 37 * static_cast<int>(i), 90 + 11 * static_cast<int>(i), i));
    }
    // Reference answers, one at a time.
    std::vector<std::string> expected;
    for (const auto & img : images) {
        auto r = client_of(s).Post("/v1/predict", img, img[0] == '\x89' ? "image/png" : "image/jpeg");
        ASSERT_EQ(status_of(r), 200);
        expected.push_back(r->body);
    }
    constexpr int k_clients = 8, k_rounds = 3;
    std::atomic<int> wrong{0}, failed{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < k_clients; ++t) {
        clients.emplace_back([&, t] {
            auto c = client_of(s);
            for (int r = 0; r < k_rounds; ++r) {
                const size_t i = static_cast<size_t>(t + r) % images.size();
                auto res = c.Post("/v1/predict", images[i], images[i][0] == '\x89' ? "image/png" : "image/jpeg");
                if (!res || res->status != 200) {
                    ++failed;
                } else if (res->body != expected[i]) {
                    ++wrong;
                }
            }
        });
    }
    for (auto & t : clients) {
        t.join();
    }
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(wrong.load(), 0);
    EXPECT_EQ(s.stop(), 0);
}

// Idle connections no longer hold a thread (the front reads every request
// before a worker sees it), so what runs out under many clients is the
// connection cap: past it, 503 with Retry-After at once.
TEST(Serve, AnswersBusyPastTheConnectionCap) {
    server s({"--site", "none", "--threads", "1", "--queue", "1", "--max-connections", "2", "--timeout", "3"});
    ASSERT_GT(s.port(), 0) << s.log();
    // Two idle connections take both places; the third is turned away.
    const int holder = connect_to(s.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const int waiter = connect_to(s.port());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::string busy = raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(busy.rfind("HTTP/1.1 503", 0), 0u) << busy;
    EXPECT_NE(busy.find("\"status\": 503"), std::string::npos) << busy;
    EXPECT_NE(busy.find("Retry-After: 1"), std::string::npos) << busy;
    close(holder);
    close(waiter);
    // Once the held connections are gone, requests are served again.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto ok = client_of(s).Get("/metrics");
    ASSERT_EQ(status_of(ok), 200);
    EXPECT_NE(ok->body.find("fer_connections_shed_total 1"), std::string::npos) << ok->body;
    EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, FinishesRequestsInFlightOnSigterm) {
    server s({"--site", "none"});
    ASSERT_GT(s.port(), 0) << s.log();
    const std::string img =
        have_photos() ? read_file(k_faces + "/Tom_Cruise_avp_2014_4.jpg") : noise_png(300, 200, 9);
    const char * type = have_photos() ? "image/jpeg" : "image/png";
    // An upload in progress: the head and half the body sent.
    const int fd = connect_to(s.port());
    ASSERT_GE(fd, 0);
    send_all(fd, std::string("POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: ") + type +
                     "\r\nContent-Length: " + std::to_string(img.size()) + "\r\n\r\n" + img.substr(0, img.size() / 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    kill(s.pid(), SIGTERM);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // No new connection is accepted any more...
    const int late = connect_to(s.port());
    EXPECT_LT(late, 0) << "a connection was accepted after SIGTERM";
    if (late >= 0) {
        close(late);
    }
    // ...but the upload in flight completes and gets its answer.
    send_all(fd, img.substr(img.size() / 2));
    const std::string answer = read_response(fd);
    close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer.substr(0, 300);
    EXPECT_NE(answer.find("\"faces\": ["), std::string::npos) << answer.substr(0, 300);
    EXPECT_EQ(s.stop(0), 0) << s.log();  // signal 0: only wait for the exit
    EXPECT_NE(s.log().find("stopped"), std::string::npos);
}

TEST(Serve, ServesHttpsWithACertificate) {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "the openssl command is absent: cannot make a test certificate";
    }
    fer_test::temp_dir dir("fer-serve-tls");
    const std::string cert = dir / "cert.pem", key = dir / "key.pem";
    const std::string make = "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout " + key +
                             " -out " + cert + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0);
    server s({"--site", "none", "--tls-cert", cert, "--tls-key", key});
    ASSERT_GT(s.port(), 0) << s.log();
    EXPECT_NE(s.banner().find("https://"), std::string::npos);
    httplib::SSLClient tls("127.0.0.1", s.port());
    tls.enable_server_certificate_verification(false);  // self-signed for the test
    auto r = tls.Post("/v1/predict", noise_png(64, 64, 5), "image/png");
    ASSERT_EQ(status_of(r), 200) << httplib::to_string(r.error());
    EXPECT_NE(r->body.find("\"faces\": []"), std::string::npos);
    // Plain HTTP on the TLS port gets no HTTP answer.
    EXPECT_EQ(raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").rfind("HTTP/1.1 200", 0),
              std::string::npos);
    EXPECT_EQ(s.stop(), 0);
}

TEST(Serve, RefusesBadOptionsWithTheRightExitCode) {
    const auto code = [](const std::string & args) {
        const int st = std::system((std::string(FER_EXE) + " serve " + args + " >/dev/null 2>&1").c_str());
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    };
    EXPECT_EQ(code("--tls-cert only.pem"), 1);
    EXPECT_EQ(code("--port 70000"), 1);
    EXPECT_EQ(code("--threads 0"), 1);
    EXPECT_EQ(code("--model /nonexistent/model.tflite --port 0"), 2);
    EXPECT_EQ(code("--site /nonexistent/site --port 0"), 2);
    EXPECT_EQ(code("--tls-cert /nonexistent.pem --tls-key /nonexistent.key --port 0"), 2);
    // A port already taken is a runtime failure.
    server s({"--site", "none"});
    ASSERT_GT(s.port(), 0);
    EXPECT_EQ(code("--site none --port " + std::to_string(s.port())), 3);
    EXPECT_EQ(s.stop(SIGINT), 0);
}
