// A named sandbox's control socket (sandlock/named.hpp): a thread that answers one JSON request
// per connection — status, policy, pause, resume, kill, update — from the user who started the
// sandbox only (SO_PEERCRED), on behalf of the Session.
#pragma once

#include "fd.hpp"
#include "sandbox_registry.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <thread>

namespace sandlock {

class Session;

class ControlServer {
public:
    ControlServer(Session& session, std::unique_ptr<NameRegistration> registration);
    // Stops answering and removes the name.
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

private:
    void serve() noexcept;
    void answer(int client) noexcept;
    boost::json::object handle(const boost::json::object& request);

    Session& session_;
    std::unique_ptr<NameRegistration> registration_;
    Fd stop_;
    std::thread thread_;
};

}  // namespace sandlock
