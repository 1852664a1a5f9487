// `sandlock run [flags] -- CMD ARGS...`: flags (over an optional profile) -> Policy -> Sandbox.
#include "commands.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/named.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/sandbox.hpp>
#include <sandlock/units.hpp>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <iostream>
#include <memory>
#include <optional>

namespace sandlock::cli {
namespace {

struct RunFlags {
    bool interactive = false;
    std::optional<std::string> profile;
    std::vector<std::string> writable, readable, denied;
    std::optional<std::string> max_memory, max_processes, max_cpu, timeout, max_disk;
    bool allowlist = false, privileged = false, isolate_ipc = false, isolate_signals = false;
    bool clean_env = false, best_effort = false, keep_fds = false;
    std::vector<std::string> net_bind, net_connect, net_allow_hosts, env;
    std::optional<std::string> fs_isolation, fs_mount, fs_storage, chroot, on_exit, on_error;
    std::optional<std::string> branch, branch_from, name;
    bool dry_run = false, json = false;
    bool checkpoint_channel = false;
};

BranchAction branch_action(std::string_view flag, const std::string& value) {
    if (value == "commit") return BranchAction::Commit;
    if (value == "abort") return BranchAction::Abort;
    if (value == "keep") return BranchAction::Keep;
    throw PolicyError(std::string(flag) + ": invalid value " + quote_value(value) + " (expected commit, abort or keep)");
}

// --branch, --branch-from and --dry-run are the branchfs plugin's options ([plugins.branchfs]).
void set_branch_options(const RunFlags& f, Policy& p) {
    if (f.json && !f.dry_run) throw PolicyError("--json: only with --dry-run (the listing of the changes)");
    if (!f.branch && !f.branch_from && !f.dry_run) return;
    boost::json::object options;
    if (auto it = p.plugin_options.find("branchfs"); it != p.plugin_options.end())
        options = boost::json::parse(it->second).as_object();
    if (f.branch) options["branch"] = *f.branch;
    if (f.branch_from) options["branch_from"] = *f.branch_from;
    if (f.dry_run) options["dry_run"] = f.json ? "json" : "text";
    p.plugin_options["branchfs"] = boost::json::serialize(options);
}

void append(std::vector<std::string>& to, const std::vector<std::string>& more) { to.insert(to.end(), more.begin(), more.end()); }

// Profile first, then flags: scalars override, lists append. A flag given with an empty value
// is refused (refuse_empty_values), never taken as "not given".
Policy build_policy(const RunFlags& f) {
    Policy p = f.profile ? load_profile(*f.profile) : Policy{};
    append(p.fs_writable, f.writable);
    append(p.fs_readable, f.readable);
    append(p.fs_denied, f.denied);
    if (f.max_memory) p.max_memory = parse_size("--max-memory", *f.max_memory);
    if (f.max_processes) p.max_processes = parse_count("--max-processes", *f.max_processes);
    if (f.max_cpu) p.max_cpu = parse_cpu_percent("--max-cpu", *f.max_cpu);
    if (f.max_disk) p.max_disk = parse_size("--max-disk", *f.max_disk);
    for (const auto& port : f.net_bind) p.net_bind.push_back(parse_port_range("--net-bind", port));
    for (const auto& port : f.net_connect) p.net_connect.push_back(parse_port_range("--net-connect", port));
    append(p.net_allow_hosts, f.net_allow_hosts);
    for (const auto& kv : f.env) {
        auto [name, value] = parse_env_assignment("--env", kv);
        p.env[name] = value;
    }
    if (f.allowlist) {
        if (!p.allow_syscalls) p.allow_syscalls.emplace();
        p.allow_syscalls->push_back("@default");
    }
    p.privileged = p.privileged || f.privileged;
    p.isolate_ipc = p.isolate_ipc || f.isolate_ipc;
    p.isolate_signals = p.isolate_signals || f.isolate_signals;
    p.clean_env = p.clean_env || f.clean_env;
    if (f.best_effort) p.strict = false;
    if (f.keep_fds) p.close_fds = false;
    if (f.fs_isolation) {
        if (*f.fs_isolation != "none" && *f.fs_isolation != "branchfs")
            throw PolicyError("--fs-isolation: invalid value " + quote_value(*f.fs_isolation) +
                              " (expected none or branchfs)");
        p.fs_isolation = *f.fs_isolation == "branchfs" ? FsIsolation::BranchFs : FsIsolation::None;
    }
    if (f.fs_mount) p.fs_mount = *f.fs_mount;
    if (f.fs_storage) p.fs_storage = *f.fs_storage;
    if (f.on_exit) p.on_exit = branch_action("--on-exit", *f.on_exit);
    if (f.on_error) p.on_error = branch_action("--on-error", *f.on_error);
    set_branch_options(f, p);
    if (f.chroot) p.chroot = *f.chroot;
    return p;
}

// SIGINT/SIGTERM/SIGHUP/SIGQUIT end the whole sandbox (the child has its own process group,
// so they would not reach it otherwise); the child starts with an empty signal mask.
int block_termination_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    return signalfd(-1, &set, SFD_CLOEXEC);
}

void report(const RunFlags& flags, const Result& result) {
    if (!result.error.empty()) std::cerr << "sandlock: " << one_line(result.error) << "\n";
    if (result.timed_out) std::cerr << "sandlock: timed out after " << *flags.timeout << " s\n";
}

// --name: a long-lived sandbox with one command, reachable from `sandlock ps` and the rest
// while it runs. Its command gets sandlock's stdio (a terminal stdin becomes /dev/null, as
// without -i), and the sandbox ends when the command does.
int run_named(const RunFlags& flags, const std::vector<std::string>& command, Policy policy, SandboxOptions options,
              Timeout timeout) {
    if (flags.interactive)
        throw PolicyError("--name: not with -i (a named sandbox's command does not take the terminal's foreground)");
    check_sandbox_name(*flags.name);
    options.name = *flags.name;
    Sandbox sandbox(std::move(policy), std::move(options));
    ExecIo io = ExecIo::inherit();
    if (::isatty(0)) io.stdin_fd = -1;
    io.checkpoint_channel = flags.checkpoint_channel;
    Result result = sandbox.exec(command, io).wait(timeout);
    try {
        sandbox.close();
    } catch (const SandboxError& e) {
        // The command ran, but what a layer does at its end (a branch commit) did not.
        result.error = e.what();
        result.exit_code = kExitSandlockFailed;
    }
    report(flags, result);
    return result.exit_code;
}

}  // namespace

