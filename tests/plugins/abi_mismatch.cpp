// Test plugin: its manifest note claims a plugin ABI this host does not speak. The host must
// refuse it by name from the note alone: its constructor, which would leave a file named by
// $SANDLOCK_TEST_CONSTRUCTOR_MARK, must never run.
#include <boost/dll/alias.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace abi_mismatch {

// The note by hand (sdk/abi.hpp): owner "sandlock", type 1, descriptor ABI 999, no stages, no
// flags, then "abi_mismatch", a description and no fields.
struct Note {
    std::uint32_t namesz = 9, descsz = 16 + 13 + 5 + 1, type = 1;
    char owner[12] = "sandlock";
    std::uint32_t abi = 999, stages = 0, flags = 0, reserved = 0;
    char strings[20] = "abi_mismatch\0test\0";
};
[[gnu::section(".note.sandlock"), gnu::used, gnu::retain, gnu::aligned(4)]] const Note note{};

[[gnu::constructor]] void leave_a_mark() {
    if (const char* mark = std::getenv("SANDLOCK_TEST_CONSTRUCTOR_MARK"))
        ::close(::open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
}

const std::uint32_t abi_version = 999;
const void* factory() {
    std::abort();  // never called
}

}  // namespace abi_mismatch

BOOST_DLL_ALIAS(abi_mismatch::abi_version, sandlock_plugin_abi)
BOOST_DLL_ALIAS(abi_mismatch::factory, sandlock_plugin)
