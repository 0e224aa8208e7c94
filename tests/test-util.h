// Helpers shared by the test executables.
#pragma once

#include "error.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace fer_test {

// A fresh folder under the system temp dir, removed with everything in it.
class temp_dir {
public:
    explicit temp_dir(const std::string & prefix = "fer-test") {
        static std::atomic<int> counter{0};
        std::random_device rd;
        path_ = std::filesystem::temp_directory_path() /
                (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
                 std::to_string(rd()));
        std::filesystem::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir &) = delete;
    temp_dir & operator=(const temp_dir &) = delete;
    const std::filesystem::path & path() const { return path_; }
    std::string operator/(const std::string & name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// The exit code (128 + signal when killed) and standard output of a shell
// command line; redirect stderr in `cmd` to capture or separate it.
struct command_result {
    int code = -1;
    std::string out;
};
inline command_result run_command(const std::string & cmd) {
    command_result r;
    FILE * p = popen(cmd.c_str(), "r");
    if (!p) {
        return r;
    }
    std::array<char, 4096> buf;
    size_t n;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) {
        r.out.append(buf.data(), n);
    }
    const int status = pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

// Runs f, which must throw fer::error of `kind` whose message contains every needle.
inline void expect_error(const std::function<void()> & f, fer::error_kind kind,
                         const std::vector<std::string> & needles) {
    try {
        f();
        ADD_FAILURE() << "no exception thrown";
    } catch (const fer::error & e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
        for (const auto & n : needles) {
            EXPECT_NE(std::string(e.what()).find(n), std::string::npos)
                << "message '" << e.what() << "' does not contain '" << n << "'";
        }
    } catch (const std::exception & e) {
        ADD_FAILURE() << "expected fer::error, got std::exception: " << e.what();
    } catch (...) {
        ADD_FAILURE() << "expected fer::error, got a non-standard exception";
    }
}

// One needle (a template, so that a braced list of needles picks the overload above).
template <class S, class = std::enable_if_t<std::is_convertible_v<const S &, std::string>>>
void expect_error(const std::function<void()> & f, fer::error_kind kind, const S & needle) {
    expect_error(f, kind, std::vector<std::string>{std::string(needle)});
}

}  // namespace fer_test
