#include "sandbox_census.hpp"

#include "proc_read.hpp"

#include <sandlock/sdk/sandbox_process.hpp>

#include <boost/json.hpp>

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace sandlock {
namespace {

constexpr std::size_t kCommandShown = 200;

// False when the process is gone (it may exit while we look).
bool describe(pid_t pid, CensusEntry& entry) {
    const std::string dir = "/proc/" + std::to_string(pid);
    const std::string stat = read_proc_file(dir + "/stat");
    // The command name (field 2) is in parentheses and may hold anything: parse after the last ')'.
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) return false;
    std::istringstream fields(stat.substr(close + 2));
    std::string state;
    long long ppid = 0, skip = 0, utime = 0, stime = 0;
    fields >> state >> ppid;
    for (int i = 0; i < 9; ++i) fields >> skip;  // fields 5..13
    fields >> utime >> stime;
    if (!fields) return false;
    entry.pid = pid;
    entry.ppid = static_cast<pid_t>(ppid);
    entry.cpu_seconds = static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::string command = read_proc_file(dir + "/cmdline");
    while (!command.empty() && command.back() == '\0') command.pop_back();
    for (char& c : command)
        if (c == '\0') c = ' ';
    if (command.size() > kCommandShown) command = command.substr(0, kCommandShown) + "...";
    if (command.empty()) command = "[" + stat.substr(stat.find('(') + 1, close - stat.find('(') - 1) + "]";
    entry.command = std::move(command);
    std::istringstream statm(read_proc_file(dir + "/statm"));
    unsigned long long size = 0, resident = 0, shared = 0;
    if (statm >> size >> resident >> shared && resident >= shared)
        entry.private_bytes = (resident - shared) * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE));
    return true;
}

}  // namespace

boost::json::array SandboxCensus::to_json() const {
    boost::json::array out;
    for (const auto& p : processes)
        out.emplace_back(boost::json::object{{"pid", p.pid},
                                             {"ppid", p.ppid},
                                             {"command", p.command},
                                             {"private_bytes", p.private_bytes},
                                             {"cpu_seconds", p.cpu_seconds}});
    return out;
}

SandboxCensus take_census(pid_t init, pid_t spawner, std::uint64_t pid_namespace) {
    SandboxCensus census;
    sdk::ParentContext context{};
    context.pid_namespace = pid_namespace;
    const auto sandbox = sdk::sandbox_pid_namespace(context);
    if (!sandbox) return census;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return census;
    while (dirent* entry = ::readdir(proc)) {
        char* end = nullptr;
        const long pid = std::strtol(entry->d_name, &end, 10);
        if (pid <= 0 || *end != '\0' || pid == spawner || !sdk::in_sandbox(static_cast<pid_t>(pid), init, *sandbox))
            continue;
        CensusEntry e;
        if (!describe(static_cast<pid_t>(pid), e)) continue;
        census.private_bytes += e.private_bytes;
        census.cpu_seconds += e.cpu_seconds;
        census.processes.push_back(std::move(e));
    }
    ::closedir(proc);
    return census;
}

}  // namespace sandlock
