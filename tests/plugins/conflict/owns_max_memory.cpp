// Test plugin, kept in a directory of its own: it claims max_memory, which notif owns, so a
// search path holding both must be refused naming the two.
#include <sandlock/sdk/export.hpp>

namespace owns_max_memory {

constexpr std::string_view kFields[] = {"max_memory"};
constexpr sandlock::sdk::Manifest kManifest{
    .name = "owns_max_memory",
    .description = "test: a second owner of max_memory",
    .owned_fields = kFields,
};

class Plugin : public sandlock::sdk::Plugin {
public:
    explicit Plugin(const sandlock::sdk::HostApi* api) : sandlock::sdk::Plugin(api, kManifest.name) {}
};

}  // namespace owns_max_memory

SANDLOCK_EXPORT_PLUGIN(owns_max_memory::Plugin, owns_max_memory::kManifest)
