// The real `fer serve` process on a loopback port, and raw-socket helpers,
// shared by tests/test-serve.cpp and tests/test-serve-hostile.cpp.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace serve_test {

inline const std::string k_model = std::string(FER_SOURCE_DIR) + "/models/fernet.tflite";

inline std::string read_file(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The server on a port it picked itself (--port 0, read from its first line
// of output, so no race for a free port). stderr goes to a log file.
class server {
public:
    explicit server(std::vector<std::string> args) {
        int out[2];
        if (pipe(out) != 0) {
            return;
        }
        log_path_ = std::filesystem::temp_directory_path() /
                    ("fer-serve-log-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
        args.insert(args.begin(), {FER_EXE, "serve", "--port", "0", "--model", k_model});
        pid_ = fork();
        if (pid_ == 0) {
            dup2(out[1], 1);
            FILE * log = std::fopen(log_path_.c_str(), "w");
            if (log) {
                dup2(fileno(log), 2);
            }
            close(out[0]);
            std::vector<char *> argv;
            for (auto & a : args) {
                argv.push_back(a.data());
            }
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
        close(out[1]);
        FILE * f = fdopen(out[0], "r");
        char line[512] = "";
        if (f && std::fgets(line, sizeof line, f)) {
            banner_ = line;
            const size_t colon = banner_.find("127.0.0.1:");
            if (colon != std::string::npos) {
                port_ = std::atoi(banner_.c_str() + colon + 10);
            }
        }
        if (f) {
            std::fclose(f);
        }
    }
    ~server() {
        if (pid_ > 0 && !reaped_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        std::error_code ec;
        std::filesystem::remove(log_path_, ec);
    }
    server(const server &) = delete;
    server & operator=(const server &) = delete;
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string & banner() const { return banner_; }
    std::string log() const { return read_file(log_path_.string()); }

    // Sends `sig` (0: none) and waits for the exit code (-1 after 20 s or on a crash).
    int stop(int sig = SIGTERM) {
        if (sig) {
            kill(pid_, sig);
        }
        for (int i = 0; i < 2000; ++i) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                reaped_ = true;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }

    // Resident memory in bytes, from /proc/<pid>/status (VmRSS); 0 if unreadable.
    long long rss() const {
        std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
        std::string key;
        while (in >> key) {
            if (key == "VmRSS:") {
                long long kb = 0;
                in >> kb;
                return kb * 1024;
            }
            std::getline(in, key);
        }
        return 0;
    }

private:
    static std::atomic<int> & counter() {
        static std::atomic<int> c{0};
        return c;
    }
    pid_t pid_ = -1;
    int port_ = 0;
    bool reaped_ = false;
    std::string banner_;
    std::filesystem::path log_path_;
};

inline int connect_to(int port, int recv_timeout_s = 10) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    timeval tv{recv_timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

// False when the peer stopped taking bytes (closed, reset).
inline bool send_all(int fd, const std::string & s) {
    size_t off = 0;
    while (off < s.size()) {
        const ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        off += static_cast<size_t>(n);
    }
    return true;
}

// One HTTP response (head, then Content-Length bytes of body), or what came
// before the server closed or went silent for the socket's receive timeout.
// Bytes after the response stay in *rest (pipelining).
inline std::string read_response(int fd, std::string * rest = nullptr) {
    std::string r = rest ? *rest : std::string();
    char buf[4096];
    for (;;) {
        const size_t head_end = r.find("\r\n\r\n");
        if (head_end != std::string::npos) {
            size_t length = 0;
            const size_t cl = r.find("Content-Length: ");
            if (cl != std::string::npos && cl < head_end) {
                length = std::strtoull(r.c_str() + cl + 16, nullptr, 10);
            }
            if (r.size() >= head_end + 4 + length) {
                if (rest) {
                    *rest = r.substr(head_end + 4 + length);
                }
                return r.substr(0, head_end + 4 + length);
            }
        }
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            if (rest) {
                rest->clear();
            }
            return r;
        }
        r.append(buf, static_cast<size_t>(n));
    }
}

// Everything the server sends until it closes the connection, or until
// `limit_ms` passed (then *closed is false).
inline std::string read_until_close(int fd, int limit_ms, bool * closed) {
    std::string r;
    char buf[16384];
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit_ms);
    *closed = false;
    for (;;) {
        const int left = static_cast<int>(
            std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
        if (left <= 0) {
            return r;
        }
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0) {
            continue;
        }
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) {
            *closed = true;  // orderly close or reset: either way the connection is over
            return r;
        }
        r.append(buf, static_cast<size_t>(n));
    }
}

// Sends raw bytes and returns the server's answer. The sending side stays
// open unless half_close asks to shut it.
inline std::string raw_exchange(int port, const std::string & bytes, bool half_close = false) {
    const int fd = connect_to(port);
    if (fd < 0) {
        return "<connect failed>";
    }
    send_all(fd, bytes);
    if (half_close) {
        shutdown(fd, SHUT_WR);
    }
    std::string r = read_response(fd);
    close(fd);
    return r;
}

// The status lines ("HTTP/1.1 NNN") at the start of responses in a byte stream.
inline std::vector<int> statuses(const std::string & stream) {
    std::vector<int> out;
    for (size_t p = stream.find("HTTP/1.1 "); p != std::string::npos; p = stream.find("HTTP/1.1 ", p + 1)) {
        // At the start, or right after the previous answer (bodies end with a newline or a JSON '}').
        if (p == 0 || stream[p - 1] == '\n' || stream[p - 1] == '}') {
            out.push_back(std::atoi(stream.c_str() + p + 9));
        }
    }
    return out;
}

}  // namespace serve_test
