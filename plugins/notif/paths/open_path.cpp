#include "paths/open_path.hpp"

#include "procfs/proc_files.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

namespace sandlock::notif {
namespace {

constexpr ino_t kProcRootInode = 1;

bool is_number(std::string_view text) {
    return !text.empty() && text.size() <= 10 &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> parts;
    while (!path.empty()) {
        std::size_t slash = path.find('/');
        parts.emplace_back(path.substr(0, slash));
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    }
    return parts;
}

// How many leading components of `stack` name a process directory: 2 for /proc/<pid>, 4 for
// /proc/<pid>/task/<tid>, 0 when the stack is not inside one.
std::size_t process_dir_length(const std::vector<std::string>& stack) {
    if (stack.size() < 2 || stack[0] != "proc" || !is_number(stack[1])) return 0;
    if (stack.size() >= 4 && stack[2] == "task" && is_number(stack[3])) return 4;
    return 2;
}

// The magic link the stack ends on ("root", "cwd" or "fd/N"), or empty.
std::string magic_link_at_end(const std::vector<std::string>& stack, std::size_t dir_length) {
    if (dir_length == 0) return {};
    if (stack.size() == dir_length + 1 && (stack[dir_length] == "root" || stack[dir_length] == "cwd"))
        return stack[dir_length];
    if (stack.size() == dir_length + 2 && stack[dir_length] == "fd" && is_number(stack[dir_length + 1]))
        return "fd/" + stack[dir_length + 1];
    return {};
}

std::string join(const std::vector<std::string>& parts, std::size_t count) {
    std::string path;
    for (std::size_t i = 0; i < count; ++i) path += "/" + parts[i];
    return path.empty() ? "/" : path;
}

// Every link lookup of one notification, as the caller sees /proc: pids are the ones it
// names (inside the sandbox's PID namespace, the namespace's own), and links are read in its
// own /proc (that of its root), never in ours, where the same number is another process.
class LiveProcLinks final : public ProcLinkSource {
public:
    explicit LiveProcLinks(pid_t tid) : tid_(tid) {}

    pid_t caller_tid() override { return own_ids() ? ids_.tid : -ESRCH; }
    pid_t caller_tgid() override { return own_ids() ? ids_.tgid : -ESRCH; }
    int link_target(std::string_view proc_dir, std::string_view link, std::string& target) override {
        if (!proc_tried_) {
            proc_tried_ = true;
            const int fd = open_caller_proc(tid_);
            if (fd < 0) proc_error_ = fd;
            proc_ = sdk::OwnedFd(fd < 0 ? -1 : fd);
        }
        if (proc_.get() < 0) return proc_error_;
        // proc_dir is "/proc/<pid>" or "/proc/<pid>/task/<tid>": numbers only, no symlink.
        const std::string relative = std::string(proc_dir.substr(6)) + "/" + std::string(link);
        if (int rc = read_link(proc_.get(), relative, target); rc < 0) return rc;
        if (target.empty() || target.front() != '/') return -ENOTDIR;  // socket:[..], pipe:[..], anon_inode:..
        if (target.ends_with(" (deleted)")) return -ENOENT;
        // The supervisor reads links through its own root; the caller's may be a chroot.
        if (root_.empty()) {
            if (int rc = read_link(AT_FDCWD, "/proc/" + std::to_string(tid_) + "/root", root_); rc < 0) return rc;
        }
        if (root_ != "/" && target.starts_with(root_) &&
            (target.size() == root_.size() || target[root_.size()] == '/'))
            target.erase(0, root_.size());
        if (target.empty()) target = "/";
        return 0;
    }
    pid_t known_tgid() const { return looked_up_ && ids_.tgid > 0 ? ids_.tgid : 0; }

private:
    bool own_ids() {
        if (!looked_up_) {
            looked_up_ = true;
            if (auto ids = proc::read_own_ids(tid_)) ids_ = *ids;
        }
        return ids_.tgid > 0;
    }

