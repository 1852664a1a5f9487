// Test plugin: a third-party notification handler, configured by its [plugins.notif_probe]
// table: {"rules": [{"syscall": N, "arg_index": I, "arg_value": V, "action": A, ...}]}.
// A rule applies when argument I equals V (always, without arg_index). Actions:
//   "errno"        answer with the rule's "errno"          "throw"   throw from the handler
//   "sleep"        sleep "sleep_ms", then no opinion        "next"    no opinion
//   "value"        answer with the rule's "value"           "inject"  install a /dev/null fd
//   "bad_verdict"  a raw handler returning a verdict of unknown kind
// and, to exercise the context helpers:
//   "expect_path"  resolve (args[0] as dirfd, args[1] as path): EXDEV when it equals "expected"
//   "expect_string" read the string at args[0]: EXDEV when it equals "expected"
//   "fd_size"      copy the caller's fd args[0] (get_fd) and answer with its size
//   "read_u32"     answer with the 4 bytes at address args[0]
// and the SDK's on-behalf helpers (on_behalf.hpp):
//   "open_for"     openat: open "expected" with the caller's flags (args[2]) and inject the fd
//   "connect_for"  connect: copy the sockaddr (args[1], args[2]) and connect the caller's fd
//   "send_for"     sendto: copy data and address and send on the caller's fd
// Proves that third-party handlers run after the built-ins and that failures fail closed.
#include <sandlock/sdk/export.hpp>
#include <sandlock/sdk/notif.hpp>
#include <sandlock/sdk/on_behalf.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

namespace sdk = sandlock::sdk;

struct Rule {
    int syscall = -1;
    std::optional<int> arg_index;
    std::uint64_t arg_value = 0;
    std::string action;
    int error = 0;
    int sleep_ms = 0;
    std::int64_t value = 0;
    std::string expected;

    bool applies(const sdk::NotifRequest& request) const {
        return !arg_index || request.args[*arg_index] == arg_value;
    }

    sdk::NotifVerdict handle(sdk::NotifContext& call) {
        if (!applies(call.request())) return sdk::Verdict::next();
        if (action == "errno") return sdk::Verdict::error(error);
        if (action == "value") return sdk::Verdict::value(value);
        if (action == "inject") {
            int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw sdk::NotifError(errno, "notif_probe: cannot open /dev/null");
            return sdk::Verdict::inject(fd, 0);
        }
        if (action == "throw") throw std::runtime_error("notif_probe: thrown on purpose");
        if (action == "sleep") std::this_thread::sleep_for(std::chrono::milliseconds(sleep_ms));
        if (action == "expect_path") {
            std::string path = call.resolve_path(static_cast<int>(call.arg(0)), call.arg(1));
            return path == expected ? sdk::Verdict::error(EXDEV) : sdk::Verdict::next();
        }
        if (action == "expect_string")
            return call.read_string(call.arg(0)) == expected ? sdk::Verdict::error(EXDEV) : sdk::Verdict::next();
        if (action == "fd_size") {
            sdk::OwnedFd fd = call.get_fd(static_cast<int>(call.arg(0)));
            struct stat st {};
            if (::fstat(fd.get(), &st) != 0) throw sdk::NotifError(errno, "notif_probe: fstat");
            if (!call.still_valid()) return sdk::Verdict::next();
            return sdk::Verdict::value(st.st_size);
        }
        if (action == "read_u32") return sdk::Verdict::value(call.read<std::uint32_t>(call.arg(0)));
        if (action == "open_for") return sdk::open_for_caller(call, expected, static_cast<int>(call.arg(2)));
        if (action == "connect_for" || action == "send_for") {
            const bool send = action == "send_for";
            sockaddr_storage address{};
            const auto length = static_cast<socklen_t>(std::min<std::uint64_t>(call.arg(send ? 5 : 2), sizeof address));
            call.read_memory(call.arg(send ? 4 : 1), &address, length);
            if (!send) return sdk::connect_for_caller(call, static_cast<int>(call.arg(0)), &address, length);
            std::string data(std::min<std::uint64_t>(call.arg(2), 65536), '\0');
            call.read_memory(call.arg(1), data.data(), data.size());
            return sdk::send_for_caller(call, static_cast<int>(call.arg(0)), data.data(), data.size(),
                                        static_cast<int>(call.arg(3)), call.arg(4) == 0 ? nullptr : &address, length);
        }
        return sdk::Verdict::next();
    }

    // Registered raw, without the SDK's wrapper: the supervisor itself must catch this.
    static void bad_verdict(void* user, const sdk::NotifRequest* request, const sdk::NotifContextApi*,
                            sdk::NotifVerdict* verdict) {
        if (!static_cast<Rule*>(user)->applies(*request)) return;  // leaves Next
        verdict->kind = 99;  // no SANDLOCK_VERDICT_* has this number
    }
};

std::int64_t integer(const boost::json::object& rule, const char* key) {
    const auto* value = rule.if_contains(key);
    if (value == nullptr) throw sdk::Error(std::string("[plugins.notif_probe] rule without \"") + key + "\"");
    return value->to_number<std::int64_t>();
}

class NotifProbe final : public sdk::Plugin {
public:
    explicit NotifProbe(const sdk::HostApi* host) : Plugin(host, "notif_probe") {}

    void configure(const sandlock::Policy&, const boost::json::object& options) override {
        const auto* rules = options.if_contains("rules");
        if (rules == nullptr || !rules->is_array()) throw sdk::Error("[plugins.notif_probe] rules: expected an array");
        for (const auto& value : rules->as_array()) {
            const auto& object = value.as_object();
            Rule& rule = rules_.emplace_back();
            rule.syscall = static_cast<int>(integer(object, "syscall"));
            rule.action = std::string(object.at("action").as_string());
            if (object.contains("arg_index")) {
                rule.arg_index = static_cast<int>(integer(object, "arg_index"));
                if (*rule.arg_index < 0 || *rule.arg_index > 5)
                    throw sdk::Error("[plugins.notif_probe] arg_index: a syscall has arguments 0 to 5");
                rule.arg_value = static_cast<std::uint64_t>(integer(object, "arg_value"));
            }
            if (rule.action == "errno") rule.error = static_cast<int>(integer(object, "errno"));
            if (rule.action == "value") rule.value = integer(object, "value");
            if (rule.action == "expect_path" || rule.action == "expect_string" || rule.action == "open_for") rule.expected = std::string(object.at("expected").as_string());
            if (rule.action == "sleep") rule.sleep_ms = static_cast<int>(integer(object, "sleep_ms"));
            if (rule.action == "bad_verdict") host().register_notif_handler(rule.syscall, &Rule::bad_verdict, &rule);
            else sdk::on_syscall<&Rule::handle>(host(), rule.syscall, &rule);
        }
    }

private:
    std::deque<Rule> rules_;  // stable addresses: the host holds pointers to them
};

constexpr sdk::Manifest kManifest{"notif_probe", "test: configurable third-party notification handlers", {}, 0, 0};

}  // namespace

SANDLOCK_EXPORT_PLUGIN(NotifProbe, kManifest)
