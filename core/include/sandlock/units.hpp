// Parsing of the value syntaxes shared by the CLI and profiles. Each throws PolicyError
// naming the field and the value.
#pragma once

#include <sandlock/policy.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace sandlock {

// "512M", "1.5G", "100K", "4096" (bytes); suffixes K M G T, optional "B"/"iB", any case.
std::uint64_t parse_size(std::string_view field, std::string_view text);
// "80" or "8000-9000"; ports 1..65535.
PortRange parse_port_range(std::string_view field, std::string_view text);
// "50%" or "50": percent of one core, 1..100.
std::uint32_t parse_cpu_percent(std::string_view field, std::string_view text);
// A non-negative whole number that fits in 32 bits.
std::uint32_t parse_count(std::string_view field, std::string_view text);
// Seconds, possibly fractional: "30", "1.5"; must be > 0.
double parse_seconds(std::string_view field, std::string_view text);
// "KEY=VALUE" (the value may be empty or hold '='); the name is checked as an env name.
std::pair<std::string, std::string> parse_env_assignment(std::string_view field, std::string_view text);

}  // namespace sandlock
