#include "capture/confinement.hpp"

#include "capture/proc_files.hpp"

#include <initializer_list>
#include <optional>

namespace sandlock::checkpoint {
namespace {

std::optional<std::string> status_line(const std::string& status, const std::string& name) {
    const auto at = status.find("\n" + name + ":");
    if (at == std::string::npos) return std::nullopt;
    const auto start = status.find_first_not_of(" \t", at + name.size() + 2);
    const auto end = status.find('\n', start);
    return status.substr(start, end - start);
}

}  // namespace

std::string confinement_refusal(pid_t pid, pid_t spawner, bool nested) {
    if (nested)
        return "the sandbox ran nested sandboxes, whose rules a restore cannot re-apply to their processes";
    const auto ours = read_proc_file(proc_path(pid, "status"));
    const auto base = read_proc_file(proc_path(spawner, "status"));
    if (!ours || !base) return "its confinement could not be compared with its sandbox's";
    const std::string mine = "\n" + *ours, sandbox = "\n" + *base;
    const auto differs = [&](std::initializer_list<const char*> fields) {
        for (const char* field : fields)
            if (status_line(mine, field) != status_line(sandbox, field)) return true;
        return false;
    };
    if (differs({"Seccomp_filters", "NoNewPrivs"}))
        return "it installed seccomp filters of its own, which a restore cannot re-apply";
    if (differs({"Uid", "Gid", "Groups"})) return "it runs as another user or group than its sandbox started it as";
    if (differs({"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}))
        return "its capabilities differ from its sandbox's, which a restore would give back";
    return "";
}

}  // namespace sandlock::checkpoint
