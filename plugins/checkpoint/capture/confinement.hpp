// Whether a process runs under exactly the confinement its sandbox gives every command: a
// restore re-creates that one (the new process starts from the sandbox's spawner) and nothing
// the process added to it — its own seccomp filters, a nested sandbox's rules, other
// credentials. Such a process must not be restored, or it would come back with less confinement.
#pragma once

#include <sys/types.h>

#include <string>

namespace sandlock::checkpoint {

// Why `pid` cannot be restored with the confinement it had ("" when it can): compared with
// the sandbox's spawner (/proc/PID/status: seccomp filters, no_new_privs, user and group ids,
// capabilities). `nested`: the sandbox ran nested sandboxes, whose processes' Landlock rules
// /proc does not show. A Landlock domain a process added itself is not seen either (the README
// says so): it comes back without it.
std::string confinement_refusal(pid_t pid, pid_t spawner, bool nested);

}  // namespace sandlock::checkpoint
