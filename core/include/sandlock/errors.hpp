// Errors sandlock itself raises. Each message is one line naming the field or file, the value
// and the fix; the CLI prints it and exits 125.
#pragma once

#include <stdexcept>
#include <string>

namespace sandlock {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The policy, a profile or a command-line value is invalid.
class PolicyError : public Error {
public:
    using Error::Error;
};

// A plugin could not be found, loaded or configured.
class PluginError : public Error {
public:
    using Error::Error;
};

// A confinement step failed (in the parent while preparing, or in a child stage).
class ConfinementError : public Error {
public:
    using Error::Error;
};

// A long-lived sandbox cannot do what was asked in its current state (exec after it ended,
// pause with nothing running, a name already in use).
class SandboxError : public Error {
public:
    using Error::Error;
};

// A checkpoint cannot be taken, saved, loaded or restored (a damaged or foreign checkpoint,
// an unknown name, a process that cannot be traced or rebuilt).
class CheckpointError : public Error {
public:
    using Error::Error;
};

}  // namespace sandlock
