// User path rules: parsing [plugins.notif] path_rules (and refusing anything unclear with
// one line naming the rule and the key), matching and first-match order.
#include "fake_host.hpp"

#include "paths/path_rules.hpp"

#include <gtest/gtest.h>

#include <sys/syscall.h>

namespace sandlock::notif {
namespace {

std::vector<PathRule> parse(const char* json) { return parse_path_rules(boost::json::parse(json)); }

// The one-line message a bad rule set is refused with.
std::string refusal(const char* json) {
    try {
        parse(json);
    } catch (const sdk::Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        return message;
    }
    ADD_FAILURE() << "accepted: " << json;
    return {};
}

TEST(NotifPathRules, ParsesTheThreeMatchesAndActions) {
    const auto rules = parse(R"([
        {"path": "/etc/motd", "action": "virtualize", "content": "hi\n"},
        {"prefix": "/srv/secret/", "action": "deny", "errno": "ENOENT"},
        {"glob": "/home/*/.ssh/*", "action": "deny"},
        {"path": "/data", "action": "allow"}
    ])");
    ASSERT_EQ(rules.size(), 4u);
    EXPECT_EQ(rules[0].match, PathMatch::Exact);
    EXPECT_EQ(rules[0].action, PathAction::Virtualize);
    EXPECT_EQ(rules[0].content, "hi\n");
    EXPECT_EQ(rules[1].match, PathMatch::Prefix);
    EXPECT_EQ(rules[1].pattern, "/srv/secret");  // normalized
    EXPECT_EQ(rules[1].error, ENOENT);
    EXPECT_EQ(rules[2].match, PathMatch::Glob);
    EXPECT_EQ(rules[2].error, EACCES);  // the default
    EXPECT_EQ(rules[3].action, PathAction::Allow);
}

TEST(NotifPathRules, RefusesWhatItDoesNotUnderstand) {
    EXPECT_NE(refusal(R"({"path": "/x"})").find("expected an array"), std::string::npos);
    EXPECT_NE(refusal(R"(["/x"])").find("path_rules[0]: expected a table"), std::string::npos);
    const std::string unknown = refusal(R"([{"path": "/a", "action": "deny"}, {"pth": "/x", "action": "deny"}])");
    EXPECT_NE(unknown.find("path_rules[1]"), std::string::npos) << unknown;
    EXPECT_NE(unknown.find("unknown key \"pth\""), std::string::npos) << unknown;
    EXPECT_NE(refusal(R"([{"path": "/x", "prefix": "/y", "action": "deny"}])").find("exactly one of path, prefix or glob"),
              std::string::npos);
    EXPECT_NE(refusal(R"([{"action": "deny"}])").find("exactly one of path, prefix or glob"), std::string::npos);
    EXPECT_NE(refusal(R"([{"path": "etc/motd", "action": "deny"}])").find("not an absolute path"), std::string::npos);
    EXPECT_NE(refusal(R"([{"path": 7, "action": "deny"}])").find("path: expected a string"), std::string::npos);
    EXPECT_NE(refusal(R"([{"path": "/x"}])").find("missing action"), std::string::npos);
    const std::string action = refusal(R"([{"path": "/x", "action": "block"}])");
    EXPECT_NE(action.find("path_rules[0] action: \"block\" is not an action"), std::string::npos) << action;
    const std::string bad_errno = refusal(R"([{"path": "/x", "action": "deny", "errno": "EWHATEVER"}])");
    EXPECT_NE(bad_errno.find("errno: \"EWHATEVER\" is not an errno name"), std::string::npos) << bad_errno;
    EXPECT_NE(refusal(R"([{"path": "/x", "action": "deny", "errno": 13}])").find("errno: expected a string"),
              std::string::npos);
    EXPECT_NE(refusal(R"([{"path": "/x", "action": "allow", "errno": "EPERM"}])").find("errno applies only"),
              std::string::npos);
    EXPECT_NE(refusal(R"([{"path": "/x", "action": "deny", "content": "x"}])").find("content applies only"),
              std::string::npos);
    EXPECT_NE(refusal(R"([{"path": "/x", "action": "virtualize"}])").find("needs content"), std::string::npos);
}

TEST(NotifPathRules, ErrnoNames) {
    EXPECT_EQ(errno_by_name("EPERM"), EPERM);
    EXPECT_EQ(errno_by_name("ENOENT"), ENOENT);
    EXPECT_EQ(errno_by_name("EACCES"), EACCES);
    EXPECT_EQ(errno_by_name("EROFS"), EROFS);
    EXPECT_EQ(errno_by_name("EWOULDBLOCK"), EAGAIN);
    EXPECT_EQ(errno_by_name("ENOTSUP"), EOPNOTSUPP);
    EXPECT_EQ(errno_by_name("eperm"), 0);
    EXPECT_EQ(errno_by_name(""), 0);
    EXPECT_EQ(errno_by_name("EFOO"), 0);
}

TEST(NotifPathRules, ExactPrefixAndGlobMatching) {
    const auto rules = parse(R"([
        {"path": "/etc/motd", "action": "deny"},
        {"prefix": "/srv/secret", "action": "deny"},
        {"glob": "/home/*/.ssh/*", "action": "deny"}
    ])");
    EXPECT_TRUE(rules[0].matches("/etc/motd"));
    EXPECT_FALSE(rules[0].matches("/etc/motd.d"));
    EXPECT_FALSE(rules[0].matches("/etc"));
    EXPECT_TRUE(rules[1].matches("/srv/secret"));
    EXPECT_TRUE(rules[1].matches("/srv/secret/a/b"));
    EXPECT_FALSE(rules[1].matches("/srv/secretive"));
    EXPECT_FALSE(rules[1].matches("/srv"));
    EXPECT_TRUE(rules[2].matches("/home/ann/.ssh/id_ed25519"));
    EXPECT_FALSE(rules[2].matches("/home/ann/.ssh/keys/id"));  // * stops at '/'
    EXPECT_FALSE(rules[2].matches("/home/ann/x/.ssh/id"));
}

