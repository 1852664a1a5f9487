#include <sandlock/errors.hpp>
#include <sandlock/units.hpp>

#include <gtest/gtest.h>

namespace sandlock {
namespace {

TEST(ParseSize, SuffixesAnyCase) {
    EXPECT_EQ(parse_size("f", "4096"), 4096u);
    EXPECT_EQ(parse_size("f", "100K"), 100u * 1024);
    EXPECT_EQ(parse_size("f", "512m"), 512u << 20);
    EXPECT_EQ(parse_size("f", "1.5G"), 3u << 29);
    EXPECT_EQ(parse_size("f", "2T"), 2ull << 40);
    EXPECT_EQ(parse_size("f", "512MB"), 512u << 20);
    EXPECT_EQ(parse_size("f", "1GiB"), 1u << 30);
    EXPECT_EQ(parse_size("f", "10b"), 10u);
}

TEST(ParseSize, RefusesWithFieldAndValue) {
    for (const char* bad : {"", "M", "12Q", "-5M", "0", "1..5G", "abc", "1e3", "5 M"}) {
        try {
            parse_size("--max-memory", bad);
            ADD_FAILURE() << "accepted '" << bad << "'";
        } catch (const PolicyError& e) {
            EXPECT_EQ(std::string(e.what()).rfind("--max-memory: invalid value \"" + std::string(bad) + "\"", 0), 0u)
                << e.what();
        }
    }
}

TEST(ParsePortRange, SinglesAndRanges) {
    EXPECT_EQ(parse_port_range("f", "80"), (PortRange{80, 80}));
    EXPECT_EQ(parse_port_range("f", "8000-9000"), (PortRange{8000, 9000}));
    EXPECT_EQ(parse_port_range("f", "65535"), (PortRange{65535, 65535}));
}

TEST(ParsePortRange, Refuses) {
    for (const char* bad : {"0", "65536", "-1", "80-", "-80", "9000-8000", "http", "1-2-3", ""})
        EXPECT_THROW(parse_port_range("--net-bind", bad), PolicyError) << bad;
}

TEST(ParseCpuPercent, PercentOfOneCore) {
    EXPECT_EQ(parse_cpu_percent("f", "50%"), 50u);
    EXPECT_EQ(parse_cpu_percent("f", "100"), 100u);
    for (const char* bad : {"0%", "101%", "half", "50%%", "-5%", ""})
        EXPECT_THROW(parse_cpu_percent("--max-cpu", bad), PolicyError) << bad;
}

TEST(ParseCount, WholeNumbersOnly) {
    EXPECT_EQ(parse_count("f", "64"), 64u);
    for (const char* bad : {"-3", "1.5", "", "ten", "99999999999"})
        EXPECT_THROW(parse_count("--max-processes", bad), PolicyError) << bad;
}

TEST(ParseSeconds, PositiveAndFractional) {
    EXPECT_DOUBLE_EQ(parse_seconds("f", "30"), 30.0);
    EXPECT_DOUBLE_EQ(parse_seconds("f", "0.25"), 0.25);
    for (const char* bad : {"0", "-1", "soon", "", "1s"})
        EXPECT_THROW(parse_seconds("--timeout", bad), PolicyError) << bad;
}

}  // namespace
}  // namespace sandlock
