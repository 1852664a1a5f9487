#include "syscall_names.hpp"

#include "syscall_lists.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <seccomp.h>

#include <cstdlib>

namespace sandlock::seccomp {

ResolvedName resolve_syscall(std::string_view name) {
    // libseccomp answers a negative "pseudo number" for names that exist only on other
    // architectures, and __NR_SCMP_ERROR for names it has never heard of.
    const std::string text(name);
    const int number = seccomp_syscall_resolve_name(text.c_str());
    if (number >= 0) return {NameKind::Native, number};
    if (number == __NR_SCMP_ERROR) return {NameKind::Unknown, -1};
    return {NameKind::OtherArch, -1};
}

std::string syscall_name(int number) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, number);
    if (name == nullptr) return "#" + std::to_string(number);
    std::string result(name);
    std::free(name);  // libseccomp allocates the returned name
    return result;
}

std::set<int> resolve_builtin(std::span<const std::string_view> names) {
    std::set<int> numbers;
    for (std::string_view name : names) {
        const ResolvedName resolved = resolve_syscall(name);
        if (resolved.kind == NameKind::Native) numbers.insert(resolved.number);
    }
    return numbers;
}

std::set<int> resolve_policy_list(std::string_view field, const std::vector<std::string>& names,
                                  std::span<const std::string_view> builtin) {
    std::set<int> numbers;
    for (const std::string& name : names) {
        if (name == kDefaultGroup) {
            numbers.merge(resolve_builtin(builtin));
            continue;
        }
        const ResolvedName resolved = resolve_syscall(name);
        if (resolved.kind == NameKind::Native) numbers.insert(resolved.number);
        if (resolved.kind != NameKind::Unknown) continue;
        if (name.starts_with('@'))
            throw sdk::Error(std::string(field) + ": unknown group '" + name + "' (the only group is '" +
                             std::string(kDefaultGroup) + "')");
        throw sdk::Error(std::string(field) + ": unknown syscall '" + name +
                         "' (see 'ausyscall --dump' for names)");
    }
    return numbers;
}

}  // namespace sandlock::seccomp
