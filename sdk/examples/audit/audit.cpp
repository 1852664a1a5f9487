// audit: a third-party sandlock plugin, built out of tree against the installed SDK only.
//
// Writes one JSON line per execve/execveat (path and argv) and per connect (family, address,
// port — or path for AF_UNIX) to the file named by [plugins.audit] log, or to sandlock's
// stderr. It never decides anything: every handler answers Verdict::next(), so the built-in
// layers (and the kernel) still decide. Handlers run after the built-in ones, so a call a
// built-in answers itself — e.g. a connect that net_allow_hosts performs on the caller's
// behalf — is not seen here.
//
//   [plugins.audit]
//   log = "/var/log/sandlock-audit.jsonl"
//
//   sandlock --plugin-path DIR --plugins=landlock,seccomp,notif,audit run -p PROFILE -- CMD
//
// What is logged is what the caller's memory held when the handler read it; a program that
// rewrites its own arguments from another thread can make the log differ from what the kernel
// then uses. That is fine for an audit trail; a handler that *decides* must not work this way
// (see sdk/README.md, "Deciding safely").
#include <sandlock/sdk/export.hpp>
#include <sandlock/sdk/notif.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>

namespace audit {

namespace sdk = sandlock::sdk;

constexpr std::size_t kMaxArgs = 256;  // argv entries logged per exec (the rest is counted)

class AuditPlugin final : public sdk::Plugin {
public:
    explicit AuditPlugin(const sdk::HostApi* host) : Plugin(host, "audit") {}
    ~AuditPlugin() override {
        if (log_fd_ > 2) ::close(log_fd_);
    }

    void configure(const sandlock::Policy&, const boost::json::object& options) override {
        for (const auto& [key, value] : options) {
            if (key != "log")
                throw sdk::Error("[plugins.audit]: unknown option \"" + std::string(key) + "\"; the only option is log");
            if (!value.is_string() || value.as_string().empty())
                throw sdk::Error("[plugins.audit] log: expected a file path such as \"/tmp/audit.jsonl\", got " +
                                 boost::json::serialize(value));
        }
        if (const auto* log = options.if_contains("log")) {
            const std::string path(log->as_string());
            log_fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (log_fd_ < 0)
                throw sdk::Error("[plugins.audit] log: cannot open \"" + path + "\": " + std::strerror(errno));
        }
        sdk::on_syscall<&AuditPlugin::on_execve>(host(), SYS_execve, this);
        sdk::on_syscall<&AuditPlugin::on_execve>(host(), SYS_execveat, this);
        sdk::on_syscall<&AuditPlugin::on_connect>(host(), SYS_connect, this);
    }

private:
    sdk::NotifVerdict on_execve(sdk::NotifContext& call) {
        const bool at = call.syscall() == SYS_execveat;
        boost::json::object event = base_event("execve", call);
        try {
            event["path"] = at ? call.resolve_path(static_cast<int>(call.arg(0)), call.arg(1))
                               : call.read_string(call.arg(0));
            event["argv"] = read_argv(call, call.arg(at ? 2 : 1));
        } catch (const sdk::NotifError& e) {
            event["error"] = std::strerror(e.error());  // logged as far as it could be read
        }
        write(event);
        return sdk::Verdict::next();
    }

    sdk::NotifVerdict on_connect(sdk::NotifContext& call) {
        boost::json::object event = base_event("connect", call);
        event["fd"] = static_cast<int>(call.arg(0));
        try {
            sockaddr_storage address{};
            const std::size_t length = std::min<std::uint64_t>(call.arg(2), sizeof address);
            call.read_memory(call.arg(1), &address, length);
            describe(address, length, event);
        } catch (const sdk::NotifError& e) {
            event["error"] = std::strerror(e.error());
        }
        write(event);
        return sdk::Verdict::next();
    }

    static boost::json::object base_event(const char* kind, const sdk::NotifContext& call) {
        return {{"time", utc_now()}, {"event", kind}, {"pid", call.pid()}};
    }

    // "2025-01-31T12:34:56.789Z"
    static std::string utc_now() {
        using namespace std::chrono;
        const auto now = system_clock::now();
        const std::time_t seconds = system_clock::to_time_t(now);
        const auto millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
        std::tm utc{};
        ::gmtime_r(&seconds, &utc);
        char text[40];
        const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
        std::snprintf(text + n, sizeof text - n, ".%03dZ", millis);
        return text;
    }

    static boost::json::array read_argv(const sdk::NotifContext& call, std::uint64_t argv) {
        boost::json::array args;
        if (argv == 0) return args;
        for (std::size_t i = 0;; ++i) {
            const auto pointer = call.read<std::uint64_t>(argv + i * sizeof(std::uint64_t));
            if (pointer == 0) break;
            if (i == kMaxArgs) {
                args.emplace_back("...");
                break;
            }
            args.emplace_back(call.read_string(pointer));
        }
        return args;
    }

    static void describe(const sockaddr_storage& address, std::size_t length, boost::json::object& event) {
        char text[INET6_ADDRSTRLEN] = {};
        switch (address.ss_family) {
            case AF_INET: {
                const auto& in = reinterpret_cast<const sockaddr_in&>(address);
                event["family"] = "AF_INET";
                event["address"] = ::inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
                event["port"] = ntohs(in.sin_port);
                return;
            }
            case AF_INET6: {
                const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
                event["family"] = "AF_INET6";
                event["address"] = ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
                event["port"] = ntohs(in6.sin6_port);
                return;
            }
            case AF_UNIX: {
                const auto& un = reinterpret_cast<const sockaddr_un&>(address);
                const std::size_t size = length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
                std::string path(un.sun_path, ::strnlen(un.sun_path, size));
                if (size > 0 && un.sun_path[0] == '\0') path = "@" + std::string(un.sun_path + 1, size - 1);  // abstract
                event["family"] = "AF_UNIX";
                event["path"] = path;
                return;
            }
            default: event["family"] = static_cast<int>(address.ss_family);
        }
    }

    // One write per line: concurrent sandboxes appending to the same file do not interleave.
    void write(const boost::json::object& event) {
        const std::string line = boost::json::serialize(event) + "\n";
        std::lock_guard lock(mutex_);
        [[maybe_unused]] ssize_t ignored = ::write(log_fd_, line.data(), line.size());
    }

    int log_fd_ = 2;  // stderr unless [plugins.audit] log names a file
    std::mutex mutex_;
};

constexpr sdk::Manifest kManifest{
    .name = "audit",
    .description = "logs every execve and connect as a JSON line ([plugins.audit] log = FILE)",
    .owned_fields = {},
    .child_stages = 0,
    .flags = 0,
};

}  // namespace audit

SANDLOCK_EXPORT_PLUGIN(audit::AuditPlugin, audit::kManifest)
