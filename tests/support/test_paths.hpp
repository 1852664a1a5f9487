// Where the tests find what they run: next to the test executable (build/bin), so a copy of
// bin/ and lib/ runs anywhere — e.g. from a directory an unprivileged user can read.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace sandlock::test {

inline std::filesystem::path bin_dir() {
    return std::filesystem::read_symlink("/proc/self/exe").parent_path();
}
inline std::string sandlock_bin() { return (bin_dir() / "sandlock").string(); }
inline std::string static_probe() { return (bin_dir() / "static_probe").string(); }
inline std::string stack_hog() { return (bin_dir() / "stack_hog").string(); }
inline std::string sigcont_timer() { return (bin_dir() / "sigcont_timer").string(); }
inline std::string counter() { return (bin_dir() / "counter").string(); }
inline std::string without_seccomp_actions() { return (bin_dir() / "without_seccomp_actions").string(); }
inline std::string test_plugin_dir() { return (bin_dir() / "../lib/sandlock/test-plugins").lexically_normal().string(); }

}  // namespace sandlock::test
