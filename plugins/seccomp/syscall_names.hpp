// Syscall names <-> numbers for the architecture sandlock was built for (libseccomp's tables).
#pragma once

#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sandlock::seccomp {

enum class NameKind {
    Native,     // a syscall of this architecture
    OtherArch,  // a real syscall, but not on this architecture (ioperm on aarch64)
    Unknown,    // not a syscall anywhere: a typo
};

struct ResolvedName {
    NameKind kind;
    int number;  // valid when kind == Native
};

ResolvedName resolve_syscall(std::string_view name);

// The name of a native syscall number, or "#<number>" when libseccomp has none.
std::string syscall_name(int number);

// The native numbers of a built-in list; names missing on this architecture are skipped.
std::set<int> resolve_builtin(std::span<const std::string_view> names);

// The native numbers of a policy list. "@default" stands for `builtin`; names of other
// architectures are skipped (a profile stays portable); a name that is no syscall at all
// throws sdk::Error naming `field` and the name.
std::set<int> resolve_policy_list(std::string_view field, const std::vector<std::string>& names,
                                  std::span<const std::string_view> builtin);

}  // namespace sandlock::seccomp
