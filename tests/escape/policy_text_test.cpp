// A NUL or control character inside a policy string never narrows what the string says into
// something wider: "/\0tmp/x" used to become a rule for "/" (the whole filesystem readable),
// and an env name "A=B" set A. Library callers are refused as the CLI and profiles are.
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

namespace sandlock::test {
namespace {

// Runs `cat /etc/hostname` (readable only if the policy reaches /etc) and reports whether it
// was refused before anything ran.
bool refused_before_running(const Policy& policy) {
    try {
        Result r = run(policy, {"/bin/cat", "/etc/hostname"});
        ADD_FAILURE() << "ran: exit " << r.exit_code << " out " << r.stdout_text;
        return false;
    } catch (const PolicyError& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        return true;
    }
}

Policy without_etc() {
    Policy p;
    p.fs_readable = {"/usr", "/lib", "/lib64", "/bin"};
    return p;
}

TEST(EscapePolicyText, ANulInsideAPathIsRefusedNotCutShort) {
    for (const char* field : {"fs_readable", "fs_writable", "fs_denied"}) {
        Policy p = without_etc();
        const std::string path("/\0tmp/x", 7);
        if (std::string_view(field) == "fs_readable") p.fs_readable.push_back(path);
        if (std::string_view(field) == "fs_writable") p.fs_writable.push_back(path);
        if (std::string_view(field) == "fs_denied") p.fs_denied.push_back(path);
        EXPECT_TRUE(refused_before_running(p)) << field;
    }
    Policy chroot = without_etc();
    chroot.chroot = std::string("/tmp\0/x", 7);
    EXPECT_TRUE(refused_before_running(chroot));
}

TEST(EscapePolicyText, EnvNamesAreRefusedWhenTheyCannotBeNames) {
    for (const std::string& name : {std::string("A=B"), std::string(""), std::string("A\0B", 3), std::string("A\nB")}) {
        Policy p = without_etc();
        p.env[name] = "c";
        EXPECT_TRUE(refused_before_running(p)) << name;
    }
    Policy value = without_etc();
    value.env["A"] = std::string("b\0c", 3);
    EXPECT_TRUE(refused_before_running(value));
}

TEST(EscapePolicyText, TheSamePolicyWithoutTheBadStringRunsAndKeepsEtcClosed) {
    Result r = run(without_etc(), {"/bin/cat", "/etc/hostname"});
    EXPECT_NE(r.exit_code, 0) << "/etc was readable: " << r.stdout_text;
    EXPECT_NE(r.stderr_text.find("Permission denied"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace sandlock::test
