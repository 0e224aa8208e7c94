// One function per `fer` subcommand; each returns the process exit code and
// may throw fer::error, which main() turns into a message and exit code.
#pragma once

#include <string>

namespace fer {

int cmd_train(int argc, char ** argv);
int cmd_eval(int argc, char ** argv);
int cmd_distill_targets(int argc, char ** argv);
int cmd_explain(int argc, char ** argv);
int cmd_predict(int argc, char ** argv);
int cmd_export(int argc, char ** argv);
int cmd_video(int argc, char ** argv);
int cmd_live(int argc, char ** argv);
int cmd_serve(int argc, char ** argv);
int cmd_merge(int argc, char ** argv);

// Thrown by a command of `fer` when this request needs libtorch (eval of a
// .pt file): main() hands the whole command line to the fer-torch helper, or
// says that this fer was built without it. `what` names the request.
struct needs_libtorch {
    std::string what;
};

// The model used when --model is not given: models/fernet.pt beside the
// executable's source tree or install prefix, or $FER_MODEL.
std::string default_model_path();

}  // namespace fer
