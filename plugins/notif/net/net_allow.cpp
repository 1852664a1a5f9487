#include "net/net_allow.hpp"

#include "net/control_messages.hpp"
#include "supervisor/caller_actions.hpp"
#include "paths/open_path.hpp"
#include "procfs/proc_files.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef AF_ALG
#define AF_ALG 38
#endif

namespace sandlock::notif {
namespace {

// The most data the supervisor copies for one message it sends on the caller's behalf. A
// stream gets a short write beyond it (as a non-blocking send would); no datagram is larger.
constexpr std::size_t kMaxSendCopy = 1 << 20;

int as_int(std::uint64_t arg) { return static_cast<int>(static_cast<std::int32_t>(arg)); }

bool is_stream(const SocketKind& kind) { return kind.type == SOCK_STREAM; }

// A sockaddr length as the kernel checks it for connect and sendto.
int checked_address_length(std::uint64_t arg) {
    const int length = as_int(arg);
    if (length < 0 || length > static_cast<int>(sizeof(sockaddr_storage))) throw sdk::NotifError(EINVAL, "bad sockaddr length");
    return length;
}

std::vector<std::uint8_t> copy_bytes(const sdk::NotifContext& call, std::uint64_t address, std::size_t size) {
    std::vector<std::uint8_t> bytes(size);
    if (size > 0) call.read_memory(address, bytes.data(), size);
    return bytes;
}

// How much of `requested` bytes the supervisor sends for the caller.
std::size_t send_size(const SocketKind& kind, std::size_t requested) {
    if (requested <= kMaxSendCopy) return requested;
    if (is_stream(kind)) return kMaxSendCopy;
    throw sdk::NotifError(EMSGSIZE, "datagram larger than the supervisor copies");
}

// The caller's iovecs gathered into one buffer.
std::vector<std::uint8_t> copy_iovecs(const sdk::NotifContext& call, const SocketKind& kind, const msghdr& message) {
    if (message.msg_iovlen > UIO_MAXIOV) throw sdk::NotifError(EMSGSIZE, "too many iovecs");
    std::vector<iovec> iovs(message.msg_iovlen);
    if (!iovs.empty())
        call.read_memory(reinterpret_cast<std::uintptr_t>(message.msg_iov), iovs.data(), iovs.size() * sizeof(iovec));
    std::size_t total = 0;
    for (const iovec& iov : iovs) {
        if (iov.iov_len > SSIZE_MAX - total) throw sdk::NotifError(EINVAL, "iovec lengths overflow");
        total += iov.iov_len;
    }
    std::vector<std::uint8_t> data(send_size(kind, total));
    std::size_t filled = 0;
    for (const iovec& iov : iovs) {
        const std::size_t take = std::min(iov.iov_len, data.size() - filled);
        if (take > 0) call.read_memory(reinterpret_cast<std::uintptr_t>(iov.iov_base), data.data() + filled, take);
        filled += take;
    }
    return data;
}

std::int64_t send_buffers(const sdk::NotifContext& call, int fd, std::vector<std::uint8_t>& name,
                          std::vector<std::uint8_t>& data, SupervisorControl& control, int flags) {
    iovec iov{data.data(), data.size()};
    msghdr header{};
    header.msg_name = name.empty() ? nullptr : name.data();
    header.msg_namelen = static_cast<socklen_t>(name.size());
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    header.msg_control = control.bytes.empty() ? nullptr : control.bytes.data();
    header.msg_controllen = control.bytes.size();
    return send_for_caller(fd, header, flags, call);
}

// The kernel raises SIGPIPE for a send on a broken stream unless MSG_NOSIGNAL; the supervisor
// sent with MSG_NOSIGNAL, so the caller gets its signal here.
void raise_sigpipe_if_due(const sdk::NotifContext& call, std::int64_t result, int flags) {
    if (result == -EPIPE && (flags & MSG_NOSIGNAL) == 0) caller::raise_signal(call.pid(), SIGPIPE);
}

sdk::NotifVerdict answer(std::int64_t result) {
    return result >= 0 ? sdk::Verdict::value(result) : sdk::Verdict::error(static_cast<int>(-result));
}

bool valid_host_name(const std::string& name) {
    return !name.empty() && name.size() < 256 &&
           std::none_of(name.begin(), name.end(), [](unsigned char c) { return c <= ' ' || c == '#' || c == 0x7f; });
}

// A host list as a message shows it: [a, b].
std::string listed(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
    return "[" + out + "]";
}

}  // namespace

std::vector<ResolvedHost> resolve_hosts(const std::vector<std::string>& names, bool strict, const sdk::Host& host) {
    std::vector<ResolvedHost> hosts;
    for (const std::string& name : names) {
        if (!valid_host_name(name))
            throw sdk::Error("net_allow_hosts: \"" + name +
                             "\" is not a host name; use a name such as \"example.org\" or an IP address");
        if (name == "localhost") {
            // The loopback name (RFC 6761), as the sandbox's /etc/hosts shows it: both families,
            // even where the host's /etc/hosts gives only one.
            hosts.push_back({name, {IpAddress::v4(INADDR_LOOPBACK), IpAddress::v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})}});
            continue;
        }
        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* found = nullptr;
        const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &found);
        if (rc != 0) {
            const std::string reason = rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
            const std::string what = "net_allow_hosts: cannot resolve \"" + name + "\" (" + reason + ")";
            if (strict)
                throw sdk::Error(what + "; fix the name, or set strict = false (--best-effort) to run with it blocked");
            host.warning(what + "; it stays blocked because strict = false");
            continue;
        }
        ResolvedHost resolved{name, {}};
        for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
            auto address = ip_of(entry->ai_addr, entry->ai_addrlen);
            if (address && std::find(resolved.addresses.begin(), resolved.addresses.end(), *address) ==
                               resolved.addresses.end())
                resolved.addresses.push_back(*address);
        }
        ::freeaddrinfo(found);
        hosts.push_back(std::move(resolved));
    }
    return hosts;
}

