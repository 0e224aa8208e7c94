#include "shard.h"

#include "shard-files.h"

#include "args.h"
#include "error.h"
#include "log.h"
#include "progress.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace fer {

uint64_t fnv1a64(const void * data, size_t n, uint64_t h) {
    const auto * p = static_cast<const unsigned char *>(data);
    for (size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

namespace {

bool parse_int(const std::string & s, long long * out) {
    if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
        return false;
    }
    *out = std::stoll(s);
    return true;
}

const char * default_env(const char * name) { return std::getenv(name); }

}  // namespace

shard_spec parse_shard(const std::string & arg, const std::string & command,
                       const std::function<const char *(const char *)> & env_in) {
    const std::function<const char *(const char *)> env = env_in ? env_in : default_env;
    const std::string form = command + ": --shard takes K/N (0 <= K < N), auto or auto/N, not '" + arg + "'";
    const size_t slash = arg.find('/');
    const std::string left = arg.substr(0, slash);
    long long n_given = 0;
    if (slash != std::string::npos && (!parse_int(arg.substr(slash + 1), &n_given) || n_given < 1)) {
        throw usage_error(form);
    }
    auto env_int = [&](const char * name, long long * v) {
        const char * s = env(name);
        if (!s) {
            return false;
        }
        if (!parse_int(s, v)) {
            throw usage_error(command + ": --shard auto: " + name + "='" + s + "' is not a non-negative integer");
        }
        return true;
    };
    shard_spec r;
    if (left == "auto") {
        long long id = 0, count = 0, min = 0, step = 1;
        if (env_int("SLURM_ARRAY_TASK_ID", &id)) {
            if (!env_int("SLURM_ARRAY_TASK_COUNT", &count)) {
                throw usage_error(command + ": --shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
            }
            env_int("SLURM_ARRAY_TASK_MIN", &min);
            if (env_int("SLURM_ARRAY_TASK_STEP", &step) && step != 1) {
                throw usage_error(command + ": --shard auto needs a contiguous job array (--array=0-" +
                                  std::to_string(count - 1) + "), not a step of " + std::to_string(step));
            }
            r.index = static_cast<int>(id - min);
            r.count = static_cast<int>(count);
            if (n_given && n_given != count) {
                throw usage_error(command + ": --shard auto/" + std::to_string(n_given) + " but SLURM_ARRAY_TASK_COUNT=" +
                                  std::to_string(count));
            }
        } else if (env_int("JOB_COMPLETION_INDEX", &id)) {
            if (!n_given) {
                throw usage_error(command + ": --shard auto under a Kubernetes Indexed Job needs the shard count: "
                                            "--shard auto/N with N the Job's completions");
            }
            r.index = static_cast<int>(id);
            r.count = static_cast<int>(n_given);
        } else {
            throw usage_error(command + ": --shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor "
                                        "JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; give --shard K/N");
        }
    } else {
        long long k = 0;
        if (slash == std::string::npos || !parse_int(left, &k)) {
            throw usage_error(form);
        }
        r.index = static_cast<int>(k);
        r.count = static_cast<int>(n_given);
    }
    if (r.count < 1 || r.index < 0 || r.index >= r.count) {
        throw usage_error(command + ": --shard: shard " + std::to_string(r.index) + " of " + std::to_string(r.count) +
                          " is out of range (K must be in 0.." + std::to_string(r.count - 1) + ")");
    }
    return r;
}

std::pair<size_t, size_t> shard_bounds(size_t total, const shard_spec & s) {
    auto at = [&](int k) {
        return static_cast<size_t>(static_cast<unsigned __int128>(total) * static_cast<unsigned>(k) /
                                   static_cast<unsigned>(s.count));
    };
    return {at(s.index), at(s.index + 1)};
}

std::vector<std::string> read_input_list(const std::string & path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw input_error(path + ": --from needs a regular file with one path a line");
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot open the input list");
    }
    std::vector<std::string> out;
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.find('\0') != std::string::npos) {
            throw input_error(path + ":" + std::to_string(n) + ": a NUL byte in a path (is this a binary file?)");
        }
        if (!line.empty()) {
            out.push_back(line);
        }
    }
    if (in.bad()) {
        throw input_error(path + ": read error");
    }
    return out;
}

