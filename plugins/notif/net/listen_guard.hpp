// net_bind's missing half: listen(2) on an unbound TCP socket binds it to an ephemeral port
// without calling bind(2), so Landlock's bind rule never sees it and outside clients reach a
// port the policy did not list. With net_bind set, the supervisor takes the caller's socket
// (pidfd_getfd), refuses an IP socket that has no port yet with EACCES (Landlock's answer to a
// bind it does not allow), and performs the listen itself on the socket it looked at, so a
// dup2 of an unbound socket onto the fd number after the check changes nothing. A socket
// cannot be unbound, so what was seen stays true.
#pragma once

#include "supervisor/builtin_module.hpp"

#include <sandlock/sdk/notif.hpp>

namespace sandlock::notif {

class ListenGuardModule final : public BuiltinModule {
public:
    std::string_view rule() const override { return "listen"; }
    void configure(const ModuleSetup& setup) override;

private:
    sdk::NotifVerdict on_listen(sdk::NotifContext& call);
};

}  // namespace sandlock::notif
