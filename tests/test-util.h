// Helpers shared by the test executables.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

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

}  // namespace fer_test