TEST(NotifPathRules, FirstMatchWins) {
    const auto rules = parse(R"([
        {"path": "/srv/secret/public", "action": "allow"},
        {"prefix": "/srv/secret", "action": "deny", "errno": "EPERM"},
        {"prefix": "/", "action": "virtualize", "content": ""}
    ])");
    EXPECT_EQ(first_match(rules, "/srv/secret/public", std::nullopt), &rules[0]);
    EXPECT_EQ(first_match(rules, "/srv/secret/x", std::nullopt), &rules[1]);
    EXPECT_EQ(first_match(rules, "/etc/passwd", std::nullopt), &rules[2]);
    const auto none = parse(R"([{"path": "/a", "action": "deny"}])");
    EXPECT_EQ(first_match(none, "/b", std::nullopt), nullptr);
}

TEST(NotifPathRules, ProcSelfRulesMatchTheCallersOwnEntry) {
    const auto rules = parse(R"([{"path": "/proc/self/status", "action": "virtualize", "content": "x"}])");
    EXPECT_EQ(first_match(rules, "/proc/100/status", std::string("/proc/self/status")), &rules[0]);
    EXPECT_EQ(first_match(rules, "/proc/100/status", std::nullopt), nullptr);
    // Only rules written with /proc/self look at the self form.
    const auto literal = parse(R"([{"path": "/proc/self/status", "action": "deny"}, {"prefix": "/proc/100", "action": "deny"}])");
    EXPECT_EQ(first_match(literal, "/proc/200/status", std::string("/proc/self/status")), &literal[0]);
}

TEST(NotifPathRulesModule, ClaimsItsOptionAndRegistersOnlyWithRules) {
    PathRulesModule module;
    EXPECT_EQ(module.option_keys(), std::vector<std::string_view>{"path_rules"});

    test::FakeHost fake;
    const sdk::Host host = fake.host();
    HandlerTable table;
    Policy policy;
    const boost::json::object no_rules;
    module.configure({policy, no_rules, host, table});
    EXPECT_TRUE(table.entries().empty());

    const boost::json::object options = boost::json::parse(R"({"path_rules": [{"path": "/x", "action": "deny"}]})").as_object();
    PathRulesModule with_rules;
    with_rules.configure({policy, options, host, table});
    EXPECT_EQ(with_rules.rules().size(), 1u);
    EXPECT_NE(std::find(fake.notified.begin(), fake.notified.end(), static_cast<int>(SYS_openat)), fake.notified.end());
}

}  // namespace
}  // namespace sandlock::notif
