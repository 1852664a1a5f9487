// Transparent restore: a fresh process of the sandbox, stopped by its tracer (this thread) at
// the exec of the checkpointed program, is rebuilt in place into the checkpointed process —
// by making it run the system calls that recreate each mapping, file, handler and the mm
// layout (so Landlock, seccomp and the limits judge every one of them), filling its pages from
// the page file, and setting its registers last. No root, no helper program: the process the
// sandbox's policy let start is the one that becomes the restored one.
#pragma once

#include "image/process_image.hpp"

#include <sys/types.h>

#include <filesystem>

namespace sandlock::checkpoint {

struct RestoreOptions {
    bool skip_unrestorable = false;  // leave out what cannot be recreated (else refuse)
};

// Why `image` cannot be restored as it is ("" when it can): what cannot be recreated, unless
// skipped.
std::string restore_refusal(const ProcessImage& image, const RestoreOptions& options);

// `pid` is stopped at PTRACE_EVENT_EXEC, traced by this thread. On success it runs on as the
// checkpointed process (untraced); on failure it is killed and Error says what failed.
void restore_process(pid_t pid, const ProcessImage& image, const std::filesystem::path& directory,
                     const RestoreOptions& options);

}  // namespace sandlock::checkpoint
