#include "elf_check.hpp"
#include "test_paths.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/input_check.hpp>
#include <sandlock/sdk/policy_schema.hpp>
#include <sandlock/profile.hpp>
#include <sandlock/units.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace sandlock {
namespace {

std::string refusal(std::string_view field, std::string_view value, TextKind kind) {
    try {
        check_text(field, value, kind);
    } catch (const PolicyError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(QuoteValue, EscapesControlCharactersAndQuotes) {
    EXPECT_EQ(quote_value("plain"), "\"plain\"");
    EXPECT_EQ(quote_value(std::string_view("a\nb\tc\0d\x7f\"\\", 10)), "\"a\\nb\\tc\\x00d\\x7f\\\"\\\\\"");
}

TEST(QuoteValue, CutsLongValuesAndSaysHowLong) {
    const std::string quoted = quote_value(std::string(100000, 'x'));
    EXPECT_LT(quoted.size(), 100u);
    EXPECT_NE(quoted.find("... (100000 bytes)"), std::string::npos) << quoted;
}

TEST(OneLine, NeverMoreThanOneBoundedLine) {
    const std::string line = one_line("first\nsecond\r\x1b[31m" + std::string(5000, 'y'));
    EXPECT_EQ(line.find('\n'), std::string::npos);
    EXPECT_EQ(line.find('\x1b'), std::string::npos);
    EXPECT_LT(line.size(), 600u);
}

TEST(CheckText, PathsRefuseEmptyNulAndControlCharacters) {
    EXPECT_EQ(refusal("fs_readable", "/usr/lib", TextKind::Path), "accepted");
    EXPECT_EQ(refusal("fs_readable", std::string_view("/\0tmp/x", 7), TextKind::Path),
              "fs_readable: invalid value \"/\\x00tmp/x\" (contains a NUL byte; write the path without control "
              "characters)");
    EXPECT_NE(refusal("chroot", "", TextKind::Path).find("chroot: invalid value \"\" (empty"), std::string::npos);
    EXPECT_NE(refusal("fs_denied", "/a\x1b", TextKind::Path).find("control character \\x1b"), std::string::npos);
}

TEST(CheckText, EnvNamesAndValues) {
    EXPECT_EQ(refusal("env", "PATH", TextKind::EnvName), "accepted");
    EXPECT_NE(refusal("env", "A=B", TextKind::EnvName).find("cannot contain '='"), std::string::npos);
    EXPECT_NE(refusal("env", "", TextKind::EnvName).find("(empty"), std::string::npos);
    EXPECT_NE(refusal("env", "A\nB", TextKind::EnvName).find("\\x0a"), std::string::npos);
    // Values may hold newlines, tabs and ESC (multi-line variables, PS1); only NUL is refused.
    EXPECT_EQ(refusal("env.A", "line1\nline2\t\x1b[0m", TextKind::EnvValue), "accepted");
    EXPECT_EQ(refusal("env.A", "", TextKind::EnvValue), "accepted");
    EXPECT_NE(refusal("env.A", std::string_view("a\0b", 3), TextKind::EnvValue).find("NUL"), std::string::npos);
}

TEST(CheckText, NamesRefuseSpaces) {
    EXPECT_EQ(refusal("net_allow_hosts", "example.org", TextKind::Name), "accepted");
    EXPECT_NE(refusal("net_allow_hosts", "a b", TextKind::Name).find("space"), std::string::npos);
}

TEST(CheckPolicyText, NamesTheFieldOfTheFirstBadString) {
    Policy p;
    p.fs_readable = {"/usr"};
    p.env["OK"] = "1";
    EXPECT_NO_THROW(check_policy_text(p));
    p.env["A=B"] = "c";
    try {
        check_policy_text(p);
        ADD_FAILURE() << "accepted an env name with '='";
    } catch (const PolicyError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("env: invalid value \"A=B\"", 0), 0u) << e.what();
    }
}

TEST(ParseEnvAssignment, SplitsAtTheFirstEquals) {
    EXPECT_EQ(parse_env_assignment("--env", "A=b=c"), (std::pair<std::string, std::string>{"A", "b=c"}));
    EXPECT_EQ(parse_env_assignment("--env", "A="), (std::pair<std::string, std::string>{"A", ""}));
    EXPECT_THROW(parse_env_assignment("--env", "=b"), PolicyError);
    EXPECT_THROW(parse_env_assignment("--env", "AB"), PolicyError);
}

TEST(ProfileText, StringsAreCheckedWithFileAndLine) {
    auto error_of = [](const std::string& toml) {
        try {
            parse_profile(toml, "p.toml");
        } catch (const PolicyError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_EQ(error_of("fs_readable = [\"/\\u0000tmp/x\"]\n").rfind("p.toml:1: fs_readable: invalid value", 0), 0u);
    EXPECT_EQ(error_of("[env]\n\"A=B\" = \"c\"\n").rfind("p.toml:2: env: invalid value \"A=B\"", 0), 0u);
    EXPECT_EQ(error_of("[env]\n\"\" = \"x\"\n").rfind("p.toml:2: env: invalid value \"\"", 0), 0u);
    EXPECT_EQ(error_of("\"bad\\nkey\" = 1\n").rfind("p.toml:1: unknown field \"bad\\nkey\"", 0), 0u);
    EXPECT_EQ(error_of("[env]\nA = \"two\\nlines\"\n"), "accepted");
}

class ElfCheck : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() / ("elf-check-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path copy_of_self(std::uintmax_t size) {
        // A shared object of this machine: a plugin of this build.
        const std::filesystem::path plugin = test::bin_dir() / "../lib/sandlock/plugins/seccomp.so";
        std::filesystem::path copy = dir_ / "lib.so";
        std::filesystem::copy_file(plugin, copy, std::filesystem::copy_options::overwrite_existing);
        if (size != 0) std::filesystem::resize_file(copy, size);
        return copy;
    }
    std::filesystem::path dir_;
};

TEST_F(ElfCheck, AcceptsASharedObjectAndRefusesOneCutShort) {
    std::filesystem::path whole = copy_of_self(0);
    EXPECT_EQ(elf_problem(whole), "");
    // Past the program headers, inside the loaded segments (the debug info at the end is not loaded).
    std::filesystem::path cut = copy_of_self(3000);
    EXPECT_EQ(elf_problem(cut).rfind("truncated: a loaded segment ends at byte", 0), 0u) << elf_problem(cut);
    cut = copy_of_self(100);
    EXPECT_NE(elf_problem(cut), "");
}

TEST_F(ElfCheck, RefusesWhatIsNotASharedObject) {
    std::ofstream(dir_ / "text.so") << std::string(100, 't');
    EXPECT_EQ(elf_problem(dir_ / "text.so"), "not an ELF file");
    std::ofstream(dir_ / "short.so") << "x";
    EXPECT_NE(elf_problem(dir_ / "short.so").find("shorter than an ELF header"), std::string::npos);
    EXPECT_EQ(elf_problem(dir_), "not a regular file");
    EXPECT_NE(elf_problem(dir_ / "missing.so").find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace sandlock

namespace sandlock {
namespace {

// toml++ 3.3 reached undefined behaviour on these (found by tests/fuzz/profile_fuzz); they are
// refused with the line, and non-ASCII text inside strings and comments still works.
TEST(ProfileText, NonAsciiOutsideStringsIsRefusedInsideStringsKept) {
    EXPECT_THROW(parse_profile("[e\xd2\x89]\nclean_env = true\n", "p.toml"), PolicyError);
    EXPECT_THROW(parse_profile("fs_ = [000m=p\"0\xd1\x87\"]\n", "p.toml"), PolicyError);
    try {
        parse_profile("clean_env = true\ncaf\xc3\xa9 = 1\n", "p.toml");
        ADD_FAILURE() << "accepted a non-ASCII bare key";
    } catch (const PolicyError& e) {
        EXPECT_EQ(std::string(e.what()).rfind("p.toml:2: a non-ASCII character outside a string", 0), 0u) << e.what();
    }
    Policy p = parse_profile("# \xd1\x87 comment\n[env]\nNAME = \"caf\xc3\xa9 \xd1\x87\"\nMULTI = \"\"\"a\n\xd1\x87\"\"\"\n",
                             "p.toml");
    EXPECT_EQ(p.env["NAME"], "caf\xc3\xa9 \xd1\x87");
    EXPECT_EQ(p.env["MULTI"], "a\n\xd1\x87");
}

}  // namespace
}  // namespace sandlock

namespace sandlock {
namespace {

std::string nested_array(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Plugin options travel inside the policy JSON, two levels down: deeper than 30 levels they
// would make the whole policy unreadable to every plugin (found by tests/fuzz/profile_fuzz).
TEST(PluginOptionsDepth, RefusedWhereTheyWouldNotFitInThePolicyJson) {
    Policy p;
    p.plugin_options["x"] = "{\"a\": " + nested_array(kPluginOptionsMaxDepth - 1) + "}";
    EXPECT_NO_THROW(check_policy_text(p));
    EXPECT_NO_THROW(policy_from_json(policy_to_json(p)));
    p.plugin_options["x"] = "{\"a\": " + nested_array(kPluginOptionsMaxDepth) + "}";
    EXPECT_THROW(check_policy_text(p), PolicyError);
    p.plugin_options["x"] = "[1]";
    EXPECT_THROW(check_policy_text(p), PolicyError);

    EXPECT_NO_THROW(parse_profile("[plugins.x]\na = " + nested_array(kPluginOptionsMaxDepth - 1) + "\n", "p.toml"));
    EXPECT_THROW(parse_profile("[plugins.x]\na = " + nested_array(kPluginOptionsMaxDepth) + "\n", "p.toml"),
                 PolicyError);
}

}  // namespace
}  // namespace sandlock