std::function<int()> add_run_command(CLI::App& run_app, const GlobalOptions& global) {
    auto flags = std::make_shared<RunFlags>();
    auto command = std::make_shared<std::vector<std::string>>();
    CLI::App* run = &run_app;
    run->add_flag("-i,--interactive", flags->interactive, "Give the command the terminal (stdin, job control)");
    run->add_option("--name", flags->name, "Register the sandbox under NAME while it runs (sandlock ps, inspect, "
                                           "pause, resume, kill, update, checkpoint)");
    run->add_flag("--checkpoint-channel", flags->checkpoint_channel,
                  "With --name: give the command a checkpoint channel (fd 3, SANDLOCK_CHECKPOINT_FD) that "
                  "sandlock checkpoint asks for its state");
    run->add_option("-p,--profile", flags->profile, "Start from a saved profile (flags override, lists append)");
    run->add_option("-w,--fs-writable", flags->writable, "Path with read/write access (repeatable)")
        ->allow_extra_args(false);
    run->add_option("-r,--fs-readable", flags->readable, "Path with read-only access (repeatable)")
        ->allow_extra_args(false);
    run->add_option("--fs-deny", flags->denied, "Path denied even inside an allowed tree (repeatable)")
        ->allow_extra_args(false);
    run->add_option("-m,--max-memory", flags->max_memory, "Memory limit, e.g. 512M (plugin notif)");
    run->add_option("-P,--max-processes", flags->max_processes, "Concurrent process limit (plugin notif)");
    run->add_option("-c,--max-cpu", flags->max_cpu, "CPU share of one core, e.g. 50% (plugin notif)");
    run->add_option("-t,--timeout", flags->timeout, "Kill the whole sandbox after this many seconds (exit 124)");
    run->add_flag("--strict", flags->allowlist, "Syscall allowlist instead of the default deny list");
    run->add_flag("--privileged", flags->privileged, "Appear as uid 0 inside a user namespace");
    run->add_option("--net-bind", flags->net_bind, "TCP port or range the command may bind (repeatable)")
        ->allow_extra_args(false);
    run->add_option("--net-connect", flags->net_connect, "TCP port or range the command may connect to (repeatable)")
        ->allow_extra_args(false);
    run->add_option("--net-allow-host", flags->net_allow_hosts, "Host name the command may reach (plugin notif)")
        ->allow_extra_args(false);
    run->add_flag("--isolate-ipc", flags->isolate_ipc, "Block abstract UNIX sockets outside the sandbox");
    run->add_flag("--isolate-signals", flags->isolate_signals, "Block signals to processes outside the sandbox");
    run->add_flag("--clean-env", flags->clean_env, "Keep only PATH HOME USER TERM LANG SHELL");
    run->add_option("--env", flags->env, "Set KEY=VALUE in the environment (repeatable)")
        ->allow_extra_args(false);
    run->add_option("--fs-isolation", flags->fs_isolation, "none or branchfs (plugin branchfs)");
    run->add_option("--fs-mount", flags->fs_mount, "BranchFS mount point (plugin branchfs)");
    run->add_option("--fs-storage", flags->fs_storage, "BranchFS storage directory (plugin branchfs)");
    run->add_option("--max-disk", flags->max_disk, "Disk quota of the branch, e.g. 1G (plugin branchfs)");
    run->add_option("--on-exit", flags->on_exit, "Branch action on exit code 0: commit (default), abort or keep");
    run->add_option("--on-error", flags->on_error,
                    "Branch action on failure, timeout or signal: abort (default), commit or keep");
    run->add_option("--branch", flags->branch, "Run on a kept branch (its id) instead of a new one (plugin branchfs)");
    run->add_option("--branch-from", flags->branch_from, "Nest a new branch on a kept one; it commits into it");
    run->add_flag("--dry-run", flags->dry_run, "Print the branch's changes (A/M/D path) and discard them");
    run->add_flag("--json", flags->json, "With --dry-run: the changes as JSON");
    run->add_option("--chroot", flags->chroot, "Change root before confinement (user namespace when not root)");
    run->add_flag("--best-effort", flags->best_effort, "Degrade with a warning when a kernel feature is missing");
    run->add_flag("--keep-fds", flags->keep_fds, "Do not close inherited file descriptors 3 and up");
    run->add_option("command", *command, "The command and its arguments (after --)")->required();
    run->positionals_at_end();
    run->footer("Repeatable flags take one value each; put a command that has flags of its own after --.");

    return [flags, command, run, &global] {
                refuse_empty_values(*run);
                Policy policy = build_policy(*flags);
                Timeout timeout;
                if (flags->timeout)
                    timeout = std::chrono::milliseconds(
                        static_cast<std::int64_t>(parse_seconds("--timeout", *flags->timeout) * 1000));
                // Also with -i: Ctrl-C reaches the foreground (the command), but SIGTERM/SIGHUP
                // sent to sandlock must still end the whole tree.
                SandboxOptions options{global.plugins, global.plugin_path, block_termination_signals(), {}, {}};
                options.process_runs_one_sandbox = true;
                if (flags->name) return run_named(*flags, *command, std::move(policy), std::move(options), timeout);
                if (flags->checkpoint_channel)
                    throw PolicyError("--checkpoint-channel: only with --name (a checkpoint reaches a named sandbox)");
                Sandbox sandbox(std::move(policy), std::move(options));
                Result result = flags->interactive ? sandbox.run_interactive(*command, timeout)
                                                   : sandbox.run_inherit(*command, timeout);
                report(*flags, result);
                return result.exit_code;
            };
}

}  // namespace sandlock::cli
