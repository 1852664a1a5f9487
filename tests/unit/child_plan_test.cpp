#include "child_plan.hpp"

#include <gtest/gtest.h>

namespace sandlock {
namespace {

TEST(BuildEnvironment, CleanEnvKeepsOnlyTheBasicsThenEnv) {
    const char* now[] = {"PATH=/bin", "HOME=/root", "SECRET=x", "LANG=C", "TERM=xterm", nullptr};
    Policy p;
    p.clean_env = true;
    p.env = {{"CC", "gcc"}, {"LANG", "C.UTF-8"}};
    auto env = build_environment(p, const_cast<char**>(now));
    EXPECT_EQ(env, (std::vector<std::string>{"PATH=/bin", "HOME=/root", "TERM=xterm", "CC=gcc", "LANG=C.UTF-8"}));
}

TEST(BuildEnvironment, WithoutCleanEnvEverythingStaysAndEnvOverrides) {
    const char* now[] = {"A=1", "B=2", nullptr};
    Policy p;
    p.env = {{"B", "3"}};
    EXPECT_EQ(build_environment(p, const_cast<char**>(now)), (std::vector<std::string>{"A=1", "B=3"}));
}

TEST(ExecCandidates, SlashMeansNoLookup) {
    EXPECT_EQ(exec_candidates("./run", {"PATH=/bin"}), std::vector<std::string>{"./run"});
    EXPECT_EQ(exec_candidates("/bin/ls", {}), std::vector<std::string>{"/bin/ls"});
}

TEST(ExecCandidates, FollowsTheChildsPath) {
    EXPECT_EQ(exec_candidates("ls", {"PATH=/a:/b"}), (std::vector<std::string>{"/a/ls", "/b/ls"}));
    EXPECT_EQ(exec_candidates("ls", {"PATH=/a::/b"}), (std::vector<std::string>{"/a/ls", "./ls", "/b/ls"}));
    EXPECT_EQ(exec_candidates("ls", {}),
              (std::vector<std::string>{"/usr/local/bin/ls", "/usr/bin/ls", "/bin/ls"}));
}

TEST(CStringArray, IsNullTerminatedAndSurvivesMoves) {
    CStringArray a({"x", "yz"});
    CStringArray b = std::move(a);
    EXPECT_STREQ(b.data()[0], "x");
    EXPECT_STREQ(b.data()[1], "yz");
    EXPECT_EQ(b.data()[2], nullptr);
    EXPECT_EQ(b.size(), 2u);
}

}  // namespace
}  // namespace sandlock
