// The child side of a long-lived sandbox's spawner (spawn_protocol.hpp): after the child
// stages, the main process serves spawn requests until sandlock closes its socket. Like the
// stages, it allocates nothing: it works in the ChildPlan's buffers.
#pragma once

#include "child_plan.hpp"

namespace sandlock {

[[noreturn]] void run_spawner(const ChildPlan& plan) noexcept;

}  // namespace sandlock
