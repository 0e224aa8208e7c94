// Declarative command-line options for the fer subcommands: each command
// declares its options once, and --help is generated from the declarations.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace fer {

class arg_parser {
public:
    arg_parser(std::string command, std::string synopsis, std::string description);

    // An option taking a value (`--name VALUE` or `--name=VALUE`).
    void option(const std::string & name, const std::string & metavar, const std::string & help,
                const std::string & default_value = "");
    // An option without a value.
    void flag(const std::string & name, const std::string & help);
    // Positional arguments, described in the help.
    void positional(const std::string & metavar, const std::string & help, bool many = false);

    // Throws a usage error on unknown options or missing values. Returns false
    // when --help was printed (the caller then exits 0).
    bool parse(int argc, char ** argv);

    std::string get(const std::string & name) const;
    bool has(const std::string & name) const;  // given explicitly on the command line
    bool enabled(const std::string & name) const;  // a flag
    long long get_int(const std::string & name) const;
    double get_double(const std::string & name) const;
    const std::vector<std::string> & positionals() const { return positionals_; }
    std::string help() const;

private:
    struct spec {
        std::string name, metavar, help, default_value;
        bool is_flag;
    };
    std::string command_, synopsis_, description_;
    std::vector<spec> specs_;
    std::vector<std::pair<std::string, std::string>> pos_help_;
    std::map<std::string, std::string> values_;
    std::vector<std::string> positionals_;
    const spec * find(const std::string & name) const;
};

}  // namespace fer
