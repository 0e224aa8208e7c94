// The files of a shard (tools/fer/shard.h): progress records, the completion
// marker, durable atomic writes. Shared by the shard runner and `fer merge`.
#pragma once

#include "shard.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace fer {

// 16 lowercase hex digits.
std::string hex64(uint64_t v);
// write(2) until all of `data` is written; throws a runtime error naming `path`.
void write_fully(int fd, const std::string & data, const std::string & path);

// Writes `text` to a temporary file beside `path`, fsyncs it, renames it over
// `path`: readers see the old file or the whole new one, even after a crash.
void write_file_durably(const std::string & path, const std::string & text);

struct progress_record {
    size_t index = 0;    // into the whole ordered input list
    bool ok = false;     // payload is output (ok) or an error message
    uint64_t offset = 0; // of the payload in the progress file
    size_t bytes = 0;
};

struct progress_scan {
    bool header_ok = true;  // false: the file belongs to another run or shard
    std::vector<progress_record> records;  // the whole, checksummed records, in file order
    uint64_t valid_end = 0;  // end of the last whole record
    uint64_t file_size = 0;  // beyond valid_end: a record cut short
};

// The first line of shard `s`'s progress file for the run `run` (ends with "\n").
std::string progress_header(uint64_t run, const shard_spec & s);
// Reads the records up to the first one that is cut short or fails its checksum.
progress_scan scan_progress(const std::string & path, const std::string & expected_header);

struct shard_error {
    size_t index = 0;
    std::string path, message;
};

struct shard_marker {
    uint64_t run = 0;           // the run id: inputs, options and output form
    shard_spec shard;
    std::string extension;      // jsonl | csv
    uint64_t inputs = 0;        // of the whole run
    uint64_t files = 0;         // of this shard
    uint64_t failed = 0;
    uint64_t header_bytes = 0, header_sum = 0;
    uint64_t output_bytes = 0, output_sum = 0;  // the whole output file, header included
    std::vector<shard_error> errors;
};

std::string shard_marker_text(const shard_marker & m);
// Throws an input error naming the file when it is not a complete marker.
shard_marker read_shard_marker(const std::string & path);

}  // namespace fer
