// Pieces several subcommands share: finding the model, listing input images.
#pragma once

#include "models.h"

#include <string>
#include <vector>

namespace fer {

// --model may name a model file or a run folder (its best.pt is used).
struct model_ref {
    std::string file;     // the .pt to load
    std::string run_dir;  // the run folder, when one was given
};
model_ref resolve_model(const std::string & arg);

// Files named on the command line, folders searched recursively for images,
// sorted. Throws an input error for a path that does not exist.
std::vector<std::string> list_images(const std::vector<std::string> & args);

std::vector<std::string> class_names();
// Class index from a name or number; throws a usage error otherwise.
int parse_class(const std::string & s);

std::string json_escape(const std::string & s);

}  // namespace fer
