// Why an exec that found its file still said ENOENT: the interpreter the file names is missing.
#pragma once

#include <string>

namespace sandlock {

// The one-line error for `command` whose file `path` (as this process sees it) exists although
// exec reported ENOENT: names the interpreter of its "#!" line, or the ELF loader it lacks.
std::string missing_interpreter(const std::string& command, const std::string& path);

}  // namespace sandlock
