// Diagnostics for people: warnings and notes go to stderr, results to stdout.
#pragma once

#include <string>

namespace fer {

// Warnings pass through terminal_safe: they quote file names and data.
void log_warning(const std::string & msg);
void log_info(const std::string & msg);
// Silences log_info (for --json output or tests); warnings always print.
void log_set_quiet(bool quiet);

// Text for a terminal: control bytes other than newline and tab (ESC, BEL,
// CR, DEL, ...) written as \xNN, so that a file name or a data file's header
// echoed in a message cannot drive the terminal.
std::string terminal_safe(const std::string & s);

}  // namespace fer
