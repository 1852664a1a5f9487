// The open family (open, openat, openat2, creat) as the path-based modules see it: the path
// read ONCE per notification, made absolute as the caller sees it and normalized, so that the
// path rules, the /etc/hosts virtualization and the /proc rules all decide on the same copy.
//
// Normalization is lexical plus what /proc itself would do: "//", "." and ".." collapse;
// /proc/self becomes /proc/<tgid>, /proc/thread-self /proc/<tgid>/task/<tid>, and the
// /proc/mounts and /proc/net links /proc/<tgid>/mounts and /proc/<tgid>/net — with the pids the
// caller itself sees (inside the sandbox's PID namespace, the namespace's own numbers, from
// NStgid/NSpid). A path that walks *through* a process's root, cwd or fd/N magic link continues
// from that link's target (root: the caller's "/"), read in the caller's own /proc, so
// /proc/1/root/etc or /proc/self/cwd/../../proc/kcore are judged by where they really lead.
// Other symlinks are not followed: a rule on a path can be reached through a symlink or hard
// link to it — the path rules are defense in depth on top of Landlock, not a boundary.
#pragma once

#include "supervisor/builtin_module.hpp"

#include <sandlock/sdk/notif.hpp>

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::notif {

// What normalization asks about the caller: its ids and the targets of /proc magic links.
class ProcLinkSource {
public:
    virtual ~ProcLinkSource() = default;
    // The caller's thread id and thread group id as the caller names them, or -errno.
    virtual pid_t caller_tid() = 0;
    virtual pid_t caller_tgid() = 0;
    // Where `link` ("cwd" or "fd/N") of the process directory `proc_dir` ("/proc/12" or
    // "/proc/12/task/13") leads, as an absolute path in the caller's view. Returns 0 or -errno
    // (ENOTDIR for an fd that is a socket, pipe or anonymous inode).
    virtual int link_target(std::string_view proc_dir, std::string_view link, std::string& target) = 0;
};

struct NormalizedPath {
    int error = 0;      // non-zero: the path cannot be opened (answer this errno)
    std::string path;   // absolute and normalized
};

// Lexical only: collapses "//", "." and ".." (".." at the root stays there), no trailing '/'.
// For paths of the policy and the rules, which are not seen through a process.
std::string normalize_lexically(std::string_view path);

// `absolute` must start with '/'.
NormalizedPath normalize_path(std::string_view absolute, ProcLinkSource& links);

// The caller's view of the same path with its own /proc/<tgid> written as /proc/self, for
// rules written with /proc/self; nullopt when the path is not under the caller's /proc entry.
std::optional<std::string> self_form(std::string_view normalized, pid_t caller_tgid);

// The caller's /proc (the proc mounted at its root's /proc), O_PATH, or -errno: pids and
// links under it are the caller's view. `tid` is the calling thread as we name it.
int open_caller_proc(pid_t tid);

// One open-family call, decoded and normalized.
struct OpenCall {
    int error = 0;              // non-zero: reading or resolving the caller's path failed
    std::string path;           // normalized absolute path, as the caller sees it
    std::uint64_t flags = 0;    // O_* flags (creat: O_CREAT|O_WRONLY|O_TRUNC)
    std::uint64_t resolve = 0;  // openat2's RESOLVE_* flags, else 0
    pid_t tid = 0;              // the calling thread, as we name it
    pid_t tgid = 0;             // its thread group as the caller names it, when normalization needed it, else 0

    bool writes() const;  // asks for write access, creation or truncation
    // The SECCOMP_ADDFD flags that give an injected fd the close-on-exec the caller asked for.
    std::uint32_t inject_flags() const;
};

// The call being decided, read once per notification and shared by every module (the answer
// is cached by notification id, so the second and third module do not read the caller again).
std::shared_ptr<const OpenCall> open_call(const sdk::NotifContext& call);

// Whether the path of an open, openat or creat cannot name anything under /proc: absolute,
// short, and without "proc" anywhere in it (no component can then be /proc, nor a magic link
// under it). One read into a stack buffer; false whenever that read cannot tell (openat2,
// relative, long or unreadable paths), so the caller decodes the call in full (open_call).
bool surely_outside_proc(const sdk::NotifContext& call) noexcept;

// The open-family syscalls of this architecture.
std::vector<int> open_syscalls();

// Registers `fn` for every open-family syscall and routes them to the listener.
void add_open_handlers(const ModuleSetup& setup, sdk::NotifHandlerFn fn, void* user);
// The same, but a directory open (O_DIRECTORY, which the kernel's filter sees in the flags
// register) skips the supervisor; openat2's flags are in memory, so all of those are routed.
// For a module that only serves regular files: a directory open of one is ENOTDIR anyway.
void add_file_open_handlers(const ModuleSetup& setup, sdk::NotifHandlerFn fn, void* user);

// Answers an open with a read-only file holding `content` (a sealed memfd): a directory open is
// ENOTDIR, an exclusive create EEXIST, and write access or truncation EACCES.
sdk::NotifVerdict serve_content(const OpenCall& open, std::string_view content);

}  // namespace sandlock::notif