bool check_regular_file(const std::string & path, std::string * error) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
        *error = std::string("cannot open file: ") + std::strerror(errno);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *error = S_ISDIR(st.st_mode) ? "a folder, not a file" : "not a regular file (a FIFO, socket or device?)";
        return false;
    }
    return true;
}

void add_shard_options(arg_parser & a) {
    a.option("from", "FILE", "also take the inputs listed in FILE, one path a line, in that order");
    a.option("shard", "K/N", "process only shard K (0-based) of N contiguous blocks of the inputs, into\n"
                             "--shard-dir; auto: Slurm's SLURM_ARRAY_TASK_ID/_COUNT, auto/N: also a\n"
                             "Kubernetes Indexed Job's JOB_COMPLETION_INDEX (fer merge joins the shards)");
    a.option("shard-dir", "DIR", "folder of the shards' outputs, progress records and completion markers");
    a.flag("resume", "with --shard: keep what an earlier attempt of this shard finished, do the rest");
}

shard_job shard_job_from(const arg_parser & a, const std::string & command, const std::string & extension,
                         const std::string & header, const std::string & fingerprint, int threads) {
    shard_job j;
    j.command = command;
    j.shard = parse_shard(a.get("shard"), command);
    j.dir = a.get("shard-dir");
    if (j.dir.empty()) {
        throw usage_error(command + ": --shard needs --shard-dir DIR for the shard's output");
    }
    j.extension = extension;
    j.header = header;
    j.fingerprint = fingerprint;
    j.resume = a.enabled("resume");
    j.threads = threads;
    return j;
}

std::string shard_base_name(const shard_spec & s) {
    char name[64];
    std::snprintf(name, sizeof name, "shard-%05d-of-%05d", s.index, s.count);
    return name;
}

// ---- running one shard ----------------------------------------------------

namespace {

// Everything the shards of one run must agree on: the whole ordered input
// list (each shard sees it all), the options and the output form.
uint64_t run_id(const shard_job & job, const std::vector<std::string> & inputs) {
    uint64_t h = fnv1a64(job.command.data(), job.command.size());
    for (const auto & p : inputs) {
        h = fnv1a64(p.data(), p.size() + 1, h);  // with the NUL: "ab","c" differs from "a","bc"
    }
    h = fnv1a64(job.fingerprint.data(), job.fingerprint.size(), h);
    h = fnv1a64(job.extension.data(), job.extension.size(), h);
    return fnv1a64(job.header.data(), job.header.size(), h);
}

}  // namespace

