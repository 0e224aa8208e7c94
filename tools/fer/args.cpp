#include "args.h"

#include "error.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace fer {

arg_parser::arg_parser(std::string command, std::string synopsis, std::string description)
    : command_(std::move(command)), synopsis_(std::move(synopsis)), description_(std::move(description)) {
    flag("help", "show this help and exit");
}

void arg_parser::option(const std::string & name, const std::string & metavar, const std::string & help,
                        const std::string & default_value) {
    specs_.push_back({name, metavar, help, default_value, false});
}

void arg_parser::flag(const std::string & name, const std::string & help) { specs_.push_back({name, "", help, "", true}); }

void arg_parser::positional(const std::string & metavar, const std::string & help, bool many) {
    pos_help_.emplace_back(metavar + (many ? " ..." : ""), help);
}

const arg_parser::spec * arg_parser::find(const std::string & name) const {
    for (const auto & s : specs_) {
        if (s.name == name) {
            return &s;
        }
    }
    return nullptr;
}

bool arg_parser::parse(int argc, char ** argv) {
    bool only_positional = false;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (only_positional || a.size() < 2 || a.compare(0, 2, "--") != 0) {
            if (!only_positional && a.size() > 1 && a[0] == '-' && a != "-") {
                if (a == "-h") {
                    std::fputs(help().c_str(), stdout);
                    return false;
                }
                throw usage_error(command_ + ": unknown option '" + a + "' (see fer " + command_ + " --help)");
            }
            positionals_.push_back(a);
            continue;
        }
        if (a == "--") {
            only_positional = true;
            continue;
        }
        std::string name = a.substr(2), value;
        bool inline_value = false;
        const size_t eq = name.find('=');
        if (eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        const spec * s = find(name);
        if (!s) {
            throw usage_error(command_ + ": unknown option '--" + name + "' (see fer " + command_ + " --help)");
        }
        if (s->is_flag) {
            if (inline_value) {
                throw usage_error(command_ + ": option '--" + name + "' takes no value");
            }
            values_[name] = "1";
        } else {
            if (!inline_value) {
                if (i + 1 >= argc) {
                    throw usage_error(command_ + ": option '--" + name + "' needs a value (" + s->metavar + ")");
                }
                value = argv[++i];
            }
            values_[name] = value;
        }
    }
    if (enabled("help")) {
        std::fputs(help().c_str(), stdout);
        return false;
    }
    return true;
}

std::string arg_parser::get(const std::string & name) const {
    auto it = values_.find(name);
    if (it != values_.end()) {
        return it->second;
    }
    const spec * s = find(name);
    return s ? s->default_value : std::string();
}

bool arg_parser::has(const std::string & name) const { return values_.count(name) > 0; }
bool arg_parser::enabled(const std::string & name) const { return values_.count(name) > 0; }

long long arg_parser::get_int(const std::string & name) const {
    const std::string v = get(name);
    char * end = nullptr;
    const long long r = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0') {
        throw usage_error(command_ + ": --" + name + " expects an integer, got '" + v + "'");
    }
    return r;
}

double arg_parser::get_double(const std::string & name) const {
    const std::string v = get(name);
    char * end = nullptr;
    const double r = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0') {
        throw usage_error(command_ + ": --" + name + " expects a number, got '" + v + "'");
    }
    return r;
}

std::string arg_parser::help() const {
    std::ostringstream o;
    o << "usage: fer " << command_ << " " << synopsis_ << "\n\n" << description_ << "\n";
    if (!pos_help_.empty()) {
        o << "\narguments:\n";
        for (const auto & p : pos_help_) {
            char buf[512];
            std::snprintf(buf, sizeof buf, "  %-24s %s\n", p.first.c_str(), p.second.c_str());
            o << buf;
        }
    }
    o << "\noptions:\n";
    for (const auto & s : specs_) {
        std::string left = "--" + s.name + (s.is_flag ? "" : " " + s.metavar);
        std::string right = s.help;
        if (!s.default_value.empty()) {
            right += " (default: " + s.default_value + ")";
        }
        // Continuation lines of a long help text line up under its first line.
        for (size_t at = right.find('\n'); at != std::string::npos; at = right.find('\n', at + 1)) {
            right.insert(at + 1, std::string(27, ' '));
        }
        char buf[1024];
        std::snprintf(buf, sizeof buf, "  %-24s %s\n", left.c_str(), right.c_str());
        o << buf;
    }
    return o.str();
}

}  // namespace fer
