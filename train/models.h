// The networks: `seed`, an exact replica of the original Keras model, and
// `fernet`, our default. Every network is `features` (ending on the last
// spatial feature map, where class activation maps are taken) then `head`.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace fer {

struct NetImpl : torch::nn::Module {
    NetImpl(std::string arch, torch::nn::Sequential features, torch::nn::Sequential head);
    torch::Tensor forward(torch::Tensor x);  // (N,1,48,48) normalised -> (N,7) logits

    std::string arch;
    torch::nn::Sequential features;
    torch::nn::Sequential head;
};
TORCH_MODULE(Net);

// Names accepted by make_net, the default first.
std::vector<std::string> net_architectures();
const char * net_description(const std::string & arch);
// Throws a usage error for an unknown name.
Net make_net(const std::string & arch);

struct param_counts {
    int64_t total = 0;      // trainable + non-trainable (Keras' convention)
    int64_t trainable = 0;  // parameters
    int64_t non_trainable = 0;  // batch norm running mean and variance
};
param_counts count_params(Net & net);

// The layer table (type, output shape, parameters) and totals, Keras-style.
std::string net_summary(Net & net);

// Approximate multiply-accumulates of one forward pass on a 48x48 face.
int64_t net_macs(Net & net);

}  // namespace fer
