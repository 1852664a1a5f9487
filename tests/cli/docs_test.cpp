// The man pages against the binary and the parser: every subcommand and long flag that
// `sandlock ... --help` prints is in sandlock(1), every profile key core/src/profile.cpp accepts
// is in sandlock-profile(5) (and every key that page lists is accepted), its example profile
// parses, and each page renders without a warning.
#include "cli_run.hpp"
#include "docs_sources.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/profile.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace sandlock::test {
namespace {

// The page as a reader sees it: roff's escaped hyphen and font changes removed.
std::string plain(std::string_view roff) {
    std::string text(roff);
    for (const auto& [from, to] : {std::pair{std::string("\\-"), std::string("-")}, {"\\fB", ""}, {"\\fI", ""},
                                   {"\\fR", ""}, {"\\fP", ""}, {"\\&", ""}, {"\\(dq", "\""}}) {
        for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
            text.replace(at, from.size(), to);
    }
    return text;
}

// Whether `word` occurs in `text` as a whole word: `--branch` is not found in `--branch-from`.
bool has_word(const std::string& text, const std::string& word) {
    auto part_of_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; };
    for (std::size_t at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const bool starts = at == 0 || !part_of_word(text[at - 1]);
        const std::size_t end = at + word.size();
        if (starts && (end == text.size() || !part_of_word(text[end]))) return true;
    }
    return false;
}

struct Help {
    std::set<std::string> long_flags, subcommands;
};

// What CLI11 prints for --help: option lines ("  -r,--fs-readable TEXT ...   Path ...") under
// "Options:", names under "Subcommands:". Only the name column is read, not the descriptions.
Help parse_help(const std::string& out) {
    Help help;
    std::istringstream lines(out);
    std::string section;
    for (std::string line; std::getline(lines, line);) {
        if (!line.empty() && line[0] != ' ') {
            section = line;
            continue;
        }
        if (line.size() < 3 || line.compare(0, 2, "  ") != 0) continue;
        const std::string column = line.substr(2, line.find("  ", 2) - 2);
        if (section == "Subcommands:") {
            help.subcommands.insert(column.substr(0, column.find(' ')));
        } else if (section == "Options:") {
            static const std::regex kLongFlag("--[a-z][a-z0-9-]*");
            for (std::sregex_iterator it(column.begin(), column.end(), kLongFlag), end; it != end; ++it)
                help.long_flags.insert(it->str());
        }
    }
    return help;
}

