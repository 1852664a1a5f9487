// The deny-expansion planner, against an in-memory filesystem.
#include "ruleset_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace sandlock::landlock {
namespace {

constexpr Access kRead = kReadableRights;
constexpr Access kWrite = fs_rights(7);
constexpr Access kReadFile = kRead & kFileRights;
constexpr Access kListOnly = LANDLOCK_ACCESS_FS_READ_DIR;

// A filesystem made of the paths it is given; parents are directories implicitly.
class FakeFs : public FsView {
public:
    FakeFs(std::initializer_list<std::pair<std::string, EntryKind>> entries) {
        for (const auto& [path, kind] : entries) add(path, kind);
    }
    void add(const std::string& path, EntryKind kind) {
        entries_[path] = kind;
        auto slash = path.rfind('/');
        if (slash != std::string::npos && slash > 0 && !entries_.contains(path.substr(0, slash)))
            add(path.substr(0, slash), EntryKind::Directory);
    }
    void make_unlistable(const std::string& dir) { unlistable_.push_back(dir); }

    EntryKind kind(const std::string& path) const override {
        if (path == "/") return EntryKind::Directory;
        auto it = entries_.find(path);
        return it == entries_.end() ? EntryKind::Missing : it->second;
    }
    std::optional<std::vector<DirEntry>> list(const std::string& dir) const override {
        if (std::find(unlistable_.begin(), unlistable_.end(), dir) != unlistable_.end())
            return std::nullopt;
        std::vector<DirEntry> out;
        std::string prefix = dir == "/" ? "/" : dir + "/";
        for (const auto& [path, kind] : entries_)
            if (path.starts_with(prefix) && path.find('/', prefix.size()) == std::string::npos)
                out.push_back({path.substr(prefix.size()), kind});
        return out;
    }

private:
    std::map<std::string, EntryKind> entries_;
    std::vector<std::string> unlistable_;
};

constexpr auto Dir = EntryKind::Directory;
constexpr auto File = EntryKind::Other;
constexpr auto Link = EntryKind::Symlink;

std::vector<PathRule> plan(const FakeFs& fs, FsRequest request) {
    return plan_fs_rules(request, kRead, kWrite, fs).rules;
}

TEST(LandlockRulesetPlan, RootsWithoutDeniedPathsGetOneRuleEach) {
    FakeFs fs{{"/usr/bin", Dir}, {"/data", Dir}, {"/etc/hosts", File}};
    auto rules = plan(fs, {.readable = {"/usr", "/etc/hosts"}, .writable = {"/data"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/data", kWrite}, {"/etc/hosts", kReadFile}, {"/usr", kRead}}));
}

TEST(LandlockRulesetPlan, FileRulesAreMaskedToFileRights) {
    FakeFs fs{{"/w/log", File}};
    auto rules = plan(fs, {.writable = {"/w/log"}});
    ASSERT_EQ(rules.size(), 1u);
    EXPECT_EQ(rules[0].access, kWrite & kFileRights);
    EXPECT_EQ(rules[0].access & LANDLOCK_ACCESS_FS_READ_DIR, 0u);
    EXPECT_EQ(rules[0].access & LANDLOCK_ACCESS_FS_MAKE_REG, 0u);
    EXPECT_NE(rules[0].access & LANDLOCK_ACCESS_FS_WRITE_FILE, 0u);
}

TEST(LandlockRulesetPlan, DeniedFileIsCarvedOutAndIntermediatesStayListable) {
    FakeFs fs{{"/r/top", File}, {"/r/sub/lib", Dir}, {"/r/a/ok", File}, {"/r/a/secret", File}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/a/secret"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r", kListOnly},
                                            {"/r/a", kListOnly},
                                            {"/r/a/ok", kReadFile},
                                            {"/r/sub", kRead},
                                            {"/r/top", kReadFile}}));
}

TEST(LandlockRulesetPlan, DeniedDirectoryLeavesIntermediatesWithoutRule) {
    FakeFs fs{{"/w/a/secret/key", File}, {"/w/a/ok", Dir}, {"/w/b", Dir}};
    auto rules = plan(fs, {.writable = {"/w"}, .denied = {"/w/a/secret"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/w/a/ok", kWrite}, {"/w/b", kWrite}}));
}

TEST(LandlockRulesetPlan, SeveralDeniedPathsUnderOneRoot) {
    FakeFs fs{{"/r/x/d1", File}, {"/r/x/keep", File}, {"/r/x/d3", Dir},
              {"/r/y/d2", File}, {"/r/y/keep", Dir},  {"/r/z", Dir}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/x/d1", "/r/y/d2", "/r/x/d3"}});
    // /r/x holds a denied directory, so /r (above it) and /r/x cannot be listed; /r/y can.
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r/x/keep", kReadFile},
                                            {"/r/y", kListOnly},
                                            {"/r/y/keep", kRead},
                                            {"/r/z", kRead}}));
}

TEST(LandlockRulesetPlan, MissingDeniedPathStillCarvesItsName) {
    FakeFs fs{{"/r/a/present", File}, {"/r/b", Dir}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/a/ghost"}});
    // A missing path could later appear as a directory: no listing rights on the way.
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r/a/present", kReadFile}, {"/r/b", kRead}}));
}

TEST(LandlockRulesetPlan, DeniedRootOrAncestorDropsTheRoot) {
    FakeFs fs{{"/r/a", Dir}, {"/s/t/u", Dir}, {"/k", Dir}};
    auto result = plan_fs_rules({.readable = {"/r", "/s/t", "/k"}, .denied = {"/r", "/s"}}, kRead,
                                kWrite, fs);
    EXPECT_EQ(result.rules, (std::vector<PathRule>{{"/k", kRead}}));
    EXPECT_EQ(result.notes.size(), 2u);
}

TEST(LandlockRulesetPlan, MissingAllowedRootIsSkippedWithANote) {
    FakeFs fs{{"/r", Dir}};
    auto result = plan_fs_rules({.readable = {"/nope"}, .writable = {"/r"}}, kRead, kWrite, fs);
    EXPECT_EQ(result.rules, (std::vector<PathRule>{{"/r", kWrite}}));
    ASSERT_EQ(result.notes.size(), 1u);
    EXPECT_NE(result.notes[0].find("/nope"), std::string::npos);
}

TEST(LandlockRulesetPlan, NestedRootsMergeTheirRights) {
    FakeFs fs{{"/h/work/out", Dir}, {"/h/notes", File}};
    auto rules = plan(fs, {.readable = {"/h"}, .writable = {"/h/work"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/h", kRead}, {"/h/work", kWrite}}));
}

TEST(LandlockRulesetPlan, DeniedInsideNestedWritableRoot) {
    FakeFs fs{{"/h/work/secret", Dir}, {"/h/work/src", Dir}, {"/h/notes", File}};
    auto rules = plan(fs, {.readable = {"/h"}, .writable = {"/h/work"}, .denied = {"/h/work/secret"}});
    // Neither /h nor /h/work may hold a rule: both lie above the denied directory.
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/h/notes", kReadFile}, {"/h/work/src", kRead | kWrite}}));
}

TEST(LandlockRulesetPlan, NamesSharingAPrefixAreNotConfused) {
    FakeFs fs{{"/r/a", Dir}, {"/r/ab", Dir}, {"/r/a.b", File}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/ab"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r/a", kRead}, {"/r/a.b", kReadFile}}));
    // A root whose name extends a denied name is not inside it.
    EXPECT_EQ(plan(fs, {.readable = {"/r/ab"}, .denied = {"/r/a"}}),
              (std::vector<PathRule>{{"/r/ab", kRead}}));
}

TEST(LandlockRulesetPlan, SymlinkEntriesGetNoRule) {
    FakeFs fs{{"/r/a/secret", File}, {"/r/alias", Link}, {"/r/b", Dir}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/a/secret"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r", kListOnly}, {"/r/a", kListOnly}, {"/r/b", kRead}}));
}

