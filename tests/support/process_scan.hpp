// Finds processes by command line, to prove nothing outlives a sandbox.
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <fstream>
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
        std::ifstream in(std::string("/proc/") + entry->d_name + "/cmdline");
        std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        for (char& c : cmdline)
            if (c == '\0') c = ' ';
        if (!cmdline.empty() && cmdline.back() == ' ') cmdline.pop_back();
        std::ifstream stat(std::string("/proc/") + entry->d_name + "/stat");
        std::string stat_line;
        std::getline(stat, stat_line);
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
        std::ifstream comm(dir + "/comm");
        std::string comm_name;
        std::getline(comm, comm_name);
        std::ifstream stat_file(dir + "/stat");
        std::string stat_line;
        std::getline(stat_file, stat_line);
        if (comm_name == name && stat_line.find(") Z ") == std::string::npos) found.push_back(std::stoi(entry->d_name));
    }
    ::closedir(proc);
    return found;
}

}  // namespace sandlock::test
