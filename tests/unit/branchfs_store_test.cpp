// The branch store and the run options of the branchfs layer: ids, metadata round trips,
// damaged metadata, locks, nesting chains, storage checks, option validation.
#include "branch_options.hpp"
#include "sandbox_test.hpp"
#include "store/branch_store.hpp"
#include "store/storage_dir.hpp"

#include <sandlock/sdk/plugin.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

namespace sandlock::branchfs {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// A store in `dir`/store for the workspace `dir`/ws.
struct StoreFixture {
    TempDir dir;
    std::string ws = [this] {
        fs::create_directories(dir.path() / "ws");
        fs::create_directories(dir.path() / "store");
        return (dir.path() / "ws").string();
    }();
    BranchStore store{dir.path() / "store"};
};

TEST(BranchfsStore, CreatedBranchesRoundTripAndList) {
    StoreFixture f;
    BranchStore& store = f.store;
    BranchMeta a = store.create(f.ws, std::nullopt);
    BranchMeta b = store.create(f.ws, a.id);
    EXPECT_TRUE(valid_branch_id(a.id));
    EXPECT_NE(a.id, b.id);
    EXPECT_TRUE(fs::is_directory(store.upper(a.id)));
    EXPECT_TRUE(fs::is_directory(store.work(a.id)));
    BranchMeta loaded = store.load(b.id);
    EXPECT_EQ(loaded.workspace, f.ws);
    EXPECT_EQ(loaded.workspace_ino, a.workspace_ino);
    EXPECT_EQ(loaded.parent, a.id);
    EXPECT_EQ(loaded.created.tv_sec, b.created.tv_sec);
    EXPECT_EQ(loaded.created.tv_nsec, b.created.tv_nsec);
    EXPECT_EQ(loaded.state, BranchState::Running);
    EXPECT_EQ(store.list().size(), 2u);
    EXPECT_EQ(store.children(a.id), std::vector<std::string>{b.id});
    EXPECT_EQ(store.layers_below(loaded), std::vector<fs::path>{store.upper(a.id)});
    store.remove(b.id);
    EXPECT_EQ(store.list().size(), 1u);
}

TEST(BranchfsStore, BadIdsAndDamagedMetadataAreRefusedByName) {
    StoreFixture f;
    BranchStore& store = f.store;
    EXPECT_THROW(store.load("../../etc/x"), sdk::Error);
    EXPECT_THROW(store.load("0123456789ab"), sdk::Error);
    BranchMeta a = store.create(f.ws, std::nullopt);
    std::ofstream(store.dir(a.id) / "meta.json") << "{\"version\": 99}";
    try {
        store.load(a.id);
        FAIL();
    } catch (const sdk::Error& e) {
        EXPECT_NE(std::string(e.what()).find("damaged"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(store.list().empty()) << "a damaged branch is not listed as one";
}

TEST(BranchfsStore, LocksExcludeEachOther) {
    StoreFixture f;
    BranchStore& store = f.store;
    BranchMeta a = store.create(f.ws, std::nullopt);
    EXPECT_FALSE(store.in_use(a.id));
    {
        BranchLock shared = store.lock(a.id, false);
        ASSERT_TRUE(shared);
        EXPECT_TRUE(store.lock(a.id, false)) << "shared locks share";
        EXPECT_FALSE(store.lock(a.id, true));
        EXPECT_TRUE(store.in_use(a.id));
        EXPECT_EQ(state_name(store.load(a.id), true), "running");
    }
    EXPECT_FALSE(store.in_use(a.id));
    EXPECT_EQ(state_name(store.load(a.id), false), "interrupted");
}

TEST(BranchfsStore, AWorkspaceMovedOrSwappedIsNotTheBranchs) {
    StoreFixture f;
    BranchMeta a = f.store.create(f.ws, std::nullopt);
    EXPECT_TRUE(open_workspace(a));
    fs::rename(f.ws, f.ws + ".old");
    fs::create_directories(f.ws);
    EXPECT_THROW(open_workspace(a), sdk::Error) << "another directory at the same path";
    fs::remove(f.ws);
    fs::create_directory_symlink(f.ws + ".old", f.ws);
    EXPECT_THROW(open_workspace(a), sdk::Error) << "the same directory through a symlink";
}

TEST(BranchfsStore, StorageIsPrivateAndOurs) {
    TempDir dir;
    const fs::path storage = storage_path(dir.str() + "/a/b/");
    EXPECT_EQ(storage, dir.path() / "a/b");
    open_storage(storage);
    struct stat st {};
    ASSERT_EQ(::stat(storage.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_THROW(storage_path(std::string("relative/dir")), sdk::Error);
    fs::create_symlink(dir.path() / "a", dir.path() / "link");
    EXPECT_THROW(open_storage(dir.path() / "link"), sdk::Error) << "a symlink is not our directory";
}

TEST(BranchfsOptions, StoreMayNotOverlapTheWorkspaceOrAWritableTree) {
    EXPECT_THROW(check_storage_outside("/w/store", "/w", {}), sdk::Error);
    EXPECT_THROW(check_storage_outside("/", "/w", {}), sdk::Error);
    EXPECT_THROW(check_storage_outside("/tmp/s", "/w", {"/tmp"}), sdk::Error);
    EXPECT_NO_THROW(check_storage_outside("/var/s", "/w", {"/tmp", "/w"}));
}

TEST(BranchfsOptions, RunConfigIsCheckedFieldByField) {
    TempDir dir;
    Policy p;
    EXPECT_FALSE(make_run_config(p, {}).has_value());
    p.max_disk = 1 << 20;
    EXPECT_THROW(make_run_config(p, {}), sdk::Error) << "max_disk without branchfs";
    p = {};
    p.fs_isolation = FsIsolation::BranchFs;
    EXPECT_THROW(make_run_config(p, {}), sdk::Error) << "no fs_mount";
    p.fs_mount = dir.str() + "/missing";
    EXPECT_THROW(make_run_config(p, {}), sdk::Error);
    p.fs_mount = "/";
    EXPECT_THROW(make_run_config(p, {}), sdk::Error);
    p.fs_mount = dir.str();
    auto config = make_run_config(p, {});
    ASSERT_TRUE(config.has_value());
    EXPECT_EQ(config->on_exit, BranchAction::Commit);
    EXPECT_EQ(config->on_error, BranchAction::Abort);
    EXPECT_THROW(make_run_config(p, {{"branch", "nope"}}), sdk::Error);
    EXPECT_THROW(make_run_config(p, {{"colour", "blue"}}), sdk::Error);
    EXPECT_THROW(make_run_config(p, {{"dry_run", "yaml"}}), sdk::Error);
    EXPECT_THROW(make_run_config(p, {{"branch", "0123456789ab"}, {"dry_run", "text"}}), sdk::Error);
    EXPECT_THROW(make_run_config(p, {{"branch", "0123456789ab"}, {"branch_from", "0123456789ab"}}), sdk::Error);
    EXPECT_TRUE(make_run_config(p, {{"dry_run", "json"}})->dry_run_json);
    p.max_disk = 100;
    EXPECT_THROW(make_run_config(p, {}), sdk::Error) << "a quota too small for anything";
}

}  // namespace
}  // namespace sandlock::branchfs
