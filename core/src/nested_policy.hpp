// A nested sandbox's policy against its parent's: it may only narrow. Whatever the child asks
// for must be something the parent has — a path under one of the parent's trees, a port in
// its port lists, a host in its allowlist, a limit at most the parent's — so that what the
// child gets, its rules on top of the parent's, is exactly the child's policy.
#pragma once

#include <sandlock/policy.hpp>

namespace sandlock {

// Throws PolicyError naming the first field and value the parent does not have, or a field a
// nested sandbox cannot set (chroot, privileged, a branch of its own).
void check_nested_policy(const Policy& parent, const Policy& child);

}  // namespace sandlock