int run_shard(const shard_job & job, const std::vector<std::string> & inputs,
              const std::function<shard_item_result(int, size_t, const std::string &)> & work) {
    std::error_code ec;
    fs::create_directories(job.dir, ec);
    if (!fs::is_directory(job.dir, ec)) {
        throw runtime_error(job.dir + ": cannot create the shard folder");
    }
    const std::string base = (fs::path(job.dir) / shard_base_name(job.shard)).string();
    const std::string progress_path = base + ".progress", marker_path = base + ".done",
                      output_path = base + "." + job.extension;
    const std::string label = job.command + " shard " + std::to_string(job.shard.index) + "/" +
                              std::to_string(job.shard.count);
    const uint64_t run = run_id(job, inputs);
    const auto range = shard_bounds(inputs.size(), job.shard);
    const size_t n_files = range.second - range.first;

    if (fs::exists(marker_path, ec)) {
        if (job.resume) {
            const shard_marker m = read_shard_marker(marker_path);
            if (m.run != run) {
                throw input_error(marker_path + ": this shard was completed by a run with other inputs or options; "
                                                "remove the shard folder's files or choose another --shard-dir");
            }
            if (fs::file_size(output_path, ec) == m.output_bytes && !ec) {
                log_info(label + ": already complete (" + marker_path + "), nothing to do");
                return 0;
            }
            log_warning(output_path + ": missing or not the size its marker records; redoing the shard");
        }
        fs::remove(marker_path, ec);  // starting over: the old result no longer stands
    }

    // The finished records of an earlier attempt, when resuming.
    const std::string header = progress_header(run, job.shard);
    std::vector<char> done(n_files, 0);
    size_t n_done_before = 0;
    if (job.resume && fs::exists(progress_path, ec)) {
        const progress_scan scan = scan_progress(progress_path, header);
        if (!scan.header_ok) {
            throw input_error(progress_path + ": written by a run with other inputs, options or shard count; "
                                              "run without --resume to start this shard over");
        }
        for (const auto & r : scan.records) {
            if (r.index < range.first || r.index >= range.second) {
                throw input_error(progress_path + ": record of input " + std::to_string(r.index) +
                                  ", outside this shard; the file is damaged");
            }
            if (!done[r.index - range.first]) {
                done[r.index - range.first] = 1;
                ++n_done_before;
            }
        }
        if (scan.valid_end < scan.file_size) {
            // A record cut short by the kill: drop it (its input is redone).
            log_warning(progress_path + ": dropping " + std::to_string(scan.file_size - scan.valid_end) +
                        " bytes of an unfinished record");
            if (::truncate(progress_path.c_str(), static_cast<off_t>(scan.valid_end)) != 0) {
                throw runtime_error(progress_path + ": cannot truncate (" + std::strerror(errno) + ")");
            }
        }
        log_info(label + ": resuming, " + std::to_string(n_done_before) + " of " + std::to_string(n_files) +
                 " inputs done by an earlier attempt");
    } else {
        write_file_durably(progress_path, header);
    }
    const int fd = ::open(progress_path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        throw runtime_error(progress_path + ": cannot open for appending (" + std::strerror(errno) + ")");
    }
    std::unique_ptr<int, void (*)(int *)> fd_guard(new int(fd), [](int * p) {
        ::close(*p);
        delete p;
    });

    std::vector<size_t> pending;
    for (size_t i = 0; i < n_files; ++i) {
        if (!done[i]) {
            pending.push_back(range.first + i);
        }
    }
    // Tests stop the process dead after this many records (tests/test-shard.cpp):
    // the same state as a SIGKILL from outside between two records.
    const char * kill_after_env = std::getenv("FER_SHARD_KILL_AFTER");
    const long kill_after = kill_after_env ? std::atol(kill_after_env) : -1;

    // As fer predict: a bar on a terminal, and in logs for long runs only.
    const bool bar_wanted = job.show_progress && (pending.size() >= 100 || (pending.size() > 1 && isatty(2)));
    std::unique_ptr<progress_bar> bar(bar_wanted
                                          ? new progress_bar(label, static_cast<int64_t>(pending.size()))
                                          : nullptr);
    std::mutex mu;
    std::atomic<size_t> next{0};
    size_t appended = 0;
    std::string failure;  // the first write error: ends the shard
    auto worker = [&](int w) {
        for (size_t k; (k = next++) < pending.size();) {
            const size_t index = pending[k];
            shard_item_result r;
            try {
                r = work(w, index, inputs[index]);
            } catch (const std::exception & e) {
                r.ok = false;
                r.text = e.what();
            }
            std::string rec = std::to_string(index) + (r.ok ? " ok " : " error ") + std::to_string(r.text.size()) +
                              " " + hex64(fnv1a64(r.text.data(), r.text.size())) + "\n" + r.text + "\n";
            std::lock_guard<std::mutex> lock(mu);
            if (!failure.empty()) {
                return;
            }
            try {
                write_fully(fd, rec, progress_path);  // one write per record: a kill leaves at most one torn
            } catch (const std::exception & e) {
                failure = e.what();
                next = pending.size();
                return;
            }
            ++appended;
            if (kill_after >= 0 && static_cast<long>(appended) >= kill_after) {
                ::kill(::getpid(), SIGKILL);
            }
            if (bar) {
                bar->update(static_cast<int64_t>(appended));
            }
        }
    };
    std::vector<std::thread> pool;
    const int n_threads = std::max(1, std::min<int>(job.threads, static_cast<int>(std::max<size_t>(1, pending.size()))));
    for (int t = 1; t < n_threads; ++t) {
        pool.emplace_back(worker, t);
    }
    worker(0);
    for (auto & t : pool) {
        t.join();
    }
    if (!failure.empty()) {
        throw runtime_error(failure);
    }
    if (::fdatasync(fd) != 0) {
        throw runtime_error(progress_path + ": fdatasync failed (" + std::strerror(errno) + ")");
    }
    if (bar) {
        bar->finish();
    }

    // The output in input order, from the records (which came in finishing order).
    const progress_scan scan = scan_progress(progress_path, header);
    std::vector<const progress_record *> by_index(n_files, nullptr);
    for (const auto & r : scan.records) {
        if (r.index >= range.first && r.index < range.second && !by_index[r.index - range.first]) {
            by_index[r.index - range.first] = &r;
        }
    }
    shard_marker m;
    m.run = run;
    m.shard = job.shard;
    m.extension = job.extension;
    m.inputs = inputs.size();
    m.files = n_files;
    m.header_bytes = job.header.size();
    m.header_sum = fnv1a64(job.header.data(), job.header.size());
    // Streamed: a shard of a million pictures is not held in memory.
    const std::string tmp = output_path + ".tmp." + std::to_string(::getpid());
    const int out_fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_fd < 0) {
        throw runtime_error(tmp + ": cannot create (" + std::strerror(errno) + ")");
    }
    try {
        write_fully(out_fd, job.header, tmp);
        m.output_bytes = job.header.size();
        m.output_sum = fnv1a64(job.header.data(), job.header.size());
        std::ifstream in(progress_path, std::ios::binary);
        std::string payload;
        for (size_t i = 0; i < n_files; ++i) {
            const progress_record * r = by_index[i];
            if (!r) {
                throw runtime_error(progress_path + ": input " + std::to_string(range.first + i) +
                                    " has no record after the run; was the file changed meanwhile?");
            }
            payload.resize(r->bytes);
            in.seekg(static_cast<std::streamoff>(r->offset));
            if (r->bytes && !in.read(&payload[0], static_cast<std::streamsize>(r->bytes))) {
                throw runtime_error(progress_path + ": cannot read back a record");
            }
            if (r->ok) {
                write_fully(out_fd, payload, tmp);
                m.output_bytes += payload.size();
                m.output_sum = fnv1a64(payload.data(), payload.size(), m.output_sum);
            } else {
                m.errors.push_back({r->index, inputs[r->index], payload});
            }
        }
        if (::fsync(out_fd) != 0) {
            throw runtime_error(tmp + ": fsync failed (" + std::strerror(errno) + ")");
        }
    } catch (...) {
        ::close(out_fd);
        ::unlink(tmp.c_str());
        throw;
    }
    ::close(out_fd);
    if (std::rename(tmp.c_str(), output_path.c_str()) != 0) {
        ::unlink(tmp.c_str());
        throw runtime_error(output_path + ": cannot rename the finished file into place (" + std::strerror(errno) + ")");
    }
    m.failed = m.errors.size();
    write_file_durably(marker_path, shard_marker_text(m));
    fs::remove(progress_path, ec);  // the output and the marker now say it all

    for (const auto & e : m.errors) {
        std::fprintf(stderr, "error: %s: %s\n", terminal_safe(e.path).c_str(), terminal_safe(e.message).c_str());
    }
    log_info(label + ": " + std::to_string(n_files) + " inputs (" + std::to_string(appended) + " now, " +
             std::to_string(n_done_before) + " earlier), " + std::to_string(m.errors.size()) + " failed; wrote " +
             output_path);
    return 0;
}

}  // namespace fer
