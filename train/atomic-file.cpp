#include "atomic-file.h"

#include "error.h"

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace fer {

namespace {

void fsync_path(const std::string & path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

std::string atomic_temp_name(const std::string & path) { return path + ".tmp." + std::to_string(::getpid()); }

void atomic_commit(const std::string & tmp, const std::string & path) {
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw runtime_error(path + ": cannot write (" + ec.message() + ")");
    }
}

void write_file_atomic(const std::string & path, const std::string & text) {
    const std::string tmp = atomic_temp_name(path);
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) {
            throw runtime_error(path + ": cannot write (folder missing or not writable)");
        }
        out << text;
        out.flush();
        if (!out) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw runtime_error(path + ": write failed (disk full?)");
        }
    }
    atomic_commit(tmp, path);
}

}  // namespace fer
