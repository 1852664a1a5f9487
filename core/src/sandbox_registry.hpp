// The runtime directory's side of named sandboxes (sandlock/named.hpp). Each name has
//   NAME.lock  flock'ed by the sandlock that runs it, for as long as it runs: the proof of life;
//   NAME.sock  its control socket.
// Registering, unregistering and removing stale entries happen under `.registry.lock`, so a
// name is never cleaned while someone takes it.
#pragma once

#include "fd.hpp"

#include <filesystem>
#include <string>

namespace sandlock {

class NameRegistration {
public:
    // Takes `name` and listens on its socket; throws SandboxError when a running sandbox has
    // it (a stale entry is replaced).
    explicit NameRegistration(const std::string& name);
    // Removes the entry.
    ~NameRegistration();
    NameRegistration(const NameRegistration&) = delete;
    NameRegistration& operator=(const NameRegistration&) = delete;

    const std::string& name() const { return name_; }
    int listen_fd() const { return socket_.get(); }

private:
    std::string name_;
    std::filesystem::path dir_;
    Fd lock_;
    Fd socket_;
};

}  // namespace sandlock
