// Who is in a namespaced sandbox right now and what they use, read from /proc: every process
// of its PID namespace but the init and the spawner (sdk/sandbox_process.hpp), with its parent,
// command line, private resident memory and CPU time. For `sandlock ps` and `inspect`.
#pragma once

#include <boost/json/array.hpp>

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sandlock {

struct CensusEntry {
    pid_t pid = 0;   // as sandlock sees it
    pid_t ppid = 0;
    std::string command;
    std::uint64_t private_bytes = 0;  // resident and not shared
    double cpu_seconds = 0;           // user + system, its threads included
};

struct SandboxCensus {
    std::vector<CensusEntry> processes;
    std::uint64_t private_bytes = 0;
    double cpu_seconds = 0;
    boost::json::array to_json() const;
};

// The sandbox whose init is `init`, in PID namespace `pid_namespace` (nsfs inode; 0 spawner: none).
SandboxCensus take_census(pid_t init, pid_t spawner, std::uint64_t pid_namespace);

}  // namespace sandlock
