// Checks on text that comes from a profile, a flag or a library caller, before any of it is
// used, and the one way every error message shows such text.
#pragma once

#include <sandlock/policy.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace sandlock {

// `value` as an error message shows it: in double quotes, with quotes, backslashes and every
// control character escaped (\n, \t, \x00) and cut after `limit` bytes ("... (100000 bytes)"),
// so a hostile value never makes a second line or a huge one.
std::string quote_value(std::string_view value, std::size_t limit = 64);

// A whole message as one line of at most `limit` bytes: control characters escaped. The last
// guard of the CLI for messages that carry text it did not quote (a parser's, a plugin's).
std::string one_line(std::string_view message, std::size_t limit = 512);

enum class TextKind {
    Path,      // a filesystem path: not empty, no control characters
    Name,      // a syscall, plugin or host name: not empty, no control characters or spaces
    EnvName,   // an environment variable's name: not empty, no '=', no control characters
    EnvValue,  // an environment variable's value: no NUL (it would cut the value short)
};

// Throws PolicyError "FIELD: invalid value "..." (why; fix)" when `value` is not acceptable.
void check_text(std::string_view field, std::string_view value, TextKind kind);

// Every string of the policy (paths, names, env, plugin names and option keys), as check_text.
void check_policy_text(const Policy& policy);

}  // namespace sandlock
