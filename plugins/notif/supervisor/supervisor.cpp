#include "supervisor/supervisor.hpp"

#include "supervisor/caller_access.hpp"
#include "supervisor/supervisor_thread.hpp"
#include "supervisor/unotify.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace sandlock::notif {
namespace {

std::string errno_text(int error) { return std::strerror(error); }

// Room for struct seccomp_notif as this kernel writes it (80 bytes on Linux 6.x), with margin.
constexpr std::size_t kReceiveBuffer = 512;

// The size the kernel writes for SECCOMP_IOCTL_NOTIF_RECV (at least our struct's).
std::size_t kernel_notif_size() {
    seccomp_notif_sizes sizes{};
    if (::syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return sizeof(seccomp_notif);
    return std::max<std::size_t>(sizeof(seccomp_notif), sizes.seccomp_notif);
}

}  // namespace

Supervisor::Supervisor(const sdk::Host& host, HandlerChain chain)
    : host_(host), chain_(std::move(chain)), counters_(chain_.rules()) {
    api_ = {this, -1, &api_read_memory, &api_read_string, &api_resolve_path, &api_still_valid, &api_get_fd,
            &api_log_failure};
}

Supervisor::~Supervisor() { stop(); }

void Supervisor::start(int listener, int sandbox_pidfd) {
    if (sandbox_pidfd >= 0) sandbox_pidfd_ = ::fcntl(sandbox_pidfd, F_DUPFD_CLOEXEC, 3);
    listener_ = ::fcntl(listener, F_DUPFD_CLOEXEC, 3);
    if (listener_ < 0)
        throw sdk::Error("notif: cannot use the seccomp listener (fd " + std::to_string(listener) +
                         "): " + errno_text(errno));
    api_.listener_fd = listener_;
    notif_size_ = kernel_notif_size();
    if (notif_size_ > kReceiveBuffer)
        throw sdk::Error("notif: this kernel's seccomp notifications are " + std::to_string(notif_size_) +
                         " bytes, more than the supervisor's " + std::to_string(kReceiveBuffer) +
                         "; update sandlock");
    if (!wake_up_.start(listener_))
        host_.debug("synchronous wake-up unavailable (" + errno_text(errno) +
                    "); supervised calls will be slower (needs Linux 6.6)");
    stop_event_ = ::eventfd(0, EFD_CLOEXEC);
    if (stop_event_ < 0) throw sdk::Error("notif: eventfd failed: " + errno_text(errno));
    thread_ = start_supervisor_thread([this] { serve(); });
}

void Supervisor::stop() noexcept {
    stopping_.store(true);  // handlers waiting for their caller give up within a slice
    if (thread_.joinable()) {
        const std::uint64_t one = 1;
        if (::write(stop_event_, &one, sizeof one) < 0) {
            // An eventfd write cannot fail here (counter far from overflow); nothing else to do.
        }
        thread_.join();
        workers_.stop();
        say(sdk::LogLevel::Debug,
            [&] { return "supervisor answered " + std::to_string(answered()) + " notifications"; });
    }
    for (int* fd : {&listener_, &stop_event_, &sandbox_pidfd_}) {
        if (*fd >= 0) ::close(*fd);
        *fd = -1;
    }
}

void Supervisor::serve() noexcept {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_event_, POLLIN, 0}};
    bool answered = false;
    for (;;) {
        // After an answer, first without waiting: whether another call was already waiting.
        // (While synchronous, only now and then: the look delays the caller just answered,
        // which waits for this thread to sleep before it runs on this CPU.)
        int ready = 0;
        if (answered && wake_up_.wants_a_look()) {
            ready = ::poll(fds, 2, 0);
            if (ready >= 0) wake_up_.answered(ready > 0 && (fds[0].revents & POLLIN));
        }
        answered = false;
        if (ready == 0) ready = ::poll(fds, 2, -1);
        if (ready < 0) {
            if (errno == EINTR) continue;
            return fail("poll failed: " + errno_text(errno));
        }
        if (fds[1].revents != 0) return;
        if (fds[0].revents & POLLIN) {
            if (!answer_one()) return;
            answered = true;
        } else if (fds[0].revents & POLLHUP) {
            return;  // no process uses the filter any more
        } else if (fds[0].revents & (POLLERR | POLLNVAL)) {
            return fail("the seccomp listener reported an error");
        }
    }
}

