// Finds processes by command line or PID namespace, to prove nothing outlives a sandbox. The
// /proc files of a process exiting meanwhile read as empty (never an exception).
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "proc_read.hpp"

#include <string>
#include <vector>

namespace sandlock::test {

// How many live processes have exactly `command` as their command line (arguments joined by
// spaces) — exact, so the shell or sandlock that started them never counts.
inline int count_processes(const std::string& command) {
    int count = 0;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return -1;
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        std::string cmdline = read_proc_file(std::string("/proc/") + entry->d_name + "/cmdline");
        for (char& c : cmdline)
            if (c == '\0') c = ' ';
        if (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
        const std::string stat_line = read_proc_file(std::string("/proc/") + entry->d_name + "/stat");
        bool zombie = stat_line.find(") Z ") != std::string::npos;
        if (!zombie && cmdline == command) ++count;
    }
    ::closedir(proc);
    return count;
}

// The live processes in the PID namespace `pid` lives in, as this process names them, whose
// name (/proc/PID/comm) is `name`.
inline std::vector<pid_t> processes_in_namespace_of(pid_t pid, const std::string& name) {
    std::vector<pid_t> found;
    struct stat ns {};
    if (::stat(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), &ns) != 0) return found;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return found;
    while (dirent* entry = ::readdir(proc)) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
        const std::string dir = std::string("/proc/") + entry->d_name;
        struct stat its {};
        if (::stat((dir + "/ns/pid").c_str(), &its) != 0 || its.st_ino != ns.st_ino || its.st_dev != ns.st_dev) continue;
        std::string comm_name = read_proc_file(dir + "/comm");
        if (!comm_name.empty() && comm_name.back() == '\n') comm_name.pop_back();
        const std::string stat_line = read_proc_file(dir + "/stat");
        if (comm_name == name && stat_line.find(") Z ") == std::string::npos) found.push_back(std::stoi(entry->d_name));
    }
    ::closedir(proc);
    return found;
}

}  // namespace sandlock::test
