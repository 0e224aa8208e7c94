// fer merge: the outputs of `fer predict/video --shard K/N --shard-dir DIR`
// combined into the bytes one process would have printed (tools/fer/shard.h).
// Refuses to merge unless every shard of one run has its completion marker
// and its output matches the size and checksum the marker recorded.
#include "args.h"
#include "commands.h"
#include "error.h"
#include "log.h"
#include "shard-files.h"
#include "shard.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include <unistd.h>

namespace fs = std::filesystem;

namespace fer {

namespace {

std::map<int, std::pair<std::string, shard_marker>> find_markers(const std::string & dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        throw input_error(dir + ": no such shard folder");
    }
    std::map<int, std::pair<std::string, shard_marker>> found;
    int count = -1;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        int k = 0, n = 0, used = 0;
        if (std::sscanf(name.c_str(), "shard-%d-of-%d.done%n", &k, &n, &used) != 2 ||
            used != static_cast<int>(name.size())) {
            continue;
        }
        shard_marker m = read_shard_marker(it->path().string());
        if (m.shard.index != k || m.shard.count != n) {
            throw input_error(it->path().string() + ": the marker names shard " + std::to_string(m.shard.index) +
                              "/" + std::to_string(m.shard.count) + ", not its file name's");
        }
        if (count >= 0 && n != count) {
            throw input_error(dir + ": shards of different counts (" + std::to_string(count) + " and " +
                              std::to_string(n) + "); one folder per run");
        }
        count = n;
        found[k] = {it->path().string(), m};
    }
    if (ec) {
        throw input_error(dir + ": cannot list the folder (" + ec.message() + ")");
    }
    if (found.empty()) {
        throw input_error(dir + ": no completed shard (no shard-K-of-N.done marker)");
    }
    std::string missing;
    int n_missing = 0;
    for (int k = 0; k < count; ++k) {
        if (!found.count(k)) {
            if (++n_missing <= 20) {
                missing += (missing.empty() ? "" : ", ") + std::to_string(k);
            }
        }
    }
    if (n_missing) {
        throw input_error(dir + ": " + std::to_string(n_missing) + " of " + std::to_string(count) +
                          " shards are not complete (no marker): " + missing + (n_missing > 20 ? ", ..." : "") +
                          "; run them (with --resume) before merging");
    }
    return found;
}

// Copies `path` to `out` (minus the first `skip` bytes), checking the size and
// checksum the marker recorded over the whole file.
void copy_checked(const std::string & path, const shard_marker & m, FILE * out, const std::string & out_name) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw input_error(path + ": cannot open the shard's output");
    }
    std::vector<char> buf(1 << 16);
    uint64_t sum = 0xcbf29ce484222325ULL, total = 0;
    while (in) {
        in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        const size_t n = static_cast<size_t>(in.gcount());
        if (!n) {
            break;
        }
        sum = fnv1a64(buf.data(), n, sum);
        // The header (CSV) goes out once, from the first shard: skip it here.
        const size_t skip = total >= m.header_bytes ? 0 : std::min<uint64_t>(n, m.header_bytes - total);
        total += n;
        if (n > skip && std::fwrite(buf.data() + skip, 1, n - skip, out) != n - skip) {
            throw runtime_error(out_name + ": write failed (disk full?)");
        }
    }
    if (total != m.output_bytes || sum != m.output_sum) {
        throw input_error(path + ": " + std::to_string(total) + " bytes that do not match the " +
                          std::to_string(m.output_bytes) + " its marker records (changed or damaged after the run)");
    }
}

}  // namespace

int cmd_merge(int argc, char ** argv) {
    arg_parser a("merge", "DIR [--output FILE]",
                 "Combine the outputs of a sharded `fer predict` or `fer video` run (--shard K/N\n"
                 "--shard-dir DIR) into the JSONL or CSV that one process would have printed, byte\n"
                 "for byte. Every shard must be complete (its shard-K-of-N.done marker present) and\n"
                 "of the same run (inputs and options). Inputs that failed are listed on stderr\n"
                 "and the exit code is 2, as for a single run.");
    a.positional("DIR", "the shard folder");
    a.option("output", "FILE", "write there (atomically) instead of stdout");
    if (!a.parse(argc, argv)) {
        return 0;
    }
    if (a.positionals().size() != 1) {
        throw usage_error("merge: expected one shard folder (see fer merge --help)");
    }
    const std::string dir = a.positionals()[0];
    const auto shards = find_markers(dir);
    const shard_marker & first = shards.begin()->second.second;
    std::string header;
    {
        const std::string first_out = fs::path(shards.begin()->second.first).replace_extension(first.extension).string();
        std::ifstream in(first_out, std::ios::binary);
        header.resize(first.header_bytes);
        if (first.header_bytes && !in.read(&header[0], static_cast<std::streamsize>(header.size()))) {
            throw input_error(first_out + ": shorter than its header");
        }
    }
    for (const auto & s : shards) {
        const shard_marker & m = s.second.second;
        if (m.run != first.run || m.extension != first.extension || m.inputs != first.inputs ||
            m.header_sum != first.header_sum) {
            throw input_error(s.second.first + ": shard of another run (other inputs, options or format) than " +
                              shards.begin()->second.first + "; one folder per run");
        }
    }

    const std::string out_path = a.get("output");
    const std::string tmp = out_path.empty() ? "" : out_path + ".tmp." + std::to_string(::getpid());
    std::unique_ptr<FILE, int (*)(FILE *)> file(nullptr, std::fclose);
    FILE * out = stdout;
    if (!out_path.empty()) {
        file.reset(std::fopen(tmp.c_str(), "wb"));
        if (!file) {
            throw runtime_error(out_path + ": cannot create the file");
        }
        out = file.get();
    }
    try {
        if (std::fwrite(header.data(), 1, header.size(), out) != header.size()) {
            throw runtime_error((out_path.empty() ? "stdout" : out_path) + ": write failed");
        }
        for (const auto & s : shards) {
            const std::string shard_out = fs::path(s.second.first).replace_extension(first.extension).string();
            copy_checked(shard_out, s.second.second, out, out_path.empty() ? "stdout" : out_path);
        }
        if (std::fflush(out) != 0 || std::ferror(out)) {
            throw runtime_error((out_path.empty() ? "stdout" : out_path) + ": write failed (disk full?)");
        }
        if (file) {
            const bool synced = ::fsync(fileno(file.get())) == 0;
            if (std::fclose(file.release()) != 0 || !synced) {
                throw runtime_error(out_path + ": write failed (disk full?)");
            }
            if (std::rename(tmp.c_str(), out_path.c_str()) != 0) {
                throw runtime_error(out_path + ": cannot rename the finished file into place");
            }
        }
    } catch (...) {
        if (!tmp.empty()) {
            file.reset();
            std::remove(tmp.c_str());
        }
        throw;
    }
    uint64_t failed = 0, files = 0;
    for (const auto & s : shards) {
        files += s.second.second.files;
        for (const auto & e : s.second.second.errors) {
            ++failed;
            std::fprintf(stderr, "error: %s: %s\n", terminal_safe(e.path).c_str(), terminal_safe(e.message).c_str());
        }
    }
    log_info("merged " + std::to_string(shards.size()) + " shards, " + std::to_string(files) + " inputs" +
             (out_path.empty() ? "" : " into " + out_path));
    if (failed) {
        std::fprintf(stderr, "%llu of %llu inputs could not be read\n", static_cast<unsigned long long>(failed),
                     static_cast<unsigned long long>(files));
        return 2;
    }
    return 0;
}

}  // namespace fer