TEST(LandlockRulesetPlan, FilesystemRootWithDeniedFile) {
    FakeFs fs{{"/etc/shadow", File}, {"/etc/passwd", File}, {"/usr", Dir}};
    auto rules = plan(fs, {.readable = {"/"}, .denied = {"/etc/shadow"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{
                         {"/", kListOnly}, {"/etc", kListOnly}, {"/etc/passwd", kReadFile}, {"/usr", kRead}}));
}

TEST(LandlockRulesetPlan, DeniedPathBelowAFileGrantsTheFileWhole) {
    FakeFs fs{{"/r/file", File}, {"/r/d", Dir}};
    auto rules = plan(fs, {.readable = {"/r"}, .denied = {"/r/file/x"}});
    EXPECT_EQ(rules, (std::vector<PathRule>{{"/r/d", kRead}, {"/r/file", kReadFile}}));
}

TEST(LandlockRulesetPlan, UnlistableDirectoryAllowsNothingInside) {
    FakeFs fs{{"/r/locked/secret", File}, {"/r/locked/other", File}, {"/r/open", Dir}};
    fs.make_unlistable("/r/locked");
    auto result = plan_fs_rules({.readable = {"/r"}, .denied = {"/r/locked/secret"}}, kRead, kWrite, fs);
    EXPECT_EQ(result.rules,
              (std::vector<PathRule>{{"/r", kListOnly}, {"/r/locked", kListOnly}, {"/r/open", kRead}}));
    EXPECT_EQ(result.notes.size(), 1u);
}

TEST(LandlockRulesetPlan, DeniedPathOutsideEveryRootChangesNothing) {
    FakeFs fs{{"/r/a", Dir}, {"/other/x", File}};
    EXPECT_EQ(plan(fs, {.readable = {"/r"}, .denied = {"/other/x"}}),
              (std::vector<PathRule>{{"/r", kRead}}));
}

}  // namespace
}  // namespace sandlock::landlock
