// The policy JSON decoder every plugin runs on its side of the waist: on any text it returns a
// Policy or throws a std::exception (Boost.JSON's errors); never crashes or reads out of bounds.
#include "json_same.hpp"

#include <sandlock/sdk/policy_schema.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const sandlock::Policy policy = sandlock::policy_from_json(text);
        const std::string json = sandlock::policy_to_json(policy);
        if (!sandlock::fuzz::same_json(sandlock::policy_to_json(sandlock::policy_from_json(json)), json)) std::abort();
    } catch (const std::exception&) {
    }
    return 0;
}
