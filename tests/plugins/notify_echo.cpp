// Test plugin: asks the seccomp layer to route getppid to the listener and answers it with
// 4242 from a thread in the parent, letting every other notified call continue. Proves the
// notify routing and the listener hand-off end to end.
#include <sandlock/sdk/export.hpp>

#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <thread>

namespace {

constexpr long kAnswer = 4242;

// The listener fd (a dup: the host owns the original) and a pipe that tells the thread to stop.
class EchoServer {
public:
    explicit EchoServer(int listener) : listener_(::fcntl(listener, F_DUPFD_CLOEXEC, 3)) {
        if (listener_ < 0 || ::pipe2(stop_, O_CLOEXEC) != 0) {
            const int err = errno;
            if (listener_ >= 0) ::close(listener_);
            throw sandlock::sdk::Error(std::string("notify_echo: ") + std::strerror(err));
        }
        thread_ = std::thread([this] { serve(); });
    }
    ~EchoServer() {
        ::close(stop_[1]);  // end-of-file on the stop pipe wakes the thread if it still waits
        thread_.join();
        ::close(stop_[0]);
        ::close(listener_);
    }
    EchoServer(const EchoServer&) = delete;
    EchoServer& operator=(const EchoServer&) = delete;

private:
    void serve() {
        for (;;) {
            pollfd fds[2] = {{listener_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (fds[1].revents != 0) return;
            if (fds[0].revents & POLLIN) answer_one();
            else if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) return;  // the child is gone
        }
    }

    void answer_one() {
        seccomp_notif request;
        std::memset(&request, 0, sizeof request);  // the kernel insists on a zeroed buffer
        if (::ioctl(listener_, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) return;  // ENOENT: caller died
        seccomp_notif_resp response;
        std::memset(&response, 0, sizeof response);
        response.id = request.id;
        if (request.data.nr == SYS_getppid) response.val = kAnswer;
        else response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        ::ioctl(listener_, SECCOMP_IOCTL_NOTIF_SEND, &response);  // ENOENT: caller died meanwhile
    }

    int listener_;
    int stop_[2] = {-1, -1};
    std::thread thread_;
};

class NotifyEcho final : public sandlock::sdk::Plugin {
public:
    explicit NotifyEcho(const sandlock::sdk::HostApi* host) : Plugin(host, "notify_echo") {}

    void configure(const sandlock::Policy&, const boost::json::object&) override {
        host().request_notify(SYS_getppid);
    }
    void after_fork(const sandlock::sdk::ParentContext& ctx) override {
        if (ctx.listener_fd < 0)
            throw sandlock::sdk::Error("notify_echo: no seccomp listener (is the seccomp plugin enabled?)");
        server_.emplace(ctx.listener_fd);
    }
    void on_exit(const sandlock::sdk::ExitInfo&) noexcept override { server_.reset(); }

private:
    std::optional<EchoServer> server_;
};

constexpr sandlock::sdk::Manifest kManifest{"notify_echo", "test: answers getppid with 4242", {}, 0, 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(NotifyEcho, kManifest)