void NetAllowModule::check_nest(const Policy& policy) const {
    if (!policy.net_allow_hosts.empty())
        throw sdk::Error("net_allow_hosts: a nested sandbox cannot have a host allowlist of its own yet; the "
                         "parent's net_allow_hosts applies to it");
}

void NetAllowModule::check_update(const Policy& policy) const {
    if (policy.net_allow_hosts != hosts_)
        throw sdk::Error("net_allow_hosts: cannot change to " + listed(policy.net_allow_hosts) +
                         " while the sandbox runs (it started with " + listed(hosts_) +
                         "); start a new sandbox with the new list");
}

void NetAllowModule::configure(const ModuleSetup& setup) {
    const Policy& policy = setup.policy;
    hosts_ = policy.net_allow_hosts;
    if (policy.net_allow_hosts.empty()) return;

    const std::vector<ResolvedHost> hosts = resolve_hosts(policy.net_allow_hosts, policy.strict, setup.host);
    std::size_t count = 0;
    for (const ResolvedHost& host : hosts)
        for (const IpAddress& address : host.addresses) {
            allowed_.add(address);
            ++count;
        }
    hosts_file_ = render_hosts_file(hosts);
    nsswitch_ = rewrite_nsswitch(proc::read_small_file("/etc/nsswitch.conf").value_or(""));
    tcp_connect_ports_ = policy.net_connect;
    isolate_ipc_ = policy.isolate_ipc;

    add_open_handlers(setup, sdk::handler_fn<&NetAllowModule::on_open>(), this);
    const std::pair<int, sdk::NotifHandlerFn> handlers[] = {
        {SYS_socket, sdk::handler_fn<&NetAllowModule::on_socket>()},
        {SYS_connect, sdk::handler_fn<&NetAllowModule::on_connect>()},
        {SYS_sendto, sdk::handler_fn<&NetAllowModule::on_sendto>()},
        {SYS_sendmsg, sdk::handler_fn<&NetAllowModule::on_sendmsg>()},
        {SYS_sendmmsg, sdk::handler_fn<&NetAllowModule::on_sendmmsg>()},
    };
    for (const auto& [nr, fn] : handlers) {
        // socket() answers at once; the others may wait for a handshake or a full buffer.
        setup.table.add(nr, fn, this, nr == SYS_socket ? HandlerTable::Runs::Inline : HandlerTable::Runs::MayWait);
        setup.host.request_notify(nr);
    }
    setup.host.debug("net_allow_hosts: " + std::to_string(hosts.size()) + " names, " + std::to_string(count) +
                     " addresses allowed");
}

