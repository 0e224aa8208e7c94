#include "shard-files.h"

#include "error.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

namespace fer {

namespace {

std::string one_line(std::string s) {
    std::replace(s.begin(), s.end(), '\t', ' ');
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\r', ' ');
    return s;
}

}  // namespace

std::string hex64(uint64_t v) {
    char b[17];
    std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
    return b;
}

void write_fully(int fd, const std::string & data, const std::string & path) {
    size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            throw runtime_error(path + ": write failed (" + std::strerror(errno) + ")");
        }
        done += static_cast<size_t>(n);
    }
}


void write_file_durably(const std::string & path, const std::string & text) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        throw runtime_error(tmp + ": cannot create (" + std::strerror(errno) + ")");
    }
    try {
        write_fully(fd, text, tmp);
        if (::fsync(fd) != 0) {
            throw runtime_error(tmp + ": fsync failed (" + std::strerror(errno) + ")");
        }
    } catch (...) {
        ::close(fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw runtime_error(path + ": cannot rename the finished file into place (" + std::strerror(errno) + ")");
    }
}

progress_scan scan_progress(const std::string & path, const std::string & expected_header) {
    progress_scan r;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw runtime_error(path + ": cannot open the progress file");
    }
    std::string line;
    if (!std::getline(in, line) || line + "\n" != expected_header) {
        r.header_ok = false;
        return r;
    }
    uint64_t pos = expected_header.size();
    r.valid_end = pos;
    std::string payload;
    while (std::getline(in, line)) {
        unsigned long long index = 0, bytes = 0, sum = 0;
        char status[8] = {};
        char tail = 0;
        if (std::sscanf(line.c_str(), "%llu %7s %llu %llx%c", &index, status, &bytes, &sum, &tail) != 4 ||
            (std::strcmp(status, "ok") != 0 && std::strcmp(status, "error") != 0) || bytes > (1ULL << 32)) {
            break;
        }
        payload.resize(static_cast<size_t>(bytes) + 1);
        if (!in.read(&payload[0], static_cast<std::streamsize>(payload.size())) || payload.back() != '\n' ||
            fnv1a64(payload.data(), static_cast<size_t>(bytes)) != sum) {
            break;
        }
        progress_record rec;
        rec.index = static_cast<size_t>(index);
        rec.ok = status[0] == 'o';
        rec.offset = pos + line.size() + 1;
        rec.bytes = static_cast<size_t>(bytes);
        r.records.push_back(rec);
        pos = rec.offset + rec.bytes + 1;
        r.valid_end = pos;
    }
    in.clear();
    in.seekg(0, std::ios::end);
    r.file_size = static_cast<uint64_t>(in.tellg());
    return r;
}

std::string progress_header(uint64_t run, const shard_spec & s) {
    return "fer-shard-progress 1 run=" + hex64(run) + " shard=" + std::to_string(s.index) + "/" +
           std::to_string(s.count) + "\n";
}

std::string shard_marker_text(const shard_marker & m) {
    std::string t = "fer-shard-done 1\nrun " + hex64(m.run) + "\nshard " + std::to_string(m.shard.index) + " " +
                    std::to_string(m.shard.count) + "\nextension " + m.extension + "\ninputs " +
                    std::to_string(m.inputs) + "\nfiles " + std::to_string(m.files) + "\nfailed " +
                    std::to_string(m.errors.size()) + "\nheader " + std::to_string(m.header_bytes) + " " +
                    hex64(m.header_sum) + "\noutput " + std::to_string(m.output_bytes) + " " + hex64(m.output_sum) +
                    "\n";
    for (const auto & e : m.errors) {
        t += "error\t" + std::to_string(e.index) + "\t" + one_line(e.path) + "\t" + one_line(e.message) + "\n";
    }
    return t;
}

shard_marker read_shard_marker(const std::string & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot open the completion marker");
    }
    shard_marker m;
    std::string line;
    auto bad = [&](const std::string & why) { return input_error(path + ": not a fer shard marker (" + why + ")"); };
    if (!std::getline(in, line) || line != "fer-shard-done 1") {
        throw bad("first line");
    }
    int fields = 0;
    while (std::getline(in, line)) {
        unsigned long long a = 0, b = 0;
        char word[16] = {};
        if (line.compare(0, 6, "error\t") == 0) {
            shard_error e;
            const size_t t1 = line.find('\t', 6), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
            if (t2 == std::string::npos) {
                throw bad("error line");
            }
            e.index = static_cast<size_t>(std::strtoull(line.c_str() + 6, nullptr, 10));
            e.path = line.substr(t1 + 1, t2 - t1 - 1);
            e.message = line.substr(t2 + 1);
            m.errors.push_back(e);
        } else if (std::sscanf(line.c_str(), "run %llx", &a) == 1) {
            m.run = a, ++fields;
        } else if (std::sscanf(line.c_str(), "shard %llu %llu", &a, &b) == 2) {
            m.shard = {static_cast<int>(a), static_cast<int>(b)}, ++fields;
        } else if (std::sscanf(line.c_str(), "extension %15s", word) == 1) {
            m.extension = word, ++fields;
        } else if (std::sscanf(line.c_str(), "inputs %llu", &a) == 1) {
            m.inputs = a, ++fields;
        } else if (std::sscanf(line.c_str(), "files %llu", &a) == 1) {
            m.files = a, ++fields;
        } else if (std::sscanf(line.c_str(), "failed %llu", &a) == 1) {
            m.failed = a, ++fields;
        } else if (std::sscanf(line.c_str(), "header %llu %llx", &a, &b) == 2) {
            m.header_bytes = a, m.header_sum = b, ++fields;
        } else if (std::sscanf(line.c_str(), "output %llu %llx", &a, &b) == 2) {
            m.output_bytes = a, m.output_sum = b, ++fields;
        } else {
            throw bad("unknown line '" + line + "'");
        }
    }
    if (fields != 8 || m.failed != m.errors.size()) {
        throw bad("missing fields; written by an interrupted or other version?");
    }
    return m;
}

}  // namespace fer
