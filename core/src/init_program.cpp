#include "init_program.hpp"

#include <sandlock/plugins.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

namespace sandlock {
namespace {

std::string look_for_init_program() {
    for (const auto& dir : plugin_search_path({})) {
        const std::string candidate = (dir.parent_path() / "sandlock-init").string();
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

}  // namespace

std::string init_program_path() {
    // The search path changes only with SANDLOCK_PLUGIN_PATH: looked for again when it does.
    static std::mutex mutex;
    static std::string searched_with, found;
    static bool searched = false;
    const char* env = std::getenv("SANDLOCK_PLUGIN_PATH");
    const std::string key = env != nullptr ? env : "";
    std::lock_guard lock(mutex);
    if (!searched || key != searched_with) {
        found = look_for_init_program();
        searched_with = key;
        searched = true;
    }
    return found;
}

}  // namespace sandlock
