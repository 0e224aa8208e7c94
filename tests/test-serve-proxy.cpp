// The reverse-proxy recipe of docs/serving.md, exercised: Debian's nginx
// (config written to a temporary folder, run in the foreground with that
// folder as its prefix) terminates TLS in front of `fer serve` on loopback,
// and a predict goes through it. Skips with a message when nginx or the
// openssl command is not installed.
#include "serve-harness.h"
#include "test-util.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <fcntl.h>

#include <fstream>
#include <regex>

using namespace serve_test;

namespace {

std::string find_nginx() {
    for (const char * p : {"/usr/sbin/nginx", "/usr/bin/nginx"}) {
        if (::access(p, X_OK) == 0) {
            return p;
        }
    }
    return "";
}

// A port nobody listens on now (bound, read, released: a small race, fine on a test machine).
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// The recipe of docs/serving.md with the paths of this test (keep the two in step).
std::string nginx_conf(const std::string & dir, int listen_port, int fer_port) {
    std::string c = R"(daemon off;
worker_processes 1;
pid DIR/nginx.pid;
error_log DIR/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path DIR/body;
    proxy_temp_path DIR/proxy;
    fastcgi_temp_path DIR/fastcgi;
    uwsgi_temp_path DIR/uwsgi;
    scgi_temp_path DIR/scgi;

    upstream fer { server 127.0.0.1:FER_PORT; keepalive 16; }
    server {
        listen 127.0.0.1:LISTEN_PORT ssl;
        ssl_certificate     DIR/cert.pem;
        ssl_certificate_key DIR/key.pem;
        client_max_body_size 10m;              # = fer serve --max-body
        client_header_timeout 10s;             # slow heads and bodies stop at nginx
        client_body_timeout 10s;
        large_client_header_buffers 4 8k;
        location / {
            proxy_pass http://fer;
            proxy_http_version 1.1;
            proxy_set_header Connection "";    # keep-alive to fer serve
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_request_buffering on;        # nginx reads slow uploads, not fer
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
        }
    }
}
)";
    c = std::regex_replace(c, std::regex("DIR"), dir);
    c = std::regex_replace(c, std::regex("FER_PORT"), std::to_string(fer_port));
    c = std::regex_replace(c, std::regex("LISTEN_PORT"), std::to_string(listen_port));
    // As root, nginx would switch its worker to `nobody`, who cannot write the temp folder.
    return (::geteuid() == 0 ? "user root;\n" : "") + c;
}

}  // namespace

TEST(ServeProxy, NginxInFrontOfFerServe) {
    const std::string nginx = find_nginx();
    if (nginx.empty()) {
        GTEST_SKIP() << "nginx is not installed (Debian: apt-get install nginx; scripts/setup.sh does)";
    }
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
        GTEST_SKIP() << "the openssl command is absent: cannot make the proxy's test certificate";
    }
    fer_test::temp_dir dir("fer-nginx");
    const std::string d = dir.path().string();
    ASSERT_EQ(std::system(("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 -keyout " + d +
                           "/key.pem -out " + d + "/cert.pem >/dev/null 2>&1")
                              .c_str()),
              0);
    server fer({"--site", "none", "--quiet"});
    ASSERT_GT(fer.port(), 0) << fer.log();
    const int port = free_port();
    std::ofstream(d + "/nginx.conf") << nginx_conf(d, port, fer.port());

    const pid_t pid = fork();
    if (pid == 0) {
        const int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(nginx.c_str(), nginx.c_str(), "-p", d.c_str(), "-c", (d + "/nginx.conf").c_str(), "-e",
              (d + "/error.log").c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    struct reap {
        pid_t pid;
        ~reap() {
            kill(pid, SIGQUIT);
            waitpid(pid, nullptr, 0);
        }
    } nginx_process{pid};
    int fd = -1;
    for (int i = 0; i < 100 && fd < 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        fd = connect_to(port);
    }
    ASSERT_GE(fd, 0) << "nginx did not start: " << read_file(d + "/error.log");
    close(fd);

    httplib::SSLClient tls("127.0.0.1", port);
    tls.enable_server_certificate_verification(false);  // self-signed for the test
    tls.set_read_timeout(60);
    cv::setRNGSeed(5);
    cv::Mat noise(80, 80, CV_8UC3);
    cv::randu(noise, cv::Scalar::all(0), cv::Scalar::all(255));
    std::vector<uchar> png;
    cv::imencode(".png", noise, png);
    auto r = tls.Post("/v1/predict", std::string(png.begin(), png.end()), "image/png");
    ASSERT_TRUE(r) << httplib::to_string(r.error()) << "\n" << read_file(d + "/error.log");
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->body.find("\"faces\": []"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("\"width\": 80"), std::string::npos) << r->body;
    // Errors pass through as fer's JSON; the body limit is enforced by nginx first.
    auto bad = tls.Post("/v1/predict", "not an image", "image/jpeg");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->status, 400);
    EXPECT_NE(bad->body.find("\"error\""), std::string::npos);
    auto big = tls.Post("/v1/predict", std::string(11u << 20, 'x'), "image/jpeg");
    if (big) {  // nginx may close while the body is still being sent
        EXPECT_EQ(big->status, 413);
    }
    auto health = tls.Get("/healthz");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    EXPECT_EQ(fer.stop(), 0) << fer.log();
}
