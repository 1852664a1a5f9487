// Sandbox::run in a long-lived process: 1,000 runs leave the heap, fds, threads and mappings
// where they were. Each load of a plugin with a static libstdc++ used to allocate its emergency
// exception pool anew (~71 KB per plugin per run); plugins now stay loaded for the process.
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <malloc.h>

#include <filesystem>
#include <fstream>

namespace sandlock::test {
namespace {

// Under AddressSanitizer the heap and its mappings are the sanitizer's (mallinfo2 sees none of
// them and its allocator maps as it likes); LeakSanitizer checks the heap there at exit instead.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kOwnAllocator = false;
#else
constexpr bool kOwnAllocator = true;
#endif

struct Footprint {
    std::size_t heap = 0, fds = 0, threads = 0, maps = 0;
};

std::size_t entries(const char* dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

Footprint measure() {
    Footprint f;
    f.heap = mallinfo2().uordblks;
    f.fds = entries("/proc/self/fd");
    f.threads = entries("/proc/self/task");
    std::ifstream maps("/proc/self/maps");
    for (std::string line; std::getline(maps, line);) ++f.maps;
    return f;
}

TEST(LibraryLoop, AThousandRunsKeepTheProcessFlat) {
    Policy p = system_policy();
    p.max_processes = 16;  // the notif layer too: three plugins per run, a supervisor thread
    const Sandbox sandbox(p);
    auto once = [&] {
        Result r = sandbox.run({"/bin/true"}, std::chrono::seconds(20));
        ASSERT_EQ(r.exit_code, 0) << r.error << r.stderr_text;
    };
    for (int i = 0; i < 20; ++i) once();  // warm-up: plugins loaded, caches and pools filled
    const Footprint before = measure();
    constexpr int kRuns = 1000;
    for (int i = 0; i < kRuns; ++i) {
        once();
        if (HasFatalFailure()) return;
    }
    const Footprint after = measure();
    const double growth = (static_cast<double>(after.heap) - static_cast<double>(before.heap)) / kRuns;
    RecordProperty("heap_growth_bytes_per_run", std::to_string(growth));
    std::printf("heap growth per run: %.1f bytes (%zu -> %zu)\n", growth, before.heap, after.heap);
    EXPECT_EQ(after.fds, before.fds);
    EXPECT_EQ(after.threads, before.threads);
    if (kOwnAllocator) {
        EXPECT_LT(growth, 256.0) << "heap grew from " << before.heap << " to " << after.heap;
        EXPECT_EQ(after.maps, before.maps);
    }
}

}  // namespace
}  // namespace sandlock::test
