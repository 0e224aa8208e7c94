// Errors the training library reports to its callers. The `fer` command maps
// each kind to its exit code (1 usage, 2 bad input or model, 3 runtime failure).
#pragma once

#include <stdexcept>
#include <string>

namespace fer {

enum class error_kind { usage = 1, input = 2, runtime = 3 };

class error : public std::runtime_error {
public:
    error(error_kind kind, const std::string & what) : std::runtime_error(what), kind_(kind) {}
    error_kind kind() const { return kind_; }

private:
    error_kind kind_;
};

inline error usage_error(const std::string & what) { return error(error_kind::usage, what); }
inline error input_error(const std::string & what) { return error(error_kind::input, what); }
inline error runtime_error(const std::string & what) { return error(error_kind::runtime, what); }

}  // namespace fer
