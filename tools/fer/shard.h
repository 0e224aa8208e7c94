// Sharded batch runs of `fer predict` and `fer video` (docs/scale-out.md):
// N processes (a Slurm job array, a Kubernetes Indexed Job, or a loop) each
// take one contiguous block of a deterministic input order, and `fer merge`
// concatenates their outputs into the bytes one process would have printed.
//
// Files of shard K of N in the shard folder (names padded so they sort):
//   shard-0000K-of-0000N.progress  one record per finished input, appended as
//                                  each finishes (any order); what --resume reads
//   shard-0000K-of-0000N.jsonl|csv the shard's output in input order, written
//                                  under a temporary name and renamed when whole
//   shard-0000K-of-0000N.done      the completion marker, written (atomically)
//                                  last: counts, the output's size and checksum,
//                                  the inputs that failed
// A progress record is "<index> ok|error <bytes> <fnv64>\n<payload>\n"; a record
// cut short by a kill fails its length or checksum and is dropped on resume.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace fer {

struct shard_spec {
    int index = 0;  // K, 0-based
    int count = 1;  // N
};

// --shard K/N (0 <= K < N), "auto" (Slurm job arrays: SLURM_ARRAY_TASK_ID -
// SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or "auto/N" (also Kubernetes
// Indexed Jobs: JOB_COMPLETION_INDEX of N, the Job's completions). `env` looks
// a variable up (getenv by default; tests pass their own). Throws usage errors
// that name the variable or the expected form.
shard_spec parse_shard(const std::string & arg, const std::string & command,
                       const std::function<const char *(const char *)> & env = nullptr);

// The half-open range [begin, end) of `total` inputs that shard `s` takes:
// contiguous blocks whose sizes differ by at most one, in order, so that the
// shards' outputs concatenated in shard order are the single-process output.
std::pair<size_t, size_t> shard_bounds(size_t total, const shard_spec & s);

// --from FILE: one path a line, in order; empty lines and a final newline
// ignored, "\r\n" accepted. Throws an input error naming the file (and line
// for a NUL byte). Paths are taken as written (not checked here, so that a
// list of millions costs no stat per file up front).
std::vector<std::string> read_input_list(const std::string & path);

// False, with the reason, when `path` is not an existing regular file (a FIFO
// would block the reader, a folder is not a picture).
bool check_regular_file(const std::string & path, std::string * error);

// What one input gave: its output text (JSONL line, CSV rows) or an error.
struct shard_item_result {
    bool ok = false;
    std::string text;  // output when ok, else the error message
};

struct shard_job {
    std::string command;      // "predict", "video": for messages
    std::string dir;          // the shard folder (created when missing)
    shard_spec shard;
    std::string extension;    // "jsonl" or "csv"
    std::string header;       // first bytes of every shard's output (CSV header), once in the merge
    std::string fingerprint;  // options that change the output: shards of one run must agree
    bool resume = false;      // keep the finished records of an earlier attempt
    int threads = 1;
    bool show_progress = true;
};

// Runs `work(worker, index, path)` on each input of the shard not finished
// yet, `threads` workers at a time (worker in 0..threads-1, index into
// `inputs`), appends a record as each finishes, then writes the output and the
// marker. Returns 0 when the shard is complete (inputs that failed are listed
// in the marker and by fer merge, which exits 2 for them). With resume and a
// complete shard of the same run, does nothing. Throws usage/input/runtime
// errors naming the file (e.g. a progress file of another run).
int run_shard(const shard_job & job, const std::vector<std::string> & inputs,
              const std::function<shard_item_result(int worker, size_t index, const std::string & path)> & work);

class arg_parser;
// --from FILE, --shard K/N|auto|auto/N, --shard-dir DIR, --resume, declared
// alike for every command that shards.
void add_shard_options(arg_parser & a);
// The job those options describe (--shard given); a usage error without
// --shard-dir. `fingerprint`: the command's options that change its output.
shard_job shard_job_from(const arg_parser & a, const std::string & command, const std::string & extension,
                         const std::string & header, const std::string & fingerprint, int threads);

// The base name of shard K of N ("shard-00002-of-00008").
std::string shard_base_name(const shard_spec & s);

// 64-bit FNV-1a, the checksum of records and outputs (not a security hash:
// it catches torn writes and mixed-up runs).
uint64_t fnv1a64(const void * data, size_t n, uint64_t h = 0xcbf29ce484222325ULL);

}  // namespace fer
