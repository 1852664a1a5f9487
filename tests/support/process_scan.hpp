// Finds processes by command line, to prove nothing outlives a sandbox.
#pragma once

#include <dirent.h>

#include <fstream>
#include <string>

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

}  // namespace sandlock::test
