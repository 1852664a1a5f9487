// The real filesystem side of planning: path resolution, listing, and adding rules to a
// kernel ruleset (created only, never enforced on the test process).
#include "fs_view.hpp"
#include "ruleset.hpp"
#include "ruleset_plan.hpp"

#include <sandlock/sdk/plugin.hpp>

#include "feature_check.hpp"
#include "sandbox_test.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sandlock::landlock {
namespace {

namespace fs = std::filesystem;

class LandlockFsView : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = fs::canonical(dir_.path()).string();
        fs::create_directories(root_ + "/real/sub");
        std::ofstream(root_ + "/real/secret") << "x";
        std::ofstream(root_ + "/real/open") << "y";
        fs::create_directory_symlink(root_ + "/real", root_ + "/link");
    }
    test::TempDir dir_;
    std::string root_;
};

TEST_F(LandlockFsView, ResolvesSymlinksDotsAndAMissingTail) {
    EXPECT_EQ(resolve_path(root_ + "/link/secret"), root_ + "/real/secret");
    EXPECT_EQ(resolve_path(root_ + "/link/../real/sub/"), root_ + "/real/sub");
    EXPECT_EQ(resolve_path(root_ + "/link/ghost/deeper"), root_ + "/real/ghost/deeper");
}

TEST_F(LandlockFsView, ListsEntriesWithTheirKinds) {
    RealFsView view;
    EXPECT_EQ(view.kind(root_ + "/link"), EntryKind::Symlink);
    EXPECT_EQ(view.kind(root_ + "/real/open"), EntryKind::Other);
    EXPECT_EQ(view.kind(root_ + "/nothing"), EntryKind::Missing);
    auto entries = view.list(root_ + "/real");
    ASSERT_TRUE(entries);
    EXPECT_EQ(entries->size(), 3u);
    EXPECT_FALSE(view.list(root_ + "/nothing"));
}

TEST_F(LandlockFsView, DenyGivenThroughASymlinkStillCarvesTheTarget) {
    FsRequest request{{resolve_path(root_ + "/link")}, {}, {resolve_path(root_ + "/link/secret")}};
    auto rules = plan_fs_rules(request, kReadableRights, fs_rights(7), RealFsView{}).rules;
    for (const auto& rule : rules) EXPECT_NE(rule.path, root_ + "/real/secret");
    EXPECT_EQ(rules, (std::vector<PathRule>{
                         {root_ + "/real", LANDLOCK_ACCESS_FS_READ_DIR},
                         {root_ + "/real/open", kReadableRights & kFileRights},
                         {root_ + "/real/sub", kReadableRights}}));
}

class LandlockRulesetBuild : public LandlockFsView {
protected:
    void SetUp() override {
        SANDLOCK_SKIP_UNLESS_AVAILABLE("landlock filesystem rules");
        LandlockFsView::SetUp();
    }
    RulesetAttr attr_{.handled_access_fs = fs_rights(1)};
    std::vector<std::string> vanished_;
};

TEST_F(LandlockRulesetBuild, AddsPlannedRulesAndSkipsVanishedPaths) {
    std::vector<PathRule> rules{{root_ + "/real/sub", kReadableRights},
                                {root_ + "/real/open", kReadableRights & kFileRights},
                                {root_ + "/gone", kReadableRights}};
    auto ruleset = Ruleset::build(attr_, rules, {}, vanished_);
    EXPECT_FALSE(ruleset.empty());
    EXPECT_EQ(vanished_, (std::vector<std::string>{root_ + "/gone"}));
}

TEST_F(LandlockRulesetBuild, KernelRefusalNamesThePathAndErrno) {
    // Directory rights on a regular file: the kernel answers EINVAL.
    std::vector<PathRule> rules{{root_ + "/real/open", kReadableRights}};
    try {
        Ruleset::build(attr_, rules, {}, vanished_);
        FAIL() << "directory rights on a file were accepted";
    } catch (const sdk::Error& e) {
        std::string message = e.what();
        EXPECT_NE(message.find(root_ + "/real/open"), std::string::npos) << message;
        EXPECT_NE(message.find("EINVAL"), std::string::npos) << message;
    }
}

TEST_F(LandlockRulesetBuild, AnEmptyRulesetEnforcesNothing) {
    Ruleset ruleset;
    EXPECT_TRUE(ruleset.empty());
    EXPECT_EQ(ruleset.enforce(), 0);
}

}  // namespace
}  // namespace sandlock::landlock