    static int read_link(int dir, const std::string& path, std::string& out) {
        char buffer[PATH_MAX];
        ssize_t n = ::readlinkat(dir, path.c_str(), buffer, sizeof buffer);
        if (n < 0) return -errno;
        if (static_cast<std::size_t>(n) == sizeof buffer) return -ENAMETOOLONG;
        out.assign(buffer, static_cast<std::size_t>(n));
        return 0;
    }

    pid_t tid_;
    bool looked_up_ = false;
    proc::OwnIds ids_;
    sdk::OwnedFd proc_;  // the caller's /proc, opened on first use
    bool proc_tried_ = false;
    int proc_error_ = -ENOENT;
    std::string root_;
};

// The decoded (dirfd, path, flags) of one open-family call.
struct RawOpen {
    int dirfd = AT_FDCWD;
    std::uint64_t path_address = 0;
    std::uint64_t flags = 0;
    std::uint64_t resolve = 0;
};

int as_fd(std::uint64_t arg) { return static_cast<int>(static_cast<std::int32_t>(arg)); }

RawOpen decode(const sdk::NotifContext& call) {
    RawOpen raw;
    const int nr = call.syscall();
#ifdef SYS_open
    if (nr == SYS_open) return {AT_FDCWD, call.arg(0), static_cast<std::uint32_t>(call.arg(1)), 0};
#endif
#ifdef SYS_creat
    if (nr == SYS_creat) return {AT_FDCWD, call.arg(0), O_CREAT | O_WRONLY | O_TRUNC, 0};
#endif
    raw.dirfd = as_fd(call.arg(0));
    raw.path_address = call.arg(1);
    if (nr != SYS_openat2) {
        raw.flags = static_cast<std::uint32_t>(call.arg(2));
        return raw;
    }
    // struct open_how: flags, mode, resolve; a larger struct must be zero past what we know
    // (the kernel says E2BIG otherwise), a smaller one is EINVAL.
    const std::uint64_t size = call.arg(3);
    if (size < sizeof(open_how)) throw sdk::NotifError(EINVAL, "open_how too small");
    if (size > 4096) throw sdk::NotifError(E2BIG, "open_how too large");
    std::vector<unsigned char> bytes(size);
    call.read_memory(call.arg(2), bytes.data(), bytes.size());
    if (std::any_of(bytes.begin() + sizeof(open_how), bytes.end(), [](unsigned char b) { return b != 0; }))
        throw sdk::NotifError(E2BIG, "open_how has unknown fields");
    open_how how;
    std::memcpy(&how, bytes.data(), sizeof how);
    raw.flags = how.flags;
    raw.resolve = how.resolve;
    return raw;
}

std::shared_ptr<const OpenCall> read_open_call(const sdk::NotifContext& call) {
    auto open = std::make_shared<OpenCall>();
    open->tid = call.pid();
    try {
        const RawOpen raw = decode(call);
        open->flags = raw.flags;
        open->resolve = raw.resolve;
        // An empty path is ENOENT for the open family (no AT_EMPTY_PATH), whatever the dirfd.
        if (call.read<char>(raw.path_address) == '\0') throw sdk::NotifError(ENOENT, "empty path");
        const std::string absolute = call.resolve_path(raw.dirfd, raw.path_address);
        LiveProcLinks links(open->tid);
        NormalizedPath normalized = normalize_path(absolute, links);
        open->error = normalized.error;
        open->path = std::move(normalized.path);
        open->tgid = links.known_tgid();
    } catch (const sdk::NotifError& e) {
        open->error = e.error();
    }
    return open;
}

// The last few decoded calls, by notification: the modules run one after the other for the
// same notification, and each sandbox has its own supervisor thread.
class OpenCallCache {
public:
    std::shared_ptr<const OpenCall> get(const sdk::NotifContext& call) {
        const sdk::NotifRequest& request = call.request();
        {
            std::lock_guard lock(mutex_);
            for (const Slot& slot : slots_)
                if (slot.call && slot.id == request.id && slot.pid == request.pid) return slot.call;
        }
        auto decoded = read_open_call(call);
        std::lock_guard lock(mutex_);
        slots_[next_] = {request.id, request.pid, decoded};
        next_ = (next_ + 1) % slots_.size();
        return decoded;
    }

private:
    struct Slot {
        std::uint64_t id = 0;
        std::uint32_t pid = 0;
        std::shared_ptr<const OpenCall> call;
    };
    std::mutex mutex_;
    std::array<Slot, 8> slots_;
    std::size_t next_ = 0;
};

OpenCallCache& cache() {
    static OpenCallCache instance;
    return instance;
}

bool is_proc_root(int fd) {
    struct statfs fs;
    struct stat st;
    return ::fstatfs(fd, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC && ::fstat(fd, &st) == 0 &&
           S_ISDIR(st.st_mode) && st.st_ino == kProcRootInode;
}

}  // namespace

int open_caller_proc(pid_t tid) {
    sdk::OwnedFd root(::open(("/proc/" + std::to_string(tid) + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) return -errno;
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    sdk::OwnedFd proc(static_cast<int>(::syscall(SYS_openat2, root.get(), "proc", &how, sizeof how)));
    if (proc.get() < 0) return -errno;
    if (!is_proc_root(proc.get())) return -ENOENT;  // no proc there: the caller has no /proc
    return proc.release();
}

std::string normalize_lexically(std::string_view path) {
    std::vector<std::string> stack;
    for (std::string& part : split(path)) {
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        stack.push_back(std::move(part));
    }
    return join(stack, stack.size());
}

NormalizedPath normalize_path(std::string_view absolute, ProcLinkSource& links) {
    NormalizedPath out;
    auto fail = [&](int error) {
        out.error = error;
        out.path = std::string(absolute);
        return out;
    };
    // Components still to walk, next one last.
    std::vector<std::string> pending = split(absolute);
    std::reverse(pending.begin(), pending.end());
    std::vector<std::string> stack;
    int link_jumps = 0;
    while (!pending.empty()) {
        std::string part = std::move(pending.back());
        pending.pop_back();
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (!stack.empty()) stack.pop_back();
            continue;
        }
        stack.push_back(std::move(part));

        // The /proc entries that are symlinks to the caller's own directory.
        if (stack.size() == 2 && stack[0] == "proc") {
            const std::string name = stack[1];
            if (name == "self" || name == "thread-self" || name == "mounts" || name == "net") {
                const pid_t tgid = links.caller_tgid();
                if (tgid < 0) return fail(-tgid);
                stack[1] = std::to_string(tgid);
                if (name == "thread-self") {
                    stack.push_back("task");
                    stack.push_back(std::to_string(links.caller_tid()));
                } else if (name == "mounts" || name == "net") {
                    stack.push_back(name);
                }
            }
        }

        // Walking through a magic link continues from its target.
        if (pending.empty()) continue;
        const std::size_t dir_length = process_dir_length(stack);
        const std::string link = magic_link_at_end(stack, dir_length);
        if (link.empty()) continue;
        if (++link_jumps > 40) return fail(ELOOP);
        std::string target = "/";  // root: the caller's own root (a sandbox shares one root)
        if (link != "root") {
            if (int rc = links.link_target(join(stack, dir_length), link, target); rc < 0) return fail(-rc);
        }
        stack.clear();
        std::vector<std::string> parts = split(target);
        pending.insert(pending.end(), parts.rbegin(), parts.rend());
    }
    out.path = join(stack, stack.size());
    if (out.path.size() >= 2 * PATH_MAX) return fail(ENAMETOOLONG);
    return out;
}

std::optional<std::string> self_form(std::string_view normalized, pid_t caller_tgid) {
    const std::string own = "/proc/" + std::to_string(caller_tgid);
    if (caller_tgid <= 0 || !normalized.starts_with(own)) return std::nullopt;
    std::string_view rest = normalized.substr(own.size());
    if (!rest.empty() && rest.front() != '/') return std::nullopt;
    return "/proc/self" + std::string(rest);
}

bool OpenCall::writes() const {
    const std::uint64_t access = flags & O_ACCMODE;
    return access != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

std::uint32_t OpenCall::inject_flags() const { return (flags & O_CLOEXEC) != 0 ? O_CLOEXEC : 0; }

std::shared_ptr<const OpenCall> open_call(const sdk::NotifContext& call) { return cache().get(call); }

bool surely_outside_proc(const sdk::NotifContext& call) noexcept {
    std::uint64_t address = 0;
    switch (call.syscall()) {
        case SYS_openat: address = call.arg(1); break;
#ifdef SYS_open
        case SYS_open: address = call.arg(0); break;
#endif
#ifdef SYS_creat
        case SYS_creat: address = call.arg(0); break;
#endif
        default: return false;  // openat2: RESOLVE_IN_ROOT makes even an absolute path relative
    }
    char path[256];
    const std::int64_t length = call.read_string_into(address, path, sizeof path);
    if (length <= 0 || path[0] != '/') return false;
    return std::string_view(path, static_cast<std::size_t>(length)).find("proc") == std::string_view::npos;
}

std::vector<int> open_syscalls() {
    std::vector<int> syscalls = {SYS_openat, SYS_openat2};
#ifdef SYS_open
    syscalls.push_back(SYS_open);
#endif
#ifdef SYS_creat
    syscalls.push_back(SYS_creat);
#endif
    return syscalls;
}

void add_open_handlers(const ModuleSetup& setup, sdk::NotifHandlerFn fn, void* user) {
    for (int nr : open_syscalls()) {
        setup.table.add(nr, fn, user);
        setup.host.request_notify(nr);
    }
}

void add_file_open_handlers(const ModuleSetup& setup, sdk::NotifHandlerFn fn, void* user) {
    for (int nr : open_syscalls()) {
        setup.table.add(nr, fn, user);
        std::uint32_t flags_arg = 2;  // openat
#ifdef SYS_open
        if (nr == SYS_open) flags_arg = 1;
#endif
#ifdef SYS_creat
        if (nr == SYS_creat) {
            setup.host.request_notify(nr);  // its flags are implied
            continue;
        }
#endif
        if (nr == SYS_openat2) setup.host.request_notify(nr);
        else setup.host.request_notify_when(nr, {{flags_arg, SANDLOCK_NOTIFY_MASKED_EQ, O_DIRECTORY, 0}});
    }
}

sdk::NotifVerdict serve_content(const OpenCall& open, std::string_view content) {
    if ((open.flags & O_TMPFILE) != O_TMPFILE && (open.flags & O_DIRECTORY) != 0) return sdk::Verdict::error(ENOTDIR);
    if ((open.flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) return sdk::Verdict::error(EEXIST);
    if (open.writes()) return sdk::Verdict::error(EACCES);

    sdk::OwnedFd file(::memfd_create("sandlock-virtual", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (file.get() < 0) throw sdk::NotifError(errno, "memfd_create failed");
    for (std::size_t done = 0; done < content.size();) {
        ssize_t n = ::write(file.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw sdk::NotifError(n < 0 ? errno : EIO, "cannot fill the virtual file");
        done += static_cast<std::size_t>(n);
    }
    // Sealed: the caller gets a file it can read and seek but never change.
    if (::fcntl(file.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
        ::lseek(file.get(), 0, SEEK_SET) != 0)
        throw sdk::NotifError(errno, "cannot seal the virtual file");
    // A read-only reopen, so a write fails with EBADF as on any file opened for reading (the
    // seals alone would say EPERM); the sealed fd serves when /proc is out of the supervisor's reach.
    const std::string self = "/proc/self/fd/" + std::to_string(file.get());
    sdk::OwnedFd read_only(::open(self.c_str(), O_RDONLY | O_CLOEXEC));
    return sdk::Verdict::inject(read_only.get() >= 0 ? read_only.release() : file.release(), open.inject_flags());
}

}  // namespace sandlock::notif
