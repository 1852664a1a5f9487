// The path every open-family rule decides on: lexical normalization, the /proc self links and
// walking through a process's root/cwd/fd magic links.
#include "paths/open_path.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

namespace sandlock::notif {
namespace {

// The caller is thread 101 of process 100; link targets come from a table.
class FakeLinks final : public ProcLinkSource {
public:
    pid_t caller_tid() override { return 101; }
    pid_t caller_tgid() override {
        ++tgid_lookups;
        return 100;
    }
    int link_target(std::string_view proc_dir, std::string_view link, std::string& target) override {
        auto it = targets.find(std::string(proc_dir) + "/" + std::string(link));
        if (it == targets.end()) return -ENOENT;
        if (it->second.empty() || it->second.front() != '/') return -ENOTDIR;
        target = it->second;
        return 0;
    }
    std::map<std::string, std::string> targets = {
        {"/proc/100/cwd", "/tmp/work"},
        {"/proc/100/fd/3", "/srv"},
        {"/proc/100/fd/4", "socket:[1234]"},
        {"/proc/100/task/101/cwd", "/home/me"},
        {"/proc/7/cwd", "/loop"},
    };
    int tgid_lookups = 0;
};

NormalizedPath normalized(const std::string& path, FakeLinks& links) { return normalize_path(path, links); }

std::string path_of(const std::string& path) {
    FakeLinks links;
    NormalizedPath out = normalize_path(path, links);
    EXPECT_EQ(out.error, 0) << path;
    return out.path;
}

TEST(NotifOpenPath, CollapsesSlashesDotsAndDotDots) {
    EXPECT_EQ(path_of("/a//b/./c/../d"), "/a/b/d");
    EXPECT_EQ(path_of("/../../etc/hosts"), "/etc/hosts");
    EXPECT_EQ(path_of("/etc/hosts/"), "/etc/hosts");
    EXPECT_EQ(path_of("/"), "/");
    EXPECT_EQ(path_of("//"), "/");
    EXPECT_EQ(path_of("/proc/./kcore"), "/proc/kcore");
    EXPECT_EQ(normalize_lexically("/srv//secret/"), "/srv/secret");
    EXPECT_EQ(normalize_lexically("/proc/../proc/"), "/proc");
}

TEST(NotifOpenPath, SelfLinksBecomeTheCallersPid) {
    EXPECT_EQ(path_of("/proc/self/status"), "/proc/100/status");
    EXPECT_EQ(path_of("/proc/self"), "/proc/100");
    EXPECT_EQ(path_of("/proc/thread-self/comm"), "/proc/100/task/101/comm");
    EXPECT_EQ(path_of("/proc/mounts"), "/proc/100/mounts");
    EXPECT_EQ(path_of("/proc/net/tcp"), "/proc/100/net/tcp");
    EXPECT_EQ(path_of("/proc/self/../kcore"), "/proc/kcore");
    EXPECT_EQ(path_of("/proc/thread-self/.."), "/proc/100/task");
    // Only the /proc entries: a directory named self elsewhere is just a name.
    EXPECT_EQ(path_of("/srv/self/x"), "/srv/self/x");
    EXPECT_EQ(path_of("/proc/100/self"), "/proc/100/self");
}

TEST(NotifOpenPath, TheCallerIsLookedUpOnlyWhenNeeded) {
    FakeLinks links;
    normalized("/etc/hosts", links);
    normalized("/proc/42/status", links);
    EXPECT_EQ(links.tgid_lookups, 0);
    normalized("/proc/self/status", links);
    EXPECT_EQ(links.tgid_lookups, 1);
}

TEST(NotifOpenPath, WalkingThroughRootContinuesAtTheRoot) {
    FakeLinks links;
    NormalizedPath out = normalized("/proc/self/root/proc/kcore", links);
    EXPECT_EQ(out.path, "/proc/kcore");
    out = normalized("/proc/1/root/etc/shadow", links);
    EXPECT_EQ(out.path, "/etc/shadow");
    out = normalized("/proc/100/task/101/root/../etc", links);
    EXPECT_EQ(out.path, "/etc");
}

TEST(NotifOpenPath, WalkingThroughCwdAndFdFollowsTheirTargets) {
    FakeLinks links;
    EXPECT_EQ(normalized("/proc/self/cwd/../../proc/kcore", links).path, "/proc/kcore");
    EXPECT_EQ(normalized("/proc/self/cwd/notes", links).path, "/tmp/work/notes");
    EXPECT_EQ(normalized("/proc/self/fd/3/data", links).path, "/srv/data");
    EXPECT_EQ(normalized("/proc/thread-self/cwd/x", links).path, "/home/me/x");
    EXPECT_EQ(normalized("/proc/self/fd/4/x", links).error, ENOTDIR);
    EXPECT_EQ(normalized("/proc/self/fd/9/x", links).error, ENOENT);
}

TEST(NotifOpenPath, AMagicLinkAtTheEndIsLeftAsIs) {
    FakeLinks links;
    NormalizedPath out = normalized("/proc/self/cwd", links);
    EXPECT_EQ(out.path, "/proc/100/cwd");
    EXPECT_EQ(normalized("/proc/self/fd/3", links).path, "/proc/100/fd/3");
    EXPECT_EQ(normalized("/proc/self/root", links).path, "/proc/100/root");
}

TEST(NotifOpenPath, LinkLoopsEnd) {
    FakeLinks links;
    links.targets["/proc/7/cwd"] = "/proc/7/cwd";
    EXPECT_EQ(normalized("/proc/7/cwd/x", links).error, ELOOP);
}

TEST(NotifOpenPath, SelfFormRewritesTheCallersOwnEntry) {
    EXPECT_EQ(self_form("/proc/100/status", 100), "/proc/self/status");
    EXPECT_EQ(self_form("/proc/100", 100), "/proc/self");
    EXPECT_EQ(self_form("/proc/1000/status", 100), std::nullopt);
    EXPECT_EQ(self_form("/proc/42/status", 100), std::nullopt);
    EXPECT_EQ(self_form("/etc/hosts", 100), std::nullopt);
}

TEST(NotifOpenPath, WriteIntentAndCloseOnExec) {
    OpenCall open;
    open.flags = O_RDONLY | O_CLOEXEC;
    EXPECT_FALSE(open.writes());
    EXPECT_EQ(open.inject_flags(), static_cast<std::uint32_t>(O_CLOEXEC));
    for (std::uint64_t flags : {O_WRONLY, O_RDWR, O_RDONLY | O_CREAT, O_RDONLY | O_TRUNC, O_TMPFILE | O_RDWR}) {
        open.flags = flags;
        EXPECT_TRUE(open.writes()) << flags;
        EXPECT_EQ(open.inject_flags(), 0u);
    }
}

// The caller's memory is ours: an address is a pointer to the string (or, at 0, unmapped).
std::int64_t read_our_string(void*, const sdk::NotifRequest*, std::uint64_t address, char* buffer, std::size_t size) {
    if (address == 0) return -EFAULT;
    const char* text = reinterpret_cast<const char*>(static_cast<std::uintptr_t>(address));
    const std::size_t length = std::strlen(text);
    if (length + 1 > size) return -ENAMETOOLONG;
    std::memcpy(buffer, text, length + 1);
    return static_cast<std::int64_t>(length);
}

bool outside_proc(int nr, const std::string& path) {
    sdk::NotifContextApi api{};
    api.read_string = read_our_string;
    sdk::NotifRequest request{};
    request.syscall_nr = nr;
    const auto address = path == "<unmapped>" ? 0 : reinterpret_cast<std::uintptr_t>(path.c_str());
    request.args[0] = nr == SYS_openat ? static_cast<std::uint64_t>(AT_FDCWD) : address;
    request.args[1] = nr == SYS_openat ? address : O_RDONLY;
    return surely_outside_proc(sdk::NotifContext(request, api));
}

TEST(NotifOpenPath, OnlyShortAbsolutePathsWithoutProcAreSurelyOutsideIt) {
    EXPECT_TRUE(outside_proc(SYS_openat, "/etc/passwd"));
    EXPECT_TRUE(outside_proc(SYS_open, "/usr/lib/python3/json/__init__.py"));
    EXPECT_TRUE(outside_proc(SYS_creat, "/tmp/out"));
    // Anything that may reach /proc, or that one short read cannot tell, is decoded in full.
    const std::string may_reach_proc[] = {"/proc/self/mounts", "/etc/../proc/1/mountinfo", "/x/proc",
                                          "/dev/fd/../procfs", "etc/passwd", "", "<unmapped>",
                                          "/" + std::string(300, 'a')};
    for (const std::string& path : may_reach_proc)
        EXPECT_FALSE(outside_proc(SYS_openat, path)) << path;
    // openat2's RESOLVE_IN_ROOT makes an absolute path relative to its dirfd, which may be /proc.
    EXPECT_FALSE(outside_proc(SYS_openat2, "/etc/passwd"));
}

}  // namespace
}  // namespace sandlock::notif