sdk::NotifVerdict NetAllowModule::on_open(sdk::NotifContext& call) {
    const auto open = open_call(call);
    if (open->error != 0) return sdk::Verdict::error(open->error);
    if (open->path == "/etc/hosts") return serve_content(*open, hosts_file_);
    if (open->path == "/etc/nsswitch.conf") return serve_content(*open, nsswitch_);
    return sdk::Verdict::next();
}

sdk::NotifVerdict NetAllowModule::on_socket(sdk::NotifContext& call) {
    // Plain registers: nothing the caller can change after this check.
    const int domain = as_int(call.arg(0));
    const int type = as_int(call.arg(1)) & 0xf;  // without SOCK_NONBLOCK / SOCK_CLOEXEC
    if (domain == AF_INET || domain == AF_INET6)
        return type == SOCK_RAW || type == SOCK_PACKET ? sdk::Verdict::error(EACCES) : sdk::Verdict::next();
    if (domain == AF_UNIX || domain == AF_NETLINK || domain == AF_ALG) return sdk::Verdict::next();
    return sdk::Verdict::error(EAFNOSUPPORT);
}

bool NetAllowModule::landlock_allows(const SocketKind& kind, const Destination& destination) const {
    if (!kind.is_tcp() || tcp_connect_ports_.empty() || destination.kind == DestinationKind::None) return true;
    return port_in_ranges(destination.port, tcp_connect_ports_);
}

int NetAllowModule::judge(const SocketKind& kind, AddressUse use, std::span<const std::uint8_t> name,
                          bool fast_open) const {
    const Destination destination = classify_destination(kind.domain, use, name, allowed_);
    if (destination.kind == DestinationKind::Invalid) return destination.error;
    if (destination.kind == DestinationKind::Foreign) return ECONNREFUSED;
    if ((use == AddressUse::Connect || fast_open) && !landlock_allows(kind, destination)) return EACCES;
    return 0;
}

int NetAllowModule::address_for_caller(const sdk::NotifContext& call, const SocketKind& kind, AddressUse use,
                                       std::vector<std::uint8_t> name, bool fast_open, SupervisorAddress& out) const {
    if (kind.is_tcp() && use == AddressUse::Send && !fast_open) return 0;  // TCP ignores it: send without
    if (kind.is_ip()) {
        if (int error = judge(kind, use, name, fast_open)) return -error;
        out.sockaddr = std::move(name);
        return 0;
    }
    if (kind.domain == AF_UNIX) return unix_address_for_caller(call.pid(), name, !isolate_ipc_, out);
    out.sockaddr = std::move(name);  // netlink, alg: the family of the socket is fixed, no host in it
    return 0;
}

sdk::NotifVerdict NetAllowModule::on_connect(sdk::NotifContext& call) {
    // Every connect is performed here, whatever the family: answering Continue would let the
    // kernel read the fd number and the sockaddr again, after a dup2 or a rewrite.
    sdk::OwnedFd socket = call.get_fd(as_int(call.arg(0)));
    SocketKind kind;
    if (int rc = socket_kind(socket.get(), kind); rc < 0) return sdk::Verdict::error(-rc);
    SupervisorAddress address;
    if (int rc = address_for_caller(call, kind, AddressUse::Connect,
                                    copy_bytes(call, call.arg(1), checked_address_length(call.arg(2))), false, address);
        rc < 0)
        return sdk::Verdict::error(-rc);
    return answer(connect_for_caller(socket.get(), reinterpret_cast<const sockaddr*>(address.sockaddr.data()),
                                     static_cast<socklen_t>(address.sockaddr.size()), call));
}

