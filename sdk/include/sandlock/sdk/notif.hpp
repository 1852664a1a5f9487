// Typed helpers for seccomp user-notification handlers, on the plugin's side of the waist.
//
//   class Audit : public sandlock::sdk::Plugin {
//       sandlock::sdk::NotifVerdict on_execve(sandlock::sdk::NotifContext& call) {
//           log(call.read_string(call.arg(0)));
//           return sandlock::sdk::Verdict::next();  // let the others (and the kernel) decide
//       }
//       void configure(const Policy&, const boost::json::object&) override {
//           sandlock::sdk::on_syscall<&Audit::on_execve>(host(), SYS_execve, this);
//       }
//   };
#pragma once

#include <sandlock/sdk/abi.hpp>
#include <sandlock/sdk/owned_fd.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <unistd.h>

namespace sandlock::sdk {

// Thrown by NotifContext (and by handlers) to answer the call with an errno.
class NotifError : public std::runtime_error {
public:
    NotifError(int error, const std::string& what) : std::runtime_error(what), error_(error) {}
    int error() const { return error_; }

private:
    int error_;
};

struct Verdict {
    static NotifVerdict next() { return {VerdictKind::Next, 0, 0, -1, 0}; }
    static NotifVerdict allow() { return {VerdictKind::Continue, 0, 0, -1, 0}; }
    static NotifVerdict error(int errno_value) { return {VerdictKind::Errno, errno_value, 0, -1, 0}; }
    static NotifVerdict value(std::int64_t v) { return {VerdictKind::Value, 0, v, -1, 0}; }
    // The supervisor takes ownership of `fd`.
    static NotifVerdict inject(int fd, std::uint32_t fd_flags) { return {VerdictKind::InjectFd, 0, 0, fd, fd_flags}; }
};

// One intercepted call and what a handler can do with its caller.
class NotifContext {
public:
    NotifContext(const NotifRequest& request, const NotifContextApi& api) : request_(request), api_(api) {}

    const NotifRequest& request() const { return request_; }
    int syscall() const { return request_.syscall_nr; }
    int pid() const { return static_cast<int>(request_.pid); }
    std::uint64_t arg(int index) const { return request_.args[index]; }

    void read_memory(std::uint64_t address, void* buffer, std::size_t size) const {
        std::int64_t n = api_.read_memory(api_.supervisor, &request_, address, buffer, size);
        if (n < 0) throw NotifError(static_cast<int>(-n), "cannot read the caller's memory");
        if (static_cast<std::size_t>(n) != size) throw NotifError(EFAULT, "short read of the caller's memory");
    }
    template <class T>
    T read(std::uint64_t address) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        read_memory(address, &value, sizeof value);
        return value;
    }
    std::string read_string(std::uint64_t address, std::size_t max = 4096) const {
        std::string buffer(max, '\0');
        std::int64_t n = api_.read_string(api_.supervisor, &request_, address, buffer.data(), buffer.size());
        if (n < 0) throw NotifError(static_cast<int>(-n), "cannot read a string from the caller");
        buffer.resize(static_cast<std::size_t>(n));
        return buffer;
    }
    // The same into `buffer`, without allocating: the string's length, or -errno (-ENAMETOOLONG
    // when it needs more than size - 1 bytes).
    std::int64_t read_string_into(std::uint64_t address, char* buffer, std::size_t size) const noexcept {
        return api_.read_string(api_.supervisor, &request_, address, buffer, size);
    }
    // The absolute path the caller means by (dirfd, path), as it sees it.
    std::string resolve_path(int dirfd, std::uint64_t path_address) const {
        std::string buffer(4096, '\0');
        std::int64_t n =
            api_.resolve_path(api_.supervisor, &request_, dirfd, path_address, buffer.data(), buffer.size());
        if (n < 0) throw NotifError(static_cast<int>(-n), "cannot resolve the caller's path");
        buffer.resize(static_cast<std::size_t>(n));
        return buffer;
    }
    bool still_valid() const { return api_.still_valid(api_.supervisor, &request_) > 0; }
    OwnedFd get_fd(int child_fd) const {
        int fd = api_.get_fd(api_.supervisor, &request_, child_fd);
        if (fd < 0) throw NotifError(-fd, "cannot copy the caller's fd");
        return OwnedFd(fd);
    }
    void log_failure(std::string_view message) const noexcept {
        api_.log_failure(api_.supervisor, &request_, str(message));
    }

private:
    const NotifRequest& request_;
    const NotifContextApi& api_;
};

namespace detail {
template <class>
struct MethodClass;
template <class T>
struct MethodClass<NotifVerdict (T::*)(NotifContext&)> {
    using type = T;
};
}  // namespace detail

// The NotifHandlerFn for a member function `NotifVerdict T::method(NotifContext&)`. An
// exception answers the call with an errno (NotifError's, else EPERM): handlers fail closed.
template <auto Method>
NotifHandlerFn handler_fn() {
    using T = typename detail::MethodClass<decltype(Method)>::type;
    return [](void* user, const NotifRequest* request, const NotifContextApi* api, NotifVerdict* verdict) {
        NotifContext call(*request, *api);
        try {
            *verdict = (static_cast<T*>(user)->*Method)(call);
        } catch (const NotifError& e) {
            *verdict = Verdict::error(e.error());
        } catch (const std::exception& e) {
            call.log_failure(e.what());
            *verdict = Verdict::error(EPERM);
        } catch (...) {
            call.log_failure("unknown exception");
            *verdict = Verdict::error(EPERM);
        }
    };
}

// Registers `object->*Method` for `syscall_nr` with the host (after the built-in handlers).
template <auto Method, class T>
void on_syscall(const Host& host, int syscall_nr, T* object) {
    host.register_notif_handler(syscall_nr, handler_fn<Method>(), object);
}

}  // namespace sandlock::sdk