void Supervisor::fail(const std::string& why) noexcept {
    // Killed here at once; the host then ends the run with exit 125 and this reason.
    if (sandbox_pidfd_ >= 0) ::syscall(SYS_pidfd_send_signal, sandbox_pidfd_, SIGKILL, nullptr, 0);
    try {
        host_.abort_run("supervisor: " + why + "; its supervised calls can no longer be answered");
    } catch (...) {
        host_.abort_run("the supervisor stopped");
    }
}

bool Supervisor::answer_one() noexcept {
    // The kernel insists on a zeroed buffer; it may be larger than our struct on newer kernels.
    alignas(seccomp_notif) unsigned char buffer[kReceiveBuffer];
    std::memset(buffer, 0, notif_size_);
    unsigned char* raw = buffer;
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, raw) != 0) {
        // ENOENT: the caller died or was interrupted before we got to it. Anything else means
        // the notifications can no longer be received: waiting on would leave callers blocked.
        if (errno == ENOENT || errno == EINTR) return true;
        fail("cannot receive a notification: " + errno_text(errno));
        return false;
    }
    const auto* notif = reinterpret_cast<const seccomp_notif*>(raw);

    sdk::NotifRequest request{};
    request.id = notif->id;
    request.pid = notif->pid;
    request.syscall_nr = notif->data.nr;
    request.arch = notif->data.arch;
    request.instruction_pointer = notif->data.instruction_pointer;
    std::copy(std::begin(notif->data.args), std::end(notif->data.args), std::begin(request.args));

    // A handler that may wait runs on a worker with its own copy of the request; when no
    // worker can be had it runs here (slower for the others, never unanswered).
    if (chain_.may_wait(request.syscall_nr) &&
        workers_.submit([this, request] { decide_and_send(request); }))
        return true;
    decide_and_send(request);
    return true;
}

void Supervisor::decide_and_send(const sdk::NotifRequest& request) noexcept {
    sdk::NotifVerdict verdict{sdk::VerdictKind::Errno, EPERM, 0, -1, 0};
    std::size_t rule = HandlerChain::kNoRule;
    try {
        verdict = chain_.decide(
            request, api_,
            [&](const sdk::NotifHandlerEntry& entry, std::string_view what) {
                log_handler_failure(request, sdk::view(entry.plugin), what);
            },
            &rule);
    } catch (...) {
        // Only the supervisor itself can fail here (out of memory while logging): deny.
    }
    send(request, verdict);
    counters_.record(verdict, rule);
}

void Supervisor::send(const sdk::NotifRequest& request, const sdk::NotifVerdict& verdict) noexcept {
    switch (verdict.kind) {
        case sdk::VerdictKind::Errno: send_response(request.id, 0, -verdict.error, false); return;
        case sdk::VerdictKind::Value: send_response(request.id, verdict.value, 0, false); return;
        case sdk::VerdictKind::InjectFd: inject_fd(request, verdict); return;
        case sdk::VerdictKind::Next:
        case sdk::VerdictKind::Continue: send_response(request.id, 0, 0, true); return;
    }
    send_response(request.id, 0, -EPERM, false);
}

