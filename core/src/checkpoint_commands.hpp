// The core's side of checkpoints: asking the checkpoint plugin (plugin commands), taking one of
// a running session, and restoring a process of one into a session — shared by Sandbox and
// the control server of a named sandbox.
#pragma once

#include "session.hpp"

#include <sandlock/checkpoint.hpp>
#include <sandlock/sandbox.hpp>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

namespace sandlock {

// Runs a command of the checkpoint plugin on `options.store`; its failure is a CheckpointError.
std::string checkpoint_command(boost::json::object request, const CheckpointOptions& options);

class CheckpointAccess {
public:
    // Every process of the session, stopped, captured and let go on (the sandbox keeps
    // running), staged in `store` (empty: the default one); `app_state`: what the exec's
    // save_fn returned.
    static Checkpoint take(Session& session, const std::optional<std::string>& app_state, const std::string& store);
    // Starts the checkpoint's process in `session` as a new process and rebuilds it in place;
    // its state in the session (wait for it as for any exec'd command).
    static std::shared_ptr<ProcessState> restore(Session& session, const Checkpoint& checkpoint, const ExecIo& io,
                                                 const RestoreOptions& options);
};

}  // namespace sandlock
