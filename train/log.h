// Diagnostics for people: warnings and notes go to stderr, results to stdout.
#pragma once

#include <string>

namespace fer {

void log_warning(const std::string & msg);
void log_info(const std::string & msg);
// Silences log_info (for --json output or tests); warnings always print.
void log_set_quiet(bool quiet);

}  // namespace fer
