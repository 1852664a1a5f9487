// The default policy's programs, compiled at build time by seccomp_bake (baked_programs.cpp
// is generated in the build tree).
#pragma once

#include "filter_builder.hpp"
#include "syscall_plan.hpp"

#include <span>

namespace sandlock::seccomp::baked {

struct BakedProgram {
    const sock_filter* code;
    std::size_t size;
};
struct BakedRule {
    int syscall_nr;
    int action;  // an Action
};

std::span<const BakedProgram> programs();
std::span<const BakedRule> plan_rules();
bool plan_allowlist();

// The plan the programs were built from: what plan_syscalls(Policy{}) returns, without
// resolving fifty names through libseccomp on every start.
inline SyscallPlan default_plan() {
    SyscallPlan plan;
    plan.allowlist = plan_allowlist();
    for (const BakedRule& rule : plan_rules()) plan.exceptions[rule.syscall_nr] = static_cast<Action>(rule.action);
    return plan;
}

// The baked programs when `plan` is the plan they were built from, else nothing.
inline std::vector<Program> programs_for(const SyscallPlan& plan) {
    auto rules = plan_rules();
    bool same = !plan.net.any() && plan.notify_when.empty() && plan.allowlist == plan_allowlist() && plan.exceptions.size() == rules.size();
    for (std::size_t i = 0; same && i < rules.size(); ++i) {
        auto found = plan.exceptions.find(rules[i].syscall_nr);
        same = found != plan.exceptions.end() && static_cast<int>(found->second) == rules[i].action;
    }
    std::vector<Program> out;
    if (same)
        for (const BakedProgram& p : programs()) out.emplace_back(p.code, p.code + p.size);
    return out;
}

}  // namespace sandlock::seccomp::baked
