// Shared helpers for tests that start real sandboxes.
#pragma once

#include <sandlock/policy.hpp>
#include <sandlock/result.hpp>
#include <sandlock/sandbox.hpp>

#include "test_paths.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace sandlock::test {

// The Debian python3 (never a pyenv shim: tests must not depend on the developer's PATH).
inline constexpr const char* kPython = "/usr/bin/python3";

// A policy that can run system binaries and python3: /usr /lib /lib64 /bin /etc readable.
inline Policy system_policy() {
    Policy p;
    p.fs_readable = {"/usr", "/lib", "/lib64", "/bin", "/etc"};
    return p;
}

// system_policy() that can also run the suite's own programs in bin/ (the escape attacks).
inline Policy policy_running_test_programs() {
    Policy p = system_policy();
    p.fs_readable.push_back(bin_dir().string());
    return p;
}

// The layers that enforce the supervised limits, and no other plugin.
inline SandboxOptions supervising_layers() {
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return options;
}

// Runs argv in a sandbox with stdout/stderr captured; 20 s timeout unless told (a long race
// loop under a sanitizer, beside other tests).
inline Result run(const Policy& policy, const std::vector<std::string>& argv, SandboxOptions options = {},
                  std::chrono::seconds timeout = std::chrono::seconds(20)) {
    return Sandbox(policy, std::move(options)).run(argv, timeout);
}

// Runs a python3 snippet. Use probe() inside it to print "ok" or the errno name.
inline Result python(const Policy& policy, const std::string& code, SandboxOptions options = {}) {
    static const std::string prelude =
        "import errno, os, socket, sys, ctypes\n"
        "def probe(fn, *a):\n"
        "    try:\n"
        "        fn(*a); print('ok')\n"
        "    except OSError as e:\n"
        "        print(errno.errorcode.get(e.errno, str(e.errno)))\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def sys_probe(nr, *args):\n"
        "    r = libc.syscall(nr, *args)\n"
        "    print('ok' if r >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno())))\n";
    return run(policy, {kPython, "-c", prelude + code}, std::move(options));
}

// A fresh directory under /tmp, removed with everything in it when the object dies.
// World-accessible so the same tests pass as root and as an unprivileged user.
class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "sandlock-test-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string str() const { return path_.string(); }
    std::string operator/(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

}  // namespace sandlock::test