void Supervisor::inject_fd(const sdk::NotifRequest& request, const sdk::NotifVerdict& verdict) noexcept {
    seccomp_notif_addfd addfd{};
    addfd.id = request.id;
    addfd.srcfd = static_cast<std::uint32_t>(verdict.fd);
    addfd.newfd_flags = verdict.fd_flags & O_CLOEXEC;  // the only flag the kernel accepts
    int installed = -1;
    if (addfd_send_works_.load()) {
        // Installs the fd and answers with its number in one step (Linux 5.14).
        addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
        installed = ::ioctl(listener_, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
        if (installed < 0 && errno == EINVAL) addfd_send_works_.store(false);
        else if (installed < 0 && errno != ENOENT) send_response(request.id, 0, -errno, false);
        if (addfd_send_works_.load()) {
            ::close(verdict.fd);
            return;
        }
    }
    addfd.flags = 0;
    installed = ::ioctl(listener_, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
    if (installed >= 0) send_response(request.id, installed, 0, false);
    else if (errno != ENOENT) send_response(request.id, 0, -errno, false);
    ::close(verdict.fd);
}

void Supervisor::send_response(std::uint64_t id, std::int64_t value, int error, bool continue_call) noexcept {
    seccomp_notif_resp response{};
    response.id = id;
    response.val = value;
    response.error = error;
    response.flags = continue_call ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0;
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0 || errno == ENOENT) return;  // ENOENT: caller gone
    // The kernel refused the answer itself: never leave the caller blocked, deny instead.
    const int refused = errno;
    response = {};
    response.id = id;
    response.error = -EPERM;
    if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &response) != 0 && errno != ENOENT)
        say(sdk::LogLevel::Warning, [&] {
            return "supervisor: cannot answer notification " + std::to_string(id) + ": " + errno_text(refused);
        });
}

template <class Message>
void Supervisor::say(sdk::LogLevel level, Message&& message) const noexcept {
    try {
        host_.log(level, message());
    } catch (...) {
        // Out of memory for a log line: there is nobody left to tell.
    }
}

void Supervisor::log_handler_failure(const sdk::NotifRequest& request, std::string_view who,
                                     std::string_view what) const {
    host_.warning("handler of plugin " + std::string(who) + " for syscall " + std::to_string(request.syscall_nr) +
                  " (pid " + std::to_string(request.pid) + ") " + std::string(what) + "; denied the call with EPERM");
}

std::int64_t Supervisor::api_read_memory(void*, const sdk::NotifRequest* request, std::uint64_t address,
                                         void* buffer, std::size_t size) noexcept {
    return caller::read_memory(static_cast<pid_t>(request->pid), address, buffer, size);
}

std::int64_t Supervisor::api_read_string(void*, const sdk::NotifRequest* request, std::uint64_t address,
                                         char* buffer, std::size_t size) noexcept {
    return caller::read_string(static_cast<pid_t>(request->pid), address, buffer, size);
}

std::int64_t Supervisor::api_resolve_path(void*, const sdk::NotifRequest* request, std::int32_t dirfd,
                                          std::uint64_t path_address, char* buffer, std::size_t size) noexcept {
    return caller::resolve_path(static_cast<pid_t>(request->pid), dirfd, path_address, buffer, size);
}

std::int32_t Supervisor::api_still_valid(void* self, const sdk::NotifRequest* request) noexcept {
    auto* supervisor = static_cast<Supervisor*>(self);
    if (supervisor->stopping_.load(std::memory_order_relaxed)) return 0;  // nobody waits for it any more
    std::uint64_t id = request->id;
    return ::ioctl(supervisor->listener_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 ? 1 : 0;
}

std::int32_t Supervisor::api_get_fd(void* self, const sdk::NotifRequest* request, std::int32_t child_fd) noexcept {
    int fd = caller::copy_fd(static_cast<pid_t>(request->pid), child_fd);
    // The caller may have died and its thread id been reused between the notification and the
    // copy: only an fd taken while the call is still pending belongs to the caller.
    if (fd >= 0 && api_still_valid(self, request) == 0) {
        ::close(fd);
        return -ENOENT;
    }
    return fd;
}

std::int32_t Supervisor::api_log_failure(void* self, const sdk::NotifRequest* request, sdk::Str message) noexcept {
    try {
        static_cast<Supervisor*>(self)->host_.warning("handler failed for syscall " +
                                                      std::to_string(request->syscall_nr) + " (pid " +
                                                      std::to_string(request->pid) + "): " +
                                                      std::string(sdk::view(message)));
        return 0;
    } catch (...) {
        return -ENOMEM;  // logging must not throw across the waist; the call is denied either way
    }
}

}  // namespace sandlock::notif
