#include "checkpoint.h"

#include "atomic-file.h"

#include "error.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace fer {

namespace {

template <class F> void save_atomic(const std::string & path, F && write_to) {
    const std::string tmp = atomic_temp_name(path);
    try {
        write_to(tmp);
    } catch (const c10::Error & e) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw runtime_error(path + ": cannot write (" + std::string(e.what_without_backtrace()) + ")");
    }
    atomic_commit(tmp, path);
}

torch::serialize::InputArchive open_archive(const std::string & path) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw input_error(path + ": no such model file");
    }
    torch::serialize::InputArchive ar;
    try {
        ar.load_from(path);
    } catch (const c10::Error &) {
        throw input_error(path + ": not a fer model file (not a readable libtorch archive)");
    }
    return ar;
}

std::string read_string(torch::serialize::InputArchive & ar, const std::string & key, const std::string & path) {
    c10::IValue v;
    if (!ar.try_read(key, v) || !v.isString()) {
        throw input_error(path + ": not a fer model file (no '" + key + "' entry)");
    }
    return v.toStringRef();
}

void read_weights(torch::serialize::InputArchive & ar, Net & net, const std::string & path) {
    torch::serialize::InputArchive m;
    if (!ar.try_read("model", m)) {
        throw input_error(path + ": not a fer model file (no weights)");
    }
    try {
        net->load(m);
    } catch (const c10::Error & e) {
        throw input_error(path + ": weights do not fit architecture '" + net->arch + "' (" +
                          std::string(e.what_without_backtrace()).substr(0, 200) + ")");
    }
}

}  // namespace

void save_model(const std::string & path, Net & net) {
    save_atomic(path, [&](const std::string & tmp) {
        torch::serialize::OutputArchive ar, m;
        ar.write("arch", c10::IValue(net->arch));
        net->save(m);
        ar.write("model", m);
        ar.save_to(tmp);
    });
}

Net load_model(const std::string & path) {
    auto ar = open_archive(path);
    const std::string arch = read_string(ar, "arch", path);
    Net net = nullptr;
    try {
        net = make_net(arch);
    } catch (const error &) {
        throw input_error(path + ": model of unknown architecture '" + arch + "'");
    }
    read_weights(ar, net, path);
    net->eval();
    return net;
}

void save_checkpoint(const std::string & path, Net & net, torch::optim::Optimizer & opt, const train_state & st) {
    save_atomic(path, [&](const std::string & tmp) {
        torch::serialize::OutputArchive ar, m, o;
        ar.write("arch", c10::IValue(net->arch));
        net->save(m);
        ar.write("model", m);
        opt.save(o);
        ar.write("optimizer", o);
        ar.write("epochs_done", c10::IValue(st.epochs_done));
        ar.write("best_accuracy", c10::IValue(st.best_accuracy));
        ar.write("best_epoch", c10::IValue(st.best_epoch));
        ar.write("config", c10::IValue(st.config));
        ar.save_to(tmp);
    });
}

train_state read_checkpoint_state(const std::string & path, std::string * arch) {
    auto ar = open_archive(path);
    *arch = read_string(ar, "arch", path);
    train_state st;
    st.config = read_string(ar, "config", path);
    c10::IValue v;
    if (!ar.try_read("epochs_done", v) || !v.isInt()) {
        throw input_error(path + ": not a training checkpoint (no epoch count)");
    }
    st.epochs_done = v.toInt();
    if (ar.try_read("best_accuracy", v) && v.isDouble()) {
        st.best_accuracy = v.toDouble();
    }
    if (ar.try_read("best_epoch", v) && v.isInt()) {
        st.best_epoch = v.toInt();
    }
    return st;
}

void load_checkpoint_into(const std::string & path, Net & net, torch::optim::Optimizer & opt) {
    auto ar = open_archive(path);
    read_weights(ar, net, path);
    torch::serialize::InputArchive o;
    if (!ar.try_read("optimizer", o)) {
        throw input_error(path + ": not a training checkpoint (no optimizer state)");
    }
    opt.load(o);
}

}  // namespace fer
