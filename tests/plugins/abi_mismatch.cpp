// Test plugin: claims a plugin ABI this host does not speak; the host must refuse it by name
// before touching its factory (which would crash if called).
#include <boost/dll/alias.hpp>

#include <cstdint>
#include <cstdlib>

namespace abi_mismatch {
const std::uint32_t abi_version = 999;
const void* factory() {
    std::abort();  // never called: the ABI number is checked first
}
}  // namespace abi_mismatch

BOOST_DLL_ALIAS(abi_mismatch::abi_version, sandlock_plugin_abi)
BOOST_DLL_ALIAS(abi_mismatch::factory, sandlock_plugin)