sdk::NotifVerdict NetAllowModule::on_sendto(sdk::NotifContext& call) {
    // No address (a register, the caller cannot change it): the kernel sends to the peer checked
    // at connect, and a socket swapped in that was never connected fails with EDESTADDRREQ.
    if (call.arg(4) == 0) return sdk::Verdict::next();
    sdk::OwnedFd socket = call.get_fd(as_int(call.arg(0)));
    SocketKind kind;
    if (int rc = socket_kind(socket.get(), kind); rc < 0) return sdk::Verdict::error(-rc);
    const int flags = as_int(call.arg(3));
    SupervisorAddress address;
    if (int rc = address_for_caller(call, kind, AddressUse::Send,
                                    copy_bytes(call, call.arg(4), checked_address_length(call.arg(5))),
                                    (flags & MSG_FASTOPEN) != 0, address);
        rc < 0)
        return sdk::Verdict::error(-rc);
    std::vector<std::uint8_t> data = copy_bytes(call, call.arg(1), send_size(kind, call.arg(2)));
    SupervisorControl no_control;
    const std::int64_t sent = send_buffers(call, socket.get(), address.sockaddr, data, no_control, flags);
    raise_sigpipe_if_due(call, sent, flags);
    return answer(sent);
}

std::int64_t NetAllowModule::send_message(const sdk::NotifContext& call, int fd, const SocketKind& kind,
                                          const msghdr& message, int flags) const {
    SupervisorAddress address;
    if (message.msg_name != nullptr && message.msg_namelen > 0) {
        const int length = static_cast<int>(message.msg_namelen);
        if (length < 0) return -EINVAL;
        // The kernel clamps a longer msg_namelen to the size of sockaddr_storage.
        std::vector<std::uint8_t> name =
            copy_bytes(call, reinterpret_cast<std::uintptr_t>(message.msg_name),
                       std::min<std::size_t>(static_cast<std::size_t>(length), sizeof(sockaddr_storage)));
        if (int rc = address_for_caller(call, kind, AddressUse::Send, std::move(name), (flags & MSG_FASTOPEN) != 0,
                                        address);
            rc < 0)
            return rc;
    }
    SupervisorControl control;
    if (int rc = control_for_caller(call, message, control); rc < 0) return rc;
    std::vector<std::uint8_t> data = copy_iovecs(call, kind, message);
    return send_buffers(call, fd, address.sockaddr, data, control, flags);
}

sdk::NotifVerdict NetAllowModule::on_sendmsg(sdk::NotifContext& call) {
    // Always performed here: the msghdr is in the caller's memory, so even a message without a
    // name could get one (and the fd another socket) after any check.
    sdk::OwnedFd socket = call.get_fd(as_int(call.arg(0)));
    SocketKind kind;
    if (int rc = socket_kind(socket.get(), kind); rc < 0) return sdk::Verdict::error(-rc);
    const int flags = as_int(call.arg(2));
    const msghdr message = call.read<msghdr>(call.arg(1));
    const std::int64_t sent = send_message(call, socket.get(), kind, message, flags);
    raise_sigpipe_if_due(call, sent, flags);
    return answer(sent);
}

sdk::NotifVerdict NetAllowModule::on_sendmmsg(sdk::NotifContext& call) {
    sdk::OwnedFd socket = call.get_fd(as_int(call.arg(0)));
    SocketKind kind;
    if (int rc = socket_kind(socket.get(), kind); rc < 0) return sdk::Verdict::error(-rc);
    const int flags = as_int(call.arg(3));
    const std::size_t count = std::min<std::uint64_t>(static_cast<std::uint32_t>(call.arg(2)), UIO_MAXIOV);
    if (count == 0) return sdk::Verdict::value(0);
    std::vector<mmsghdr> messages(count);
    call.read_memory(call.arg(1), messages.data(), count * sizeof(mmsghdr));

    // Like the kernel: send in order, stop at the first failure, and report it only when
    // nothing was sent; each sent message gets its msg_len.
    std::vector<unsigned int> lengths;
    std::int64_t failure = 0;
    for (const mmsghdr& entry : messages) {
        const std::int64_t sent = send_message(call, socket.get(), kind, entry.msg_hdr, flags);
        if (sent < 0) {
            failure = sent;
            break;
        }
        lengths.push_back(static_cast<unsigned int>(sent));
    }
    if (lengths.empty()) {
        raise_sigpipe_if_due(call, failure, flags);
        return answer(failure);
    }
    std::vector<caller::MemoryWrite> writes;
    for (std::size_t i = 0; i < lengths.size(); ++i)
        writes.push_back({call.arg(1) + i * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len), &lengths[i], sizeof lengths[i]});
    if (call.still_valid()) caller::write_memory(call.pid(), writes);
    return sdk::Verdict::value(static_cast<std::int64_t>(lengths.size()));
}

}  // namespace sandlock::notif
