// Where the `sandlock-init` program (core/init/) is: beside the default plugin directories
// (DIR/../sandlock-init: the build tree's lib/sandlock, LIBDIR/sandlock when installed).
#pragma once

#include <string>

namespace sandlock {

// Looked for once per SANDLOCK_PLUGIN_PATH; empty when there is none (the init is then a forked
// copy of sandlock, as always where a run needs one: call(), long-lived sandboxes, notifications).
std::string init_program_path();

}  // namespace sandlock
