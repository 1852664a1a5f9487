// Opening a file of a checkpoint: never through a symlink, and only a regular file of the
// user's own — a checkpoint directory someone else could plant a link in must not make the
// unconfined sandlock read another file into a restored sandbox.
#pragma once

#include <filesystem>
#include <string>

namespace sandlock::checkpoint {

// A read-only fd (O_CLOEXEC); Error naming the file otherwise.
int open_checkpoint_file(const std::filesystem::path& path);
// The whole file.
std::string read_checkpoint_file(const std::filesystem::path& path);

}  // namespace sandlock::checkpoint
