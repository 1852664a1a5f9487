#include "sandbox_registry.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/named.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sandlock {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxName = 64;
constexpr int kAnswerTimeoutMs = 120'000;  // most answers come at once; a checkpoint writes out memory
constexpr std::size_t kMaxAnswer = 16u << 20;

std::string errno_text(int error) { return std::strerror(error); }

// Holds `.registry.lock` while it lives.
class RegistryLock {
public:
    explicit RegistryLock(const fs::path& dir)
        : fd_(::open((dir / ".registry.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) {
        if (!fd_) throw SandboxError("cannot open " + (dir / ".registry.lock").string() + ": " + errno_text(errno));
        while (::flock(fd_.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw SandboxError("cannot lock " + (dir / ".registry.lock").string() + ": " + errno_text(errno));
    }

private:
    Fd fd_;
};

std::string read_small_file(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    char buffer[32];
    const ssize_t n = fd ? ::read(fd.get(), buffer, sizeof buffer) : -1;
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

// Whether the sandlock that took `lock_file` is gone (its flock went with it).
bool is_stale(const fs::path& lock_file) {
    Fd fd(::open(lock_file.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return errno == ENOENT;
    return ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0;
}

void remove_entry(const fs::path& dir, const std::string& name) {
    ::unlink((dir / (name + ".sock")).c_str());
    ::unlink((dir / (name + ".lock")).c_str());
}

sockaddr_un socket_address(const fs::path& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path)
        throw SandboxError("the control socket path " + text + " is too long for a UNIX socket (set XDG_RUNTIME_DIR "
                           "to a shorter directory)");
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    return address;
}

}  // namespace

void check_sandbox_name(std::string_view name) {
    const bool valid = !name.empty() && name.size() <= kMaxName && name != "." && name != ".." &&
                       std::all_of(name.begin(), name.end(), [](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '.' || c == '_' || c == '-';
                       });
    if (!valid)
        throw PolicyError("--name: invalid value " + quote_value(std::string(name)) +
                          " (a name is 1 to 64 of the characters A-Z a-z 0-9 . _ -)");
}

fs::path sandbox_runtime_dir() {
    const uid_t uid = ::geteuid();
    fs::path dir;
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    if (runtime != nullptr && runtime[0] == '/') dir = fs::path(runtime) / "sandlock";
    else dir = "/tmp/sandlock-" + std::to_string(uid);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw SandboxError("cannot create " + dir.string() + ": " + errno_text(errno));
    // Another user may have made it first (under /tmp): it must be ours and private.
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) throw SandboxError("cannot read " + dir.string() + ": " + errno_text(errno));
    if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
        throw SandboxError(dir.string() + " is not a private directory of uid " + std::to_string(uid) + " (owner " +
                           std::to_string(st.st_uid) + ", mode " + mode + "); remove it or set XDG_RUNTIME_DIR");
    }
    return dir;
}

NameRegistration::NameRegistration(const std::string& name) : name_(name), dir_(sandbox_runtime_dir()) {
    check_sandbox_name(name);
    RegistryLock registry(dir_);
    const fs::path lock_file = dir_ / (name + ".lock");
    lock_ = Fd(::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!lock_) throw SandboxError("cannot create " + lock_file.string() + ": " + errno_text(errno));
    if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
        throw SandboxError("--name: a running sandbox is already called " + quote_value(name) +
                           " (see `sandlock ps`; choose another name or `sandlock kill " + name + "`)");
    // Whoever asks this name checks that sandlock itself answers (a process that may write here
    // could put a socket of its own in place of ours).
    const std::string pid = std::to_string(::getpid());
    if (::ftruncate(lock_.get(), 0) != 0 || ::pwrite(lock_.get(), pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
        throw SandboxError("cannot write " + lock_file.string() + ": " + errno_text(errno));
    const fs::path socket_file = dir_ / (name + ".sock");
    ::unlink(socket_file.c_str());  // a stale one: its sandlock died
    socket_ = Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_un address = socket_address(socket_file);
    if (!socket_ || ::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::chmod(socket_file.c_str(), 0600) != 0 || ::listen(socket_.get(), 16) != 0) {
        const int error = errno;
        ::unlink(socket_file.c_str());
        throw SandboxError("cannot listen on " + socket_file.string() + ": " + errno_text(error));
    }
}

NameRegistration::~NameRegistration() {
    try {
        RegistryLock registry(dir_);
        remove_entry(dir_, name_);
    } catch (const SandboxError&) {
        remove_entry(dir_, name_);  // the lock could not be had: ours is still the live entry
    }
}

std::vector<std::string> list_named_sandboxes() {
    const fs::path dir = sandbox_runtime_dir();
    RegistryLock registry(dir);
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const std::string file = entry.path().filename().string();
        if (file.size() <= 5 || !file.ends_with(".lock") || file.starts_with(".")) continue;
        const std::string name = file.substr(0, file.size() - 5);
        try {
            check_sandbox_name(name);  // a file sandlock did not make: not a sandbox
        } catch (const PolicyError&) {
            continue;
        }
        if (is_stale(entry.path())) remove_entry(dir, name);
        else names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string control_named_sandbox(std::string_view name_view, const std::string& request_json) {
    const std::string name(name_view);
    check_sandbox_name(name);
    const fs::path dir = sandbox_runtime_dir();
    const fs::path socket_file = dir / (name + ".sock");
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr_un address = socket_address(socket_file);
    if (!fd || ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const int error = errno;
        if (error == ENOENT || error == ECONNREFUSED) {
            list_named_sandboxes();  // removes the entry if its sandlock died
            throw SandboxError("no running sandbox is called " + quote_value(name) + " (see `sandlock ps`)");
        }
        throw SandboxError("cannot reach the sandbox " + quote_value(name) + ": " + errno_text(error));
    }
    // The sandlock that holds the name's lock must be the one answering.
    ucred peer{};
    socklen_t size = sizeof peer;
    const std::string holder = read_small_file(dir / (name + ".lock"));
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 || holder != std::to_string(peer.pid))
        throw SandboxError("the socket of " + quote_value(name) + " is not served by the sandlock that runs it (pid " +
                           (holder.empty() ? "unknown" : holder) + "); refusing it");
    const std::string line = request_json + "\n";
    if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
        throw SandboxError("cannot reach the sandbox " + quote_value(name) + ": " + errno_text(errno));
    std::string answer;
    for (;;) {
        pollfd readable{fd.get(), POLLIN, 0};
        const int ready = ::poll(&readable, 1, kAnswerTimeoutMs);
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) throw SandboxError("the sandbox " + quote_value(name) + " did not answer");
        char buffer[65536];
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        answer.append(buffer, static_cast<std::size_t>(n));
        if (answer.size() > kMaxAnswer) throw SandboxError("the sandbox " + quote_value(name) + " answered too much");
        if (answer.back() == '\n') break;
    }
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(answer, ec);
    if (ec || !parsed.is_object())
        throw SandboxError("the sandbox " + quote_value(name) + " gave no answer (did it end meanwhile?)");
    const boost::json::object& object = parsed.as_object();
    if (const auto* error = object.if_contains("error"); error != nullptr && error->is_string())
        throw SandboxError(quote_value(name) + ": " + std::string(error->as_string()));
    return boost::json::serialize(object);
}

}  // namespace sandlock
