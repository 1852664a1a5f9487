// User path rules from [plugins.notif] in real sandboxes: virtualize, deny with an errno,
// allow, exact/prefix/glob, first match wins, rules ahead of the built-in /proc rules, and a
// bad rule refused before anything runs.
#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <sandlock/errors.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace sandlock::test {
namespace {

SandboxOptions notif_layers() {
    SandboxOptions options;
    options.plugins = {"landlock", "seccomp", "notif"};
    return options;
}

Policy with_rules(const std::string& rules_json) {
    Policy p = system_policy();
    p.plugin_options["notif"] = R"({"path_rules": )" + rules_json + "}";
    return p;
}

// A directory with a few files the rules name.
class RuleTree {
public:
    RuleTree() {
        for (const char* name : {"motd", "secret/a", "secret/b", "secretive", "keys/id", "data"}) {
            const std::string path = dir_ / name;
            std::filesystem::create_directories(std::filesystem::path(path).parent_path());
            std::ofstream(path) << "real " << name << "\n";
        }
    }
    std::string operator/(const std::string& name) const { return dir_ / name; }
    std::string str() const { return dir_.str(); }

private:
    TempDir dir_;
};

TEST(NotifPathRules, EachActionBothWays) {
    RuleTree tree;
    Policy p = with_rules(R"([
        {"path": ")" + tree / "motd" + R"(", "action": "virtualize", "content": "hello from sandlock\n"},
        {"prefix": ")" + tree / "secret" + R"(", "action": "deny", "errno": "ENOENT"},
        {"glob": ")" + tree.str() + R"(/k*/*", "action": "deny"}
    ])");
    p.fs_readable.push_back(tree.str());
    Result r = python(p,
                      "def read(name):\n"
                      "    try: return open('" + tree.str() + "/' + name).read().strip()\n"
                      "    except OSError as e: return errno.errorcode[e.errno]\n"
                      "for name in ['motd', 'secret/a', 'secret', 'secretive', 'keys/id', 'data']: print(name, read(name))\n"
                      "print('relative', read('x/../motd'))\n"
                      "os.chdir('" + tree.str() + "'); print('cwd', open('secret/b').read() if False else probe(os.open, 'secret/b', os.O_RDONLY))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text,
              "motd hello from sandlock\nsecret/a ENOENT\nsecret ENOENT\nsecretive real secretive\nkeys/id EACCES\n"
              "data real data\nrelative hello from sandlock\nENOENT\ncwd None\n")
        << r.stderr_text;
}

TEST(NotifPathRules, FirstMatchWinsAndAllowLetsTheCallThrough) {
    RuleTree tree;
    Policy p = with_rules(R"([
        {"path": ")" + tree / "secret/a" + R"(", "action": "allow"},
        {"prefix": ")" + tree / "secret" + R"(", "action": "deny", "errno": "EPERM"}
    ])");
    p.fs_readable.push_back(tree.str());
    Result r = python(p,
                      "probe(os.open, '" + tree / "secret/a" + "', os.O_RDONLY)\n"
                      "probe(os.open, '" + tree / "secret/b" + "', os.O_RDONLY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "ok\nEPERM\n") << r.stderr_text;
}

TEST(NotifPathRules, AllowNeverGrantsWhatLandlockRefuses) {
    RuleTree tree;  // not in fs_readable
    Result r = python(with_rules(R"([{"prefix": ")" + tree.str() + R"(", "action": "allow"}])"),
                      "probe(os.open, '" + tree / "data" + "', os.O_RDONLY)\n", notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\n") << r.stderr_text;
}

TEST(NotifPathRules, AVirtualFileIsReadOnly) {
    Result r = python(with_rules(R"([{"path": "/etc/motd", "action": "virtualize", "content": "x"}])"),
                      "probe(os.open, '/etc/motd', os.O_RDWR)\n"
                      "fd = os.open('/etc/motd', os.O_RDONLY); probe(os.write, fd, b'y'); print(os.read(fd, 10))\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EACCES\nEBADF\nb'x'\n") << r.stderr_text;
}

// Inside the sandbox's PID namespace the caller names itself by the namespace's pid: a rule on
// /proc/self/... matches /proc/<that pid>/... too. /proc/kallsyms is masked by the kernel.
TEST(NotifPathRules, RulesComeBeforeTheProcRules) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");  // a readable /proc needs them
    Policy p = with_rules(R"([{"path": "/proc/self/status", "action": "virtualize", "content": "Name:\tnobody\n"},
                              {"path": "/proc/cpuinfo", "action": "deny", "errno": "EROFS"}])");
    p.fs_readable.push_back("/proc");
    Result r = python(p,
                      "print(open('/proc/self/status').read().strip())\n"
                      "print(open('/proc/%d/status' % os.getpid()).read().strip())\n"
                      "probe(os.open, '/proc/cpuinfo', os.O_RDONLY)\n"
                      "probe(os.open, '/proc/kallsyms', os.O_RDONLY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "Name:\tnobody\nName:\tnobody\nEROFS\nEACCES\n") << r.stderr_text;
}

// Walking through /proc/<pid>/cwd or fd/N is judged by where it leads, the link read in the
// caller's own /proc: inside the PID namespace, the same number on the host is another process.
TEST(NotifPathRules, MagicLinksAreFollowedAsTheCallerSeesThem) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("sandbox namespaces");  // a readable /proc needs them
    RuleTree tree;
    Policy p = with_rules(R"([{"prefix": ")" + tree / "secret" + R"(", "action": "deny", "errno": "EPERM"}])");
    p.fs_readable.push_back(tree.str());
    p.fs_readable.push_back("/proc");
    Result r = python(p,
                      "os.chdir('" + tree / "secret" + "')\n"
                      "probe(os.open, '/proc/self/cwd/a', os.O_RDONLY)\n"
                      "probe(os.open, '/proc/%d/cwd/a' % os.getpid(), os.O_RDONLY)\n"
                      "probe(os.open, '/proc/thread-self/cwd/../data', os.O_RDONLY)\n"
                      "d = os.open('" + tree.str() + "', os.O_RDONLY)\n"
                      "probe(os.open, '/proc/self/fd/%d/secret/b' % d, os.O_RDONLY)\n"
                      "os.chdir('" + tree.str() + "')\n"
                      "probe(os.open, '/proc/self/cwd/secret/a', os.O_RDONLY)\n"
                      "probe(os.open, '/proc/self/cwd/secretive', os.O_RDONLY)\n",
                      notif_layers());
    EXPECT_EQ(r.stdout_text, "EPERM\nEPERM\nok\nEPERM\nEPERM\nok\n") << r.stderr_text;
}

TEST(NotifPathRules, ABadRuleIsRefusedByIndexAndKey) {
    try {
        run(with_rules(R"([{"path": "/a", "action": "deny"}, {"path": "/b", "action": "deny", "eror": "EPERM"}])"),
            {"/bin/true"}, notif_layers());
        FAIL() << "ran with a misspelled key";
    } catch (const Error& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("path_rules[1]"), std::string::npos) << what;
        EXPECT_NE(what.find("\"eror\""), std::string::npos) << what;
    }
}

}  // namespace
}  // namespace sandlock::test
