// The TOML profile loader on arbitrary text: it either returns a Policy whose every string passed
// the input checks and survives the JSON round trip to the plugins, or throws PolicyError.
#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include "json_same.hpp"

#include <sandlock/sdk/policy_schema.hpp>
#include <sandlock/profile.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    sandlock::Policy policy;
    try {
        policy = sandlock::parse_profile(text, "fuzz.toml");
    } catch (const sandlock::PolicyError&) {
        return 0;
    }
    sandlock::check_policy_text(policy);  // must not throw: the loader checked every string
    const std::string json = sandlock::policy_to_json(policy);
    if (!sandlock::fuzz::same_json(sandlock::policy_to_json(sandlock::policy_from_json(json)), json)) std::abort();
    return 0;
}
