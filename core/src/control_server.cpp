#include "control_server.hpp"

#include "checkpoint_commands.hpp"
#include "kernel.hpp"
#include "session.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace sandlock {
namespace {

constexpr int kRequestTimeoutMs = 2000;  // a client gets this long to send its request
constexpr int kPeerPidfd = 77;           // SO_PEERPIDFD (Linux 6.5), missing from older headers
constexpr std::size_t kMaxRequest = 64u << 10;

std::uint64_t number(const boost::json::object& request, const char* key) {
    const boost::json::value& v = request.at(key);
    if (v.is_uint64()) return v.as_uint64();
    if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
    throw PolicyError(std::string(key) + ": not a non-negative whole number");
}

}  // namespace

ControlServer::ControlServer(Session& session, std::unique_ptr<NameRegistration> registration)
    : session_(session), registration_(std::move(registration)), stop_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!stop_) throw SandboxError("eventfd failed: " + std::string(std::strerror(errno)));
    thread_ = std::thread([this] { serve(); });
}

ControlServer::~ControlServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
}

void ControlServer::serve() noexcept {
    for (;;) {
        pollfd polled[2] = {{registration_->listen_fd(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
        if (::poll(polled, 2, -1) < 0) {
            if (errno == EINTR) continue;
            return;
        }
        if (polled[1].revents != 0) return;
        Fd client(::accept4(registration_->listen_fd(), nullptr, nullptr, SOCK_CLOEXEC));
        if (client) answer(client.get());
    }
}

// Why the peer may not control this sandbox, or empty. Another user is refused (the
// directory's mode is the first fence; this one holds if it were opened), and so is any process
// of a sandbox: it has our uid, and Landlock does not keep it from connecting to a named socket
// it can name, but it lives in a PID namespace of its own. The peer is held by a pidfd taken
// with the connection, so a pid reused meanwhile cannot pass for it.
static std::string refusal(int client) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) return "cannot identify the peer";
    if (peer.uid != ::geteuid()) return "permission denied: the sandbox belongs to another user";
    int pidfd = -1;
    size = sizeof pidfd;
    if (::getsockopt(client, SOL_SOCKET, kPeerPidfd, &pidfd, &size) != 0) pidfd = pidfd_open(peer.pid);  // before 6.5
    const Fd peer_pidfd(pidfd);
    struct stat ours {}, theirs {};
    const bool same_namespace = ::stat("/proc/self/ns/pid", &ours) == 0 &&
                                ::stat(("/proc/" + std::to_string(peer.pid) + "/ns/pid").c_str(), &theirs) == 0 &&
                                ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
    const bool still_that_process =
        peer_pidfd && ::syscall(SYS_pidfd_send_signal, peer_pidfd.get(), 0, nullptr, 0) == 0;
    if (!same_namespace || !still_that_process) return "permission denied: a process inside a sandbox may not control sandboxes";
    return {};
}

// One request line in, one answer line out, within one deadline: a client that trickles or
// never reads cannot hold the sandbox's control thread.
void ControlServer::answer(int client) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kRequestTimeoutMs);
    auto left_ms = [&] {
        return static_cast<int>(std::max<long long>(
            0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count()));
    };
    boost::json::object reply;
    try {
        if (std::string why = refusal(client); !why.empty()) {
            reply["error"] = why;
        } else {
            std::string line;
            while (line.find('\n') == std::string::npos && line.size() < kMaxRequest) {
                pollfd readable{client, POLLIN, 0};
                if (::poll(&readable, 1, left_ms()) != 1) break;
                char buffer[4096];
                const ssize_t n = ::recv(client, buffer, sizeof buffer, MSG_DONTWAIT);
                if (n <= 0) break;
                line.append(buffer, static_cast<std::size_t>(n));
            }
            boost::system::error_code ec;
            boost::json::value request = boost::json::parse(line, ec);
            if (ec || !request.is_object()) reply["error"] = "the request is not a JSON object";
            else reply = handle(request.as_object());
        }
    } catch (const std::exception& e) {
        reply = {{"error", e.what()}};
    }
    try {
        const std::string text = boost::json::serialize(reply) + "\n";
        std::size_t sent = 0;
        while (sent < text.size()) {
            pollfd writable{client, POLLOUT, 0};
            if (::poll(&writable, 1, std::max(left_ms(), 1000)) != 1) break;
            const ssize_t n = ::send(client, text.data() + sent, text.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n <= 0 && errno != EAGAIN && errno != EINTR) break;
            if (n > 0) sent += static_cast<std::size_t>(n);
        }
    } catch (...) {
        // Out of memory for the answer: the client sees the connection close.
    }
}

boost::json::object ControlServer::handle(const boost::json::object& request) {
    const boost::json::value* command = request.if_contains("command");
    const std::string what = command != nullptr && command->is_string() ? std::string(command->as_string()) : "";
    boost::json::object reply;
    if (what == "status") {
        reply = session_.status();
        reply["name"] = registration_->name();
        reply["sandlock_pid"] = ::getpid();
        boost::json::array plugins;
        for (const auto& name : session_.plugin_names()) plugins.emplace_back(name);
        reply["plugins"] = std::move(plugins);
    } else if (what == "policy") {
        const Policy policy = session_.policy();
        reply["policy"] = boost::json::parse(policy_to_json(policy));
        reply["toml"] = policy_to_toml(policy);
    } else if (what == "pause") {
        session_.pause();
    } else if (what == "resume") {
        session_.resume();
    } else if (what == "checkpoint") {
        // `sandlock checkpoint NAME --save CP`: taken here, where the sandbox's processes are
        // this process's descendants (ptrace).
        const boost::json::value* save = request.if_contains("save");
        if (save == nullptr || !save->is_string()) throw SandboxError("checkpoint: the request names no checkpoint to save");
        Checkpoint checkpoint = CheckpointAccess::take(session_, session_.app_state(), {});
        checkpoint.save(std::string(save->as_string()));
        std::uint64_t bytes = 0;
        for (const CheckpointProcess& p : checkpoint.processes()) bytes += p.memory_bytes;
        reply["processes"] = checkpoint.processes().size();
        reply["memory_bytes"] = bytes;
        reply["unrestorable"] = boost::json::array(checkpoint.unrestorable().begin(), checkpoint.unrestorable().end());
    } else if (what == "kill") {
        session_.terminate("killed by `sandlock kill`");
    } else if (what == "update") {
        Limits limits;
        if (request.contains("max_memory")) limits.max_memory = number(request, "max_memory");
        if (request.contains("max_processes"))
            limits.max_processes = static_cast<std::uint32_t>(std::min<std::uint64_t>(number(request, "max_processes"), UINT32_MAX));
        if (request.contains("max_cpu"))
            limits.max_cpu = static_cast<std::uint32_t>(std::min<std::uint64_t>(number(request, "max_cpu"), UINT32_MAX));
        session_.update(limits);
    } else {
        reply["error"] = "unknown request " + what + " (status, policy, pause, resume, checkpoint, kill, update)";
        return reply;
    }
    reply["ok"] = true;
    return reply;
}

}  // namespace sandlock