// Walks `sandlock [path...] --help` down every subcommand; calls visit(path, help) for each.
template <class Visit>
void walk_help(std::vector<std::string> path, Visit& visit) {
    std::vector<std::string> args = path;
    args.push_back("--help");
    CliResult r = sandlock(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    Help help = parse_help(r.out);
    visit(path, help);
    for (const std::string& sub : help.subcommands) {
        std::vector<std::string> deeper = path;
        deeper.push_back(sub);
        walk_help(deeper, visit);
    }
}

TEST(Docs, EverySubcommandAndLongFlagOfHelpIsInSandlock1) {
    const std::string page = plain(embedded::kSandlock1);
    std::size_t commands = 0, flags = 0;
    bool saw_run_flag = false;
    auto visit = [&](const std::vector<std::string>& path, const Help& help) {
        std::string where = "sandlock";
        for (const auto& word : path) where += " " + word;
        for (const std::string& sub : help.subcommands) {
            ++commands;
            EXPECT_TRUE(has_word(page, sub)) << "docs/sandlock.1 does not mention the command '" << where << " " << sub << "'";
        }
        for (const std::string& flag : help.long_flags) {
            ++flags;
            EXPECT_TRUE(has_word(page, flag)) << "docs/sandlock.1 does not document " << flag << " of '" << where << "'";
        }
        if (path == std::vector<std::string>{"run"}) saw_run_flag = help.long_flags.contains("--fs-readable");
    };
    walk_help({}, visit);
    // The help was read (a change of CLI11's layout must fail here, not pass with nothing read).
    EXPECT_TRUE(saw_run_flag);
    EXPECT_GE(commands, 12u);  // run profile check plugins branch, profile's 2, branch's 5
    EXPECT_GE(flags, 40u);
}

// The keys ProfileReader compares against (`key == "fs_readable"`), from its source.
std::set<std::string> parser_keys() {
    const std::string source(embedded::kProfileCpp);
    static const std::regex kKey(R"re(key == "([a-z_]+)")re");
    std::set<std::string> keys;
    for (std::sregex_iterator it(source.begin(), source.end(), kKey), end; it != end; ++it) keys.insert((*it)[1]);
    return keys;
}

// Whether the parser knows `key`: at the top level (any error but "unknown field"), or inside
// [plugins] (where any other key names a plugin and must hold a table of its options).
bool parser_knows(const std::string& key) {
    try {
        parse_profile(key + " = 1\n", "docs.toml");
        return true;
    } catch (const PolicyError& e) {
        if (std::string(e.what()).find("unknown field") == std::string::npos) return true;
    }
    try {
        parse_profile("[plugins]\n" + key + " = [\"landlock\"]\n", "docs.toml");
        return true;
    } catch (const PolicyError&) {
        return false;
    }
}

TEST(Docs, EveryProfileKeyIsInSandlockProfile5) {
    const std::set<std::string> keys = parser_keys();
    EXPECT_GE(keys.size(), 25u) << "the key list of core/src/profile.cpp was not found";
    EXPECT_FALSE(parser_knows("no_such_key"));  // the probe below can tell
    const std::string page = plain(embedded::kSandlockProfile5);
    for (const std::string& key : keys) {
        EXPECT_TRUE(parser_knows(key)) << key << " was read from profile.cpp but is not a key";
        EXPECT_TRUE(has_word(page, key)) << "docs/sandlock-profile.5 does not document the key " << key;
    }
}

TEST(Docs, EveryKeySandlockProfile5ListsIsAccepted) {
    // Each key is the term of a tagged paragraph: `.BR fs_readable " (array of paths)"`.
    const std::string page(embedded::kSandlockProfile5);
    static const std::regex kTerm(R"re(\n\.TP\n\.BR ([a-z_]+) ")re");
    std::size_t terms = 0;
    for (std::sregex_iterator it(page.begin(), page.end(), kTerm), end; it != end; ++it, ++terms)
        EXPECT_TRUE(parser_knows((*it)[1])) << "docs/sandlock-profile.5 lists " << (*it)[1] << ", which the parser refuses";
    EXPECT_GE(terms, 25u);
}

TEST(Docs, TheExampleProfileOfSandlockProfile5Parses) {
    const std::string page = plain(embedded::kSandlockProfile5);
    const std::size_t start = page.find("\n.EX\n"), end = page.find("\n.EE\n");
    ASSERT_NE(start, std::string::npos);
    ASSERT_NE(end, std::string::npos);
    const std::string example = page.substr(start + 5, end + 1 - (start + 5));
    Policy policy;
    ASSERT_NO_THROW(policy = parse_profile(example, "sandlock-profile.5")) << example;
    EXPECT_EQ(policy.max_memory, 512u << 20);
    EXPECT_EQ(policy.env.at("CC"), "gcc");
}

TEST(Docs, EveryPageRendersWithoutWarnings) {
    TempDir dir;
    for (const auto& [name, text] : {std::pair{"sandlock.1", embedded::kSandlock1},
                                     {"sandlock-profile.5", embedded::kSandlockProfile5},
                                     {"sandlock-plugin.7", embedded::kSandlockPlugin7}}) {
        const std::string file = dir / name;
        std::ofstream(file) << text;
        CliResult r = sandlock_at({"/usr/bin/man", "--warnings", "-l", "-Tutf8", file},
                                  // man-db confines its helpers with seccomp, which some containers refuse
                                  {"MANWIDTH=80", "LC_ALL=C.UTF-8", "MAN_DISABLE_SECCOMP=1"});
        EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
        EXPECT_EQ(r.err, "") << name;
        EXPECT_GT(r.out.size(), 1000u) << name << " rendered to almost nothing";
    }
}

}  // namespace
}  // namespace sandlock::test
