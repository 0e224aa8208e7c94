#include "models.h"

#include "error.h"

#include <cstdio>
#include <sstream>

namespace nn = torch::nn;

namespace fer {

NetImpl::NetImpl(std::string arch_, nn::Sequential features_, nn::Sequential head_)
    : arch(std::move(arch_)), features(register_module("features", features_)), head(register_module("head", head_)) {}

torch::Tensor NetImpl::forward(torch::Tensor x) { return head->forward(features->forward(x)); }

namespace {

nn::Conv2d conv3x3(int64_t in, int64_t out, bool bias) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1).bias(bias));
}

// The original network (README of issue 2): Keras Conv2D has a bias, and its
// BatchNormalization uses eps 1e-3 and momentum 0.99 (= PyTorch momentum 0.01).
Net make_seed() {
    nn::Sequential f;
    f->push_back("conv1", conv3x3(1, 128, true));
    f->push_back("relu1", nn::ReLU());
    f->push_back("pool1", nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    f->push_back("conv2", conv3x3(128, 128, true));
    f->push_back("relu2", nn::ReLU());
    f->push_back("pool2", nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    f->push_back("drop1", nn::Dropout(0.5));
    f->push_back("bn", nn::BatchNorm2d(nn::BatchNormOptions(128).eps(1e-3).momentum(0.01)));
    nn::Sequential h;
    h->push_back("flatten", nn::Flatten());
    h->push_back("fc1", nn::Linear(128 * 12 * 12, 64));
    h->push_back("relu3", nn::ReLU());
    h->push_back("drop2", nn::Dropout(0.5));
    h->push_back("fc2", nn::Linear(64, 7));
    return Net("seed", f, h);
}

void conv_bn_relu(nn::Sequential & s, const std::string & name, int64_t in, int64_t out) {
    s->push_back(std::string(name), conv3x3(in, out, false));
    s->push_back(name + "_bn", nn::BatchNorm2d(out));
    s->push_back(name + "_relu", nn::ReLU());
}

// fernet: a VGG-style stack of 3x3 conv + batch norm + ReLU, widths 32-64-128-192
// over resolutions 48-24-12-6, and a global-average-pool head, so that the class
// activation map is a weighted sum of the last feature maps. Plain 3x3
// convolutions train fastest per FLOP on CPUs (depthwise convolutions do not),
// and fold into single CONV_2D ops at export.
Net make_fernet(const std::string & name, const int64_t (&w)[4]) {
    nn::Sequential f;
    conv_bn_relu(f, "conv1a", 1, w[0]);
    conv_bn_relu(f, "conv1b", w[0], w[0]);
    f->push_back("pool1", nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    conv_bn_relu(f, "conv2a", w[0], w[1]);
    conv_bn_relu(f, "conv2b", w[1], w[1]);
    f->push_back("pool2", nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    conv_bn_relu(f, "conv3a", w[1], w[2]);
    conv_bn_relu(f, "conv3b", w[2], w[2]);
    f->push_back("pool3", nn::MaxPool2d(nn::MaxPool2dOptions(2)));
    conv_bn_relu(f, "conv4a", w[2], w[3]);
    conv_bn_relu(f, "conv4b", w[3], w[3]);
    nn::Sequential h;
    h->push_back("gap", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    h->push_back("flatten", nn::Flatten());
    h->push_back("drop", nn::Dropout(0.4));
    h->push_back("fc", nn::Linear(w[3], 7));
    return Net(name, f, h);
}

}  // namespace

std::vector<std::string> net_architectures() { return {"fernet", "fernet-s", "seed"}; }

const char * net_description(const std::string & arch) {
    if (arch == "fernet") {
        return "default: VGG-style 8-conv BN network, GAP head, 0.84 M parameters";
    }
    if (arch == "fernet-s") {
        return "student: fernet at widths 24-48-96-160, 0.53 M parameters, 58% of its multiply-accumulates";
    }
    if (arch == "seed") {
        return "replica of the original Keras network (1.33 M parameters, 54% PublicTest)";
    }
    return "";
}

Net make_net(const std::string & arch) {
    if (arch == "fernet" || arch == "default") {
        return make_fernet("fernet", {32, 64, 128, 192});
    }
    if (arch == "fernet-s") {
        // The same eight convolutions, narrower: the faster student of issue 13.
        return make_fernet("fernet-s", {24, 48, 96, 160});
    }
    if (arch == "seed") {
        return make_seed();
    }
    throw usage_error("unknown architecture '" + arch + "' (expected fernet, fernet-s or seed)");
}

param_counts count_params(Net & net) {
    param_counts c;
    for (const auto & p : net->parameters()) {
        c.trainable += p.numel();
    }
    for (const auto & b : net->named_buffers()) {
        if (b.key().find("num_batches_tracked") == std::string::npos) {
            c.non_trainable += b.value().numel();
        }
    }
    c.total = c.trainable + c.non_trainable;
    return c;
}

namespace {

std::string with_commas(int64_t v) {
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) {
        s.insert(static_cast<size_t>(i), ",");
    }
    return s;
}

std::string shape_str(const torch::Tensor & t) {
    // Keras order (H, W, C) without the batch dimension.
    std::ostringstream o;
    o << "(";
    if (t.dim() == 4) {
        o << t.size(2) << ", " << t.size(3) << ", " << t.size(1);
    } else {
        for (int64_t i = 1; i < t.dim(); ++i) {
            o << (i > 1 ? ", " : "") << t.size(i);
        }
    }
    o << ")";
    return o.str();
}

std::string layer_type(const std::string & name) {
    const auto & n = name;
    if (n.rfind("conv", 0) == 0 && n.find("_bn") == std::string::npos) return "Conv2D 3x3";
    if (n.find("bn") != std::string::npos) return "BatchNormalization";
    if (n.rfind("pool", 0) == 0) return "MaxPooling2D 2x2";
    if (n.rfind("drop", 0) == 0) return "Dropout";
    if (n == "flatten") return "Flatten";
    if (n == "gap") return "GlobalAveragePooling2D";
    if (n.rfind("fc", 0) == 0) return "Dense";
    return n;
}

struct row {
    std::string type, shape;
    int64_t params = 0, buffers = 0, macs = 0;
};

// Runs a dummy face through every layer, recording what each one does.
// ReLU rows are merged into the layer before them, as Keras shows activations.
std::vector<row> layer_rows(Net & net) {
    torch::NoGradGuard no_grad;
    const bool was_training = net->is_training();
    net->eval();
    std::vector<row> rows;
    torch::Tensor x = torch::zeros({1, 1, 48, 48});
    for (nn::Sequential * seq : {&net->features, &net->head}) {
        auto names = (*seq)->named_children();
        size_t i = 0;
        for (auto & layer : **seq) {
            const std::string name = names[i++].key();
            torch::Tensor in = x;
            x = layer.forward(x);
            if (name.find("relu") != std::string::npos && !rows.empty()) {
                rows.back().type += ", relu";
                continue;
            }
            row r;
            r.type = layer_type(name);
            r.shape = shape_str(x);
            for (const auto & p : layer.ptr()->parameters()) {
                r.params += p.numel();
            }
            for (const auto & b : layer.ptr()->named_buffers()) {
                if (b.key().find("num_batches_tracked") == std::string::npos) {
                    r.buffers += b.value().numel();
                }
            }
            if (auto * conv = layer.ptr()->as<nn::Conv2d>()) {
                r.macs = x.numel() * conv->weight.numel() / conv->weight.size(0);
            } else if (auto * fc = layer.ptr()->as<nn::Linear>()) {
                r.macs = fc->weight.numel();
            }
            (void)in;
            rows.push_back(r);
        }
    }
    net->train(was_training);
    return rows;
}

}  // namespace

std::string net_summary(Net & net) {
    std::vector<row> rows = layer_rows(net);
    std::ostringstream o;
    char buf[256];
    std::snprintf(buf, sizeof buf, "Model: %s\n%-34s %-16s %12s\n", net->arch.c_str(), "layer", "output shape", "params");
    o << buf << std::string(64, '-') << "\n";
    int64_t macs = 0;
    for (const auto & r : rows) {
        std::snprintf(buf, sizeof buf, "%-34s %-16s %12s\n", r.type.c_str(), r.shape.c_str(),
                      with_commas(r.params + r.buffers).c_str());
        o << buf;
        macs += r.macs;
    }
    param_counts c = count_params(net);
    o << std::string(64, '-') << "\n";
    o << "Total params: " << with_commas(c.total) << "\n";
    o << "Trainable params: " << with_commas(c.trainable) << "\n";
    o << "Non-trainable params: " << with_commas(c.non_trainable) << "\n";
    std::snprintf(buf, sizeof buf, "Multiply-accumulates per face: %.1f M\n", static_cast<double>(macs) / 1e6);
    o << buf;
    std::snprintf(buf, sizeof buf, "Float32 weights: %.2f MB\n", static_cast<double>(c.total) * 4 / 1e6);
    o << buf;
    return o.str();
}

int64_t net_macs(Net & net) {
    int64_t macs = 0;
    for (const auto & r : layer_rows(net)) {
        macs += r.macs;
    }
    return macs;
}

}  // namespace fer
