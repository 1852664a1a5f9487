// The branchfs layer engine: reading an overlay upper layer (diff, conflicts) and applying it
// crash-safely onto a workspace or a parent layer.
#include "feature_check.hpp"
#include "layer/journal.hpp"
#include "layer/layer.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

namespace sandlock::branchfs {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A scratch directory for one test, removed with everything in it.
// Where the tests with thousands of files run: a tmpfs when there is one (creating a file on
// this machine's disk costs ~0.8 ms), BRANCHFS_TEST_DIR to measure elsewhere.
// (tmpfs takes user.* xattrs since Linux 6.6: probed.)
fs::path bulk_base() {
    if (const char* dir = std::getenv("BRANCHFS_TEST_DIR")) return dir;
    std::string probe = "/dev/shm/branchfs-probe-XXXXXX";
    int fd = ::mkstemp(probe.data());
    if (fd < 0) return fs::temp_directory_path();
    bool usable = ::fsetxattr(fd, "user.overlay.origin", "", 0, 0) == 0;
    ::close(fd);
    ::unlink(probe.c_str());
    return usable ? fs::path("/dev/shm") : fs::temp_directory_path();
}

class ScratchDir {
public:
    explicit ScratchDir(const fs::path& base = fs::temp_directory_path()) {
        std::string tmpl = (base / "branchfs-layer-XXXXXX").string();
        if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~ScratchDir() {
        auto [parent, name] = split_parent(path_.string().substr(1));
        UniqueFd dir(::open(("/" + parent).c_str(), O_RDONLY | O_DIRECTORY));
        remove_tree_at(dir.get(), name);
    }
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& rel) const { return path_ / rel; }

private:
    fs::path path_;
};

void write_file(const fs::path& path, const std::string& content, mode_t mode = 0644) {
    fs::create_directories(path.parent_path());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, mode);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
    ::fchmod(fd, mode);
    ::close(fd);
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
}

void make_whiteout(const fs::path& path) {
    fs::create_directories(path.parent_path());
    ASSERT_EQ(::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)), 0) << path << ": " << std::strerror(errno);
}

void set_marker(const fs::path& path, const char* name, const std::string& value) {
    ASSERT_EQ(::lsetxattr(path.c_str(), name, value.data(), value.size(), 0), 0)
        << path << ": " << std::strerror(errno);
}
void make_opaque_dir(const fs::path& path) {
    fs::create_directories(path);
    set_marker(path, "user.overlay.opaque", "y");
}
void mark_origin(const fs::path& path) { set_marker(path, "user.overlay.origin", ""); }

std::string xattr_of(const fs::path& path, const char* name) {
    char buffer[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, buffer, sizeof buffer);
    return n < 0 ? "<none>" : std::string(buffer, static_cast<size_t>(n));
}

// Every entry below `root` with its type, mode and contents (and mtime when asked), in one string
// per path: two trees are equal when their listings are.
std::map<std::string, std::string> listing(const fs::path& root, bool with_mtime = false) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        EXPECT_EQ(::lstat(it->path().c_str(), &st), 0);
        std::ostringstream line;
        line << std::oct << (st.st_mode & 07777) << std::dec << ' ';
        if (S_ISDIR(st.st_mode))
            line << "dir";
        else if (S_ISLNK(st.st_mode))
            line << "-> " << fs::read_symlink(it->path()).string();
        else if (S_ISREG(st.st_mode))
            line << "file " << read_file(it->path());
        else if (S_ISFIFO(st.st_mode))
            line << "fifo";
        else if (S_ISCHR(st.st_mode))
            line << "chr " << major(st.st_rdev) << "/" << minor(st.st_rdev);
        else
            line << "other";
        if (with_mtime) line << " @" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
        out[fs::relative(it->path(), root).string()] = line.str();
    }
    return out;
}

// `since` as the branch store takes it: from the clock file timestamps come from, after any
// earlier write has surely got an older stamp.
timespec branch_created_now() {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    return now;
}

// A branch newer than anything in the target: no conflict possible.
constexpr timespec kNoConflicts{std::numeric_limits<time_t>::max(), 0};

std::vector<Change> changes(std::initializer_list<std::pair<char, std::string>> list) {
    std::vector<Change> out;
    for (auto [kind, path] : list)
        out.push_back({kind == 'A'   ? ChangeKind::Added
                       : kind == 'M' ? ChangeKind::Modified
                                     : ChangeKind::Deleted,
                       path});
    return out;
}

std::string show(const std::vector<Change>& list) {
    std::string out;
    for (const auto& c : list)
        out += std::string(c.kind == ChangeKind::Added      ? "A "
                           : c.kind == ChangeKind::Modified ? "M "
                                                            : "D ") +
               c.path + "\n";
    return out;
}

// ---- diff -------------------------------------------------------------------------------

TEST(BranchfsLayerDiff, ListsAddModifyDeleteWithDirectoriesExpanded) {
    ScratchDir dir;
    auto below = dir / "below", upper = dir / "upper";
    write_file(below / "kept", "k");
    write_file(below / "mod", "old");
    write_file(below / "gone", "g");
    write_file(below / "tree/a", "a");
    write_file(below / "tree/sub/b", "b");
    write_file(below / "redo/old", "o");
    write_file(below / "redo/same", "s");
    write_file(below / "filedir", "was a file");
    fs::create_directories(upper);
    write_file(upper / "mod", "new");
    mark_origin(upper / "mod");
    write_file(upper / "added", "n");
    make_whiteout(upper / "gone");
    make_whiteout(upper / "tree");
    make_whiteout(upper / "never-there");  // deleting what is not below: no change
    make_opaque_dir(upper / "redo");
    write_file(upper / "redo/same", "s2");
    write_file(upper / "redo/fresh", "f");
    make_opaque_dir(upper / "filedir");
    write_file(upper / "filedir/inner", "i");

    auto expected = changes({{'A', "added"},
                             {'M', "filedir"},
                             {'A', "filedir/inner"},
                             {'D', "gone"},
                             {'M', "mod"},
                             {'A', "redo/fresh"},
                             {'D', "redo/old"},
                             {'M', "redo/same"},
                             {'D', "tree"},
                             {'D', "tree/a"},
                             {'D', "tree/sub"},
                             {'D', "tree/sub/b"}});
    auto got = diff_layer(upper, below);
    EXPECT_EQ(got, expected) << show(got);
}

TEST(BranchfsLayerDiff, DirectoryIsModifiedOnlyByItsOwnModeOrTimes) {
    ScratchDir dir;
    auto below = dir / "below", upper = dir / "upper";
    fs::create_directories(below / "chmodded");
    fs::create_directories(below / "touched");
    write_file(below / "holder/file", "x");
    fs::create_directories(upper / "chmodded");
    ::chmod((upper / "chmodded").c_str(), 0700);
    ::chmod((below / "chmodded").c_str(), 0755);
    fs::create_directories(upper / "touched");
    const timespec old_times[2] = {{1000, 0}, {1000, 0}};
    ::utimensat(AT_FDCWD, (upper / "touched").c_str(), old_times, 0);
    write_file(upper / "holder/file", "y");  // holder's mtime differs, but its file says why
    auto got = diff_layer(upper, below);
    EXPECT_EQ(got, changes({{'M', "chmodded"}, {'M', "holder/file"}, {'M', "touched"}})) << show(got);
}

// ---- conflicts --------------------------------------------------------------------------

struct ConflictSetup {
    ScratchDir dir;
    fs::path target = dir / "target", upper = dir / "upper";
    timespec since{};
    ConflictSetup() {
        write_file(target / "src/a.c", "a");
        write_file(target / "src/b.c", "b");
        write_file(target / "doc/readme", "r");
        write_file(target / "old/x", "x");
        write_file(target / "both", "d");
        fs::create_directories(upper);
        since = branch_created_now();
    }
};

TEST(BranchfsLayerConflicts, OverlappingChangesConflictDisjointOnesDoNot) {
    ConflictSetup s;
    write_file(s.upper / "src/a.c", "branch");
    mark_origin(s.upper / "src/a.c");
    write_file(s.upper / "src/new.c", "branch");  // host adds another file in the same directory
    write_file(s.target / "src/a.c", "host");
    write_file(s.target / "src/host.c", "host");
    EXPECT_EQ(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since), std::vector<std::string>{"src/a.c"});
}

TEST(BranchfsLayerConflicts, DisjointChangesInOneDirectoryAreClean) {
    ConflictSetup s;
    write_file(s.upper / "src/y.c", "branch");
    write_file(s.target / "src/x.c", "host");
    EXPECT_TRUE(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since).empty());
}

TEST(BranchfsLayerConflicts, HostDeletedWhatTheBranchModified) {
    ConflictSetup s;
    write_file(s.upper / "src/b.c", "branch");
    mark_origin(s.upper / "src/b.c");
    fs::remove(s.target / "src/b.c");
    EXPECT_EQ(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since), std::vector<std::string>{"src/b.c"});
}

TEST(BranchfsLayerConflicts, BothDeletedIsNoConflict) {
    ConflictSetup s;
    make_whiteout(s.upper / "both");
    fs::remove(s.target / "both");
    EXPECT_TRUE(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since).empty());
}

TEST(BranchfsLayerConflicts, DeletedOrReplacedDirectoryConflictsWithAnyChangeInside) {
    ConflictSetup s;
    make_whiteout(s.upper / "old");
    make_opaque_dir(s.upper / "doc");
    write_file(s.upper / "doc/new", "n");
    write_file(s.target / "old/host-added", "h");
    write_file(s.target / "doc/readme", "host edit");
    EXPECT_EQ(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since),
              (std::vector<std::string>{"doc", "old"}));
}

TEST(BranchfsLayerConflicts, UnchangedTargetIsClean) {
    ConflictSetup s;
    write_file(s.upper / "src/a.c", "branch");
    mark_origin(s.upper / "src/a.c");
    make_whiteout(s.upper / "old");
    make_opaque_dir(s.upper / "doc");
    EXPECT_TRUE(find_conflicts(s.upper, s.target, TargetKind::Workspace, s.since).empty());
}

TEST(BranchfsLayerConflicts, WhiteoutInParentLayerCountsAsChange) {
    ScratchDir dir;
    auto parent = dir / "parent", upper = dir / "upper";
    fs::create_directories(parent);
    write_file(upper / "f", "child");
    mark_origin(upper / "f");
    write_file(upper / "d/g", "child");
    auto since = branch_created_now();
    make_whiteout(parent / "f");  // the parent branch deleted f after the child was made
    make_whiteout(parent / "d");
    EXPECT_EQ(find_conflicts(upper, parent, TargetKind::Layer, since), (std::vector<std::string>{"d", "f"}));
}

// ---- apply ------------------------------------------------------------------------------

TEST(BranchfsLayerApply, AppliesEveryKindOfChangeOntoWorkspace) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper", journal = dir / "journal";
    write_file(target / "mod", "old");
    write_file(target / "gone", "g");
    write_file(target / "tree/a", "a");
    write_file(target / "tree/sub/b", "b");
    write_file(target / "redo/old", "o");
    write_file(target / "redo/deep/older", "o");
    write_file(target / "dir2file/x", "x");
    write_file(target / "file2dir", "f");
    write_file(target / "keep", "k");
    fs::create_directories(target / "moddir");
    fs::create_directory_symlink("keep", target / "link2dir");
    auto since = branch_created_now();

    fs::create_directories(upper);
    write_file(upper / "mod", "new", 0600);
    mark_origin(upper / "mod");
    write_file(upper / "added/deep/file", "n", 0755);
    make_whiteout(upper / "gone");
    make_whiteout(upper / "tree");
    make_opaque_dir(upper / "redo");
    fs::create_directories(upper / "redo/deep");
    write_file(upper / "redo/new", "r");
    write_file(upper / "dir2file", "now a file");
    make_opaque_dir(upper / "file2dir");
    write_file(upper / "file2dir/in", "i");
    fs::create_directories(upper / "moddir");
    ::chmod((upper / "moddir").c_str(), 0750);
    fs::create_symlink("../escape/target", upper / "sym");
    ::mkfifo((upper / "pipe").c_str(), 0640);
    fs::create_directories(upper / "link2dir");
    write_file(upper / "link2dir/inside", "i");
    std::string weird = "bad\xff\xfe name\nwith newline";
    write_file(upper / weird, "bytes");
    const timespec times[2] = {{5000, 7}, {5000, 7}};
    ::utimensat(AT_FDCWD, (upper / "mod").c_str(), times, 0);
    ::utimensat(AT_FDCWD, (upper / "sym").c_str(), times, AT_SYMLINK_NOFOLLOW);
    ::utimensat(AT_FDCWD, (upper / "added/deep").c_str(), times, 0);

    auto planned = diff_layer(upper, target);
    auto applied = apply_layer(upper, target, TargetKind::Workspace, journal, since);
    EXPECT_EQ(applied, planned);

    auto got = listing(target);
    std::map<std::string, std::string> expected = {
        {"added", "755 dir"},
        {"added/deep", "755 dir"},
        {"added/deep/file", "755 file n"},
        {weird, "644 file bytes"},
        {"dir2file", "644 file now a file"},
        {"file2dir", "755 dir"},
        {"file2dir/in", "644 file i"},
        {"keep", "644 file k"},
        {"link2dir", "755 dir"},
        {"link2dir/inside", "644 file i"},
        {"mod", "600 file new"},
        {"moddir", "750 dir"},
        {"pipe", "640 fifo"},
        {"redo", "755 dir"},
        {"redo/deep", "755 dir"},
        {"redo/new", "644 file r"},
        {"sym", "777 -> ../escape/target"},
    };
    // Directory modes come from the layer (the umask shaped them): read them back from there.
    for (auto& [path, line] : expected) {
        struct stat st {};
        if (::lstat((upper / path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            std::ostringstream mode;
            mode << std::oct << (st.st_mode & 07777);
            line = mode.str() + " dir";
        }
    }
    EXPECT_EQ(got, expected);
    struct stat st {};
    ASSERT_EQ(::lstat((target / "mod").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 5000);
    EXPECT_EQ(st.st_mtim.tv_nsec, 7);
    ASSERT_EQ(::lstat((target / "sym").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 5000);
    ASSERT_EQ(::lstat((target / "added/deep").c_str(), &st), 0);
    EXPECT_EQ(st.st_mtim.tv_sec, 5000);
    EXPECT_FALSE(fs::exists(journal));  // journal, staging and the directory made for them
}

TEST(BranchfsLayerApply, ConflictRefusesAndAppliesNothing) {
    ConflictSetup s;
    auto journal = s.dir / "journal";
    write_file(s.upper / "src/a.c", "branch");
    mark_origin(s.upper / "src/a.c");
    write_file(s.upper / "src/fresh.c", "branch");
    make_whiteout(s.upper / "old");
    write_file(s.target / "src/a.c", "host");
    auto before = listing(s.target, true);
    try {
        apply_layer(s.upper, s.target, TargetKind::Workspace, journal, s.since);
        FAIL() << "no conflict reported";
    } catch (const ConflictError& e) {
        EXPECT_EQ(e.paths(), std::vector<std::string>{"src/a.c"});
        EXPECT_NE(std::string(e.what()).find("src/a.c"), std::string::npos) << e.what();
    }
    EXPECT_EQ(listing(s.target, true), before);
}

TEST(BranchfsLayerApply, RefusesSocketsAndDevicesNamingThePath) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    fs::create_directories(target);
    write_file(upper / "fine", "f");
    fs::create_directories(upper / "run");
    int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", (upper / "run/sock").c_str());
    ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(sock);
    try {
        apply_layer(upper, target, TargetKind::Workspace, dir / "journal", {});
        FAIL() << "a socket was applied";
    } catch (const LayerError& e) {
        EXPECT_NE(std::string(e.what()).find("run/sock"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::is_empty(target));
    fs::remove(upper / "run/sock");
    // A real device node needs CAP_MKNOD; as an unprivileged user only the socket case exists.
    if (::mknod((upper / "run/null").c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0) {
        EXPECT_THROW(apply_layer(upper, target, TargetKind::Workspace, dir / "journal", {}), LayerError);
        EXPECT_TRUE(fs::is_empty(target));
    }
}

TEST(BranchfsLayerApply, RefusesOverlayFeaturesItCannotApply) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    fs::create_directories(target);
    write_file(upper / "meta", "");
    set_marker(upper / "meta", "user.overlay.metacopy", "");
    EXPECT_THROW(apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts), LayerError);
    fs::remove(upper / "meta");
    fs::create_directories(upper / "moved");
    set_marker(upper / "moved", "user.overlay.redirect", "/old");
    EXPECT_THROW(diff_layer(upper, target), LayerError);
    EXPECT_TRUE(fs::is_empty(target));
}

TEST(BranchfsLayerApply, HardLinksBecomeSeparateFilesAndReadOnlyDirsKeepTheirMode) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    fs::create_directories(target / "ro");
    ::chmod((target / "ro").c_str(), 0555);
    write_file(upper / "h1", "same");
    fs::create_hard_link(upper / "h1", upper / "h2");
    write_file(upper / "ro/added", "a");
    ::chmod((upper / "ro").c_str(), 0555);  // the branch opened it, wrote, closed it again
    apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
    struct stat one {
    }, two{}, ro{};
    ASSERT_EQ(::lstat((target / "h1").c_str(), &one), 0);
    ASSERT_EQ(::lstat((target / "h2").c_str(), &two), 0);
    EXPECT_NE(one.st_ino, two.st_ino);
    EXPECT_EQ(read_file(target / "h2"), "same");
    EXPECT_EQ(read_file(target / "ro/added"), "a");
    ASSERT_EQ(::lstat((target / "ro").c_str(), &ro), 0);
    EXPECT_EQ(ro.st_mode & 07777, 0555u);
}

TEST(BranchfsLayerApply, NeverWritesThroughSymlinks) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper", outside = dir / "outside";
    fs::create_directories(outside);
    write_file(outside / "victim", "untouched");
    fs::create_directories(target);
    // The target holds links where the branch has directories and files.
    fs::create_directory_symlink(outside, target / "link");
    fs::create_directory_symlink(outside, target / "deep");
    fs::create_symlink(outside / "victim", target / "victim");
    fs::create_directories(target / "real");
    write_file(target / "real/inner", "i");
    auto since = branch_created_now();
    write_file(upper / "link/x", "x");
    write_file(upper / "deep/sub/y", "y");
    write_file(upper / "victim", "replaced");
    // And the branch holds a link to outside where the target has a directory.
    fs::create_directory_symlink(outside, upper / "real");
    apply_layer(upper, target, TargetKind::Workspace, dir / "journal", since);

    EXPECT_EQ(listing(outside), (std::map<std::string, std::string>{{"victim", "644 file untouched"}}));
    EXPECT_TRUE(fs::is_directory(fs::symlink_status(target / "link")));
    EXPECT_EQ(read_file(target / "link/x"), "x");
    EXPECT_EQ(read_file(target / "deep/sub/y"), "y");
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(target / "victim")));
    EXPECT_EQ(read_file(target / "victim"), "replaced");
    EXPECT_TRUE(fs::is_symlink(fs::symlink_status(target / "real")));
    EXPECT_EQ(fs::read_symlink(target / "real"), outside);
}

TEST(BranchfsLayerApply, OntoParentLayerKeepsOverlayMarkers) {
    ScratchDir dir;
    auto parent = dir / "parent", upper = dir / "upper";
    write_file(parent / "parent-file", "p");
    write_file(parent / "copied", "parent's copy");
    set_marker(parent / "copied", "user.overlay.origin", "parent-origin");
    fs::create_directories(parent / "dir/own");
    write_file(parent / "dir/own/f", "f");
    make_whiteout(parent / "was-deleted");
    auto since = branch_created_now();

    make_whiteout(upper / "parent-file");
    make_whiteout(upper / "workspace-file");
    write_file(upper / "copied", "child's edit");
    set_marker(upper / "copied", "user.overlay.origin", "child-origin");
    write_file(upper / "from-workspace", "edit");
    set_marker(upper / "from-workspace", "user.overlay.origin", "ws-origin");
    make_opaque_dir(upper / "dir");
    write_file(upper / "dir/only", "o");
    fs::create_directories(upper / "was-deleted");  // a directory made where the parent deleted
    write_file(upper / "was-deleted/n", "n");

    apply_layer(upper, parent, TargetKind::Layer, dir / "journal", since);
    auto got = listing(parent);
    EXPECT_EQ(got["parent-file"], "0 chr 0/0");
    EXPECT_EQ(got["workspace-file"], "0 chr 0/0");
    EXPECT_EQ(got["copied"], "644 file child's edit");
    EXPECT_EQ(got.count("dir/own"), 0u);
    EXPECT_EQ(got["dir/only"], "644 file o");
    EXPECT_EQ(xattr_of(parent / "dir", "user.overlay.opaque"), "y");
    EXPECT_EQ(xattr_of(parent / "was-deleted", "user.overlay.opaque"), "y");
    EXPECT_EQ(xattr_of(parent / "copied", "user.overlay.origin"), "parent-origin");
    EXPECT_EQ(xattr_of(parent / "from-workspace", "user.overlay.origin"), "ws-origin");
}

// ---- journal and recovery ---------------------------------------------------------------

TEST(BranchfsLayerJournal, RoundTripsArbitraryNames) {
    Journal journal;
    journal.target = "/work/space";
    journal.kind = TargetKind::Layer;
    journal.steps.push_back(
        {.op = Step::Op::MakeDir, .path = "d\xff\n\"q\"", .opaque = true, .origin = std::string("\0\x01\xfe", 3)});
    journal.steps.push_back({.op = Step::Op::Prune, .path = "d", .keep = {"a", "\xc3("}});
    journal.steps.push_back({.op = Step::Op::Place, .path = "d/a", .staged = 42});
    journal.steps.push_back({.op = Step::Op::Remove, .path = "gone"});
    journal.steps.push_back(
        {.op = Step::Op::DirAttrs, .path = "d", .mode = 0750, .mtime = {123, 456}, .uid = 7, .gid = 8});
    Journal back = parse_journal(serialize_journal(journal));
    ASSERT_EQ(back.steps.size(), 5u);
    EXPECT_EQ(back.target, journal.target);
    EXPECT_EQ(back.kind, TargetKind::Layer);
    EXPECT_EQ(back.steps[0].path, journal.steps[0].path);
    EXPECT_EQ(back.steps[0].origin, journal.steps[0].origin);
    EXPECT_TRUE(back.steps[0].opaque);
    EXPECT_EQ(back.steps[1].keep, journal.steps[1].keep);
    EXPECT_EQ(back.steps[2].staged, 42u);
    EXPECT_EQ(back.steps[3].op, Step::Op::Remove);
    EXPECT_EQ(back.steps[4].mode, 0750u);
    EXPECT_EQ(back.steps[4].mtime.tv_nsec, 456);
    EXPECT_EQ(back.steps[4].uid, 7u);
    EXPECT_THROW(parse_journal("{\"version\":1"), LayerError);
}

TEST(BranchfsLayerRecover, RemovesStagingWithoutJournalAndIsIdempotent) {
    ScratchDir dir;
    fs::create_directories(dir / "target");
    EXPECT_FALSE(recover(dir / "absent", dir / "target"));
    write_file(dir / "journal/staging/0", "half");
    write_file(dir / "journal/journal.json.tmp", "{\"ver");
    EXPECT_TRUE(recover(dir / "journal", dir / "target"));
    EXPECT_FALSE(fs::exists(dir / "journal"));  // made for that apply: gone with it
    EXPECT_FALSE(recover(dir / "journal", dir / "target"));
}

TEST(BranchfsLayerRecover, FinishesACommittedJournal) {
    ScratchDir dir;
    auto target = dir / "target", journal = dir / "journal";
    write_file(target / "a", "old a");
    write_file(target / "b", "old b");
    write_file(target / "d/x", "x");
    // A journal whose first steps already ran: staged/0 is in place, staged/1 not yet.
    write_file(journal / "staging/1", "new b");
    write_file(target / "a", "new a");
    Journal j;
    j.target = target.string();
    j.steps.push_back({.op = Step::Op::Place, .path = "a", .staged = 0});
    j.steps.push_back({.op = Step::Op::Place, .path = "b", .staged = 1});
    j.steps.push_back({.op = Step::Op::Remove, .path = "d"});
    UniqueFd jfd(::open(journal.c_str(), O_RDONLY | O_DIRECTORY));
    commit_journal(jfd.get(), j);
    EXPECT_TRUE(recover(journal, target.string() + "/"));  // the same target, spelled differently
    EXPECT_EQ(listing(target), (std::map<std::string, std::string>{{"a", "644 file new a"}, {"b", "644 file new b"}}));
    EXPECT_FALSE(fs::exists(journal));
    EXPECT_FALSE(recover(journal, target));
}

// ---- crash safety -----------------------------------------------------------------------

constexpr int kCrashFiles = 2000;

// Many small files quickly (the crash test rebuilds its target for every kill).
void write_many(const fs::path& root, int count, int dirs, const std::string& prefix, bool origin) {
    for (int d = 0; d < dirs; ++d) fs::create_directories(root / ("d" + std::to_string(d)));
    for (int i = 0; i < count; ++i) {
        auto path = root / ("d" + std::to_string(i % dirs)) / std::to_string(i);
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ASSERT_GE(fd, 0) << path;
        std::string content = prefix + std::to_string(i);
        ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
        if (origin) {
            ASSERT_EQ(::fsetxattr(fd, "user.overlay.origin", "", 0, 0), 0);
        }
        ::close(fd);
    }
}

void make_crash_target(const fs::path& target) {
    write_many(target, kCrashFiles, 20, "old ", false);
    for (int i = 0; i < 50; ++i) write_file(target / "doomed" / std::to_string(i), "d");
    write_file(target / "replaced/stale", "s");
}

void make_crash_layer(const fs::path& upper) {
    write_many(upper, kCrashFiles, 20, "new ", true);
    for (int i = 0; i < 100; ++i) write_file(upper / "added" / std::to_string(i), "a");
    make_whiteout(upper / "doomed");
    make_opaque_dir(upper / "replaced");
    write_file(upper / "replaced/fresh", "f");
}

// Forks a child that applies the layer; returns its pid.
pid_t start_apply(const fs::path& upper, const fs::path& target, const fs::path& journal) {
    pid_t pid = ::fork();
    if (pid == 0) {
        try {
            apply_layer(upper, target, TargetKind::Workspace, journal, kNoConflicts);
            ::_exit(0);
        } catch (...) {
            ::_exit(1);
        }
    }
    return pid;
}

bool wait_for_file(const fs::path& path, Clock::duration limit) {
    auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (::access(path.c_str(), F_OK) == 0) return true;
        std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return false;
}

TEST(BranchfsLayerCrash, KilledAnywhereTheTargetIsOldOrNewNeverMixed) {
    ScratchDir dir(bulk_base());
    auto upper = dir / "upper", target = dir / "target", journal = dir / "journal";
    make_crash_layer(upper);
    make_crash_target(target);
    const auto old_listing = listing(target);

    // One uninterrupted apply: the new state, how long it takes and when its journal lands.
    auto start = Clock::now();
    pid_t pid = start_apply(upper, target, journal);
    ASSERT_TRUE(wait_for_file(journal / "journal.json", std::chrono::seconds(20)));
    auto committed = Clock::now() - start;
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto total = Clock::now() - start;
    const auto new_listing = listing(target);
    ASSERT_NE(old_listing, new_listing);

    std::mt19937 random(7);
    int old_count = 0, new_count = 0, killed_in_replay = 0;
    constexpr int kTries = 30;
    for (int i = 0; i < kTries; ++i) {
        remove_tree_at(UniqueFd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY)).get(), "target");
        make_crash_target(target);
        pid = start_apply(upper, target, journal);
        if (i % 2 == 0) {
            // Anywhere in the apply.
            std::this_thread::sleep_for(total * std::uniform_real_distribution<>(0, 1.1)(random));
        } else {
            // In the replay: after the commit point.
            wait_for_file(journal / "journal.json", std::chrono::seconds(20));
            std::this_thread::sleep_for((total - committed) * std::uniform_real_distribution<>(0, 0.8)(random));
        }
        ::kill(pid, SIGKILL);
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        if (fs::exists(journal / "journal.json")) ++killed_in_replay;
        recover(journal, target);
        auto now = listing(target);
        ASSERT_TRUE(now == old_listing || now == new_listing) << "try " << i << ": the target is half-applied";
        (now == old_listing ? old_count : new_count)++;
        EXPECT_FALSE(fs::exists(journal));
    }
    std::printf(
        "[crash] %d kills: %d left the old tree, %d the new one (%d during replay, finished by recover);"
        " apply %.0f ms, commit point at %.0f ms\n",
        kTries, old_count, new_count, killed_in_replay, std::chrono::duration<double, std::milli>(total).count(),
        std::chrono::duration<double, std::milli>(committed).count());
    EXPECT_GT(killed_in_replay, 0) << "no kill reached the replay";
    EXPECT_GT(old_count, 0) << "no kill landed before the commit point";
}

// ---- hardening (an attacker review) -----------------------------------------------------

TEST(BranchfsLayerRecover, RefusesAJournalRecordedForAnotherTarget) {
    ScratchDir dir;
    auto target = dir / "target", victim = dir / "victim", journal = dir / "journal";
    write_file(target / "a", "target's a");
    write_file(victim / "a", "victim's a");
    write_file(journal / "staging/0", "planted");
    Journal j;
    j.target = victim.string();  // the journal names another directory than the caller's target
    j.steps.push_back({.op = Step::Op::Place, .path = "a", .staged = 0});
    UniqueFd jfd(::open(journal.c_str(), O_RDONLY | O_DIRECTORY));
    commit_journal(jfd.get(), j);
    try {
        recover(journal, target);
        FAIL() << "a journal for another target was replayed";
    } catch (const LayerError& e) {
        EXPECT_NE(std::string(e.what()).find(victim.string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(read_file(victim / "a"), "victim's a");
    EXPECT_EQ(read_file(target / "a"), "target's a");
    EXPECT_TRUE(fs::exists(journal / "journal.json"));  // nothing done
    EXPECT_TRUE(fs::exists(journal / "staging/0"));
    // apply_layer recovers with its own target too: refused before anything is applied.
    auto upper = dir / "upper";
    write_file(upper / "b", "b");
    EXPECT_THROW(apply_layer(upper, target, TargetKind::Workspace, journal, kNoConflicts), LayerError);
    EXPECT_EQ(read_file(victim / "a"), "victim's a");
    EXPECT_FALSE(fs::exists(target / "b"));
}

TEST(BranchfsLayerApply, RefusesALayerNamingTheEnginesOwnFiles) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    write_file(target / "kept", "k");
    write_file(upper / "fine", "f");
    write_file(upper / ".sandlock-commit-0123456789ab-01234567/journal.json", "{}");
    try {
        apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
        FAIL() << "a layer holding .sandlock-commit-* was applied";
    } catch (const LayerError& e) {
        EXPECT_NE(std::string(e.what()).find(".sandlock-commit-0123456789ab-01234567"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(listing(target), (std::map<std::string, std::string>{{"kept", "644 file k"}}));
    EXPECT_FALSE(fs::exists(dir / "journal"));
    // A whiteout of such a name is refused just the same; below the root the name is anyone's.
    fs::remove_all(upper / ".sandlock-commit-0123456789ab-01234567");
    make_whiteout(upper / ".sandlock-commit-ffffffffffff-ffffffff");
    EXPECT_THROW(diff_layer(upper, target), LayerError);
    fs::remove(upper / ".sandlock-commit-ffffffffffff-ffffffff");
    write_file(upper / "sub/.sandlock-commit-x", "x");
    apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
    EXPECT_EQ(read_file(target / "sub/.sandlock-commit-x"), "x");
}

TEST(BranchfsLayerApply, JournalAtTheTargetRootIsIgnoredAndRemoved) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    write_file(target / "a", "old");
    auto since = branch_created_now();
    // Another branch's commit in flight at the root, written after this branch was made.
    write_file(target / ".sandlock-commit-ffffffffffff-ffffffff/staging/0", "theirs");
    write_file(upper / "a", "new");
    mark_origin(upper / "a");
    write_file(upper / "b", "b");
    auto journal = target / ".sandlock-commit-0123456789ab-01234567";
    EXPECT_TRUE(find_conflicts(upper, target, TargetKind::Workspace, since).empty());
    auto applied = apply_layer(upper, target, TargetKind::Workspace, journal, since);
    EXPECT_EQ(applied, changes({{'M', "a"}, {'A', "b"}})) << show(applied);
    EXPECT_FALSE(fs::exists(journal)) << "the journal directory stays in the workspace";
    EXPECT_EQ(read_file(target / ".sandlock-commit-ffffffffffff-ffffffff/staging/0"), "theirs");
    EXPECT_EQ(read_file(target / "a"), "new");
}

TEST(BranchfsLayerApply, RefusesATargetOrLayerBehindASymlink) {
    ScratchDir dir;
    auto real = dir / "real", upper = dir / "upper";
    write_file(real / "target/kept", "k");
    write_file(upper / "new", "n");
    fs::create_directory_symlink(real, dir / "link");  // a parent component swapped for a link
    auto journal = dir / "journal";
    try {
        apply_layer(upper, dir / "link/target", TargetKind::Workspace, journal, kNoConflicts);
        FAIL() << "a target behind a symlink was written";
    } catch (const LayerError& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "link/target").string()), std::string::npos) << e.what();
    }
    EXPECT_EQ(listing(real / "target"), (std::map<std::string, std::string>{{"kept", "644 file k"}}));
    EXPECT_FALSE(fs::exists(journal));
    fs::create_directory_symlink(upper, dir / "upper-link");
    EXPECT_THROW(apply_layer(dir / "upper-link", real / "target", TargetKind::Workspace, journal, kNoConflicts),
                 LayerError);
    EXPECT_THROW(diff_layer(upper, dir / "link/target"), LayerError);
    EXPECT_THROW(find_conflicts(upper, dir / "link/target", TargetKind::Workspace, kNoConflicts), LayerError);
    EXPECT_FALSE(fs::exists(real / "target/new"));
    // A layer held by fd (the quota tmpfs): /proc/self/fd/N is a magic link, the fd form is not.
    UniqueFd upper_fd(::open(upper.c_str(), O_RDONLY | O_DIRECTORY));
    EXPECT_THROW(apply_layer("/proc/self/fd/" + std::to_string(upper_fd.get()), real / "target",
                             TargetKind::Workspace, journal, kNoConflicts),
                 LayerError);
    apply_layer(upper_fd.get(), real / "target", TargetKind::Workspace, journal, kNoConflicts);
    EXPECT_EQ(read_file(real / "target/new"), "n");
}

TEST(BranchfsLayerApply, SparseFilesKeepTheirHoles) {
    ScratchDir dir;
    auto target = dir / "target", upper = dir / "upper";
    fs::create_directories(target);
    fs::create_directories(upper);
    constexpr off_t kSize = off_t{1} << 30;
    const std::string data(4096, 'x');
    {
        UniqueFd fd(::open((upper / "sparse").c_str(), O_WRONLY | O_CREAT, 0644));
        ASSERT_TRUE(fd);
        ASSERT_EQ(::ftruncate(fd.get(), kSize), 0);
        ASSERT_EQ(::pwrite(fd.get(), data.data(), data.size(), kSize / 2), static_cast<ssize_t>(data.size()));
    }
    auto start = Clock::now();
    apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    struct stat st {};
    ASSERT_EQ(::stat((target / "sparse").c_str(), &st), 0);
    EXPECT_EQ(st.st_size, kSize);
    EXPECT_LT(st.st_blocks * 512, 1 << 20) << "the holes were filled in";
    EXPECT_LT(seconds, 2.0);
    UniqueFd fd(::open((target / "sparse").c_str(), O_RDONLY));
    std::string back(data.size(), '\0'), zeros(4096, '\0'), expect_zeros(4096, '\0');
    ASSERT_EQ(::pread(fd.get(), back.data(), back.size(), kSize / 2), static_cast<ssize_t>(back.size()));
    EXPECT_EQ(back, data);
    ASSERT_EQ(::pread(fd.get(), zeros.data(), zeros.size(), kSize - 4096), 4096);
    EXPECT_EQ(zeros, expect_zeros);
}

// A chain of `levels` directories named "d" below `root`, made from a dirfd (relative), with a
// file at the bottom.
void make_chain(const fs::path& root, int levels, const std::string& bottom = "") {
    fs::create_directories(root);
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < levels; ++i) {
        ASSERT_EQ(::mkdirat(fd, "d", 0755), 0) << "level " << i << ": " << std::strerror(errno);
        int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
        ASSERT_GE(next, 0);
        ::close(fd);
        fd = next;
    }
    if (!bottom.empty()) {
        int file = ::openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
        ASSERT_GE(file, 0);
        ASSERT_EQ(::write(file, bottom.data(), bottom.size()), static_cast<ssize_t>(bottom.size()));
        ::close(file);
    }
    ::close(fd);
}

// How many "d" levels below `root`, and the content of the file at the bottom.
std::pair<int, std::string> measure_chain(const fs::path& root) {
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY);
    int levels = 0;
    while (true) {
        int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (next < 0) break;
        ::close(fd);
        fd = next;
        ++levels;
    }
    std::string content;
    int file = ::openat(fd, "bottom", O_RDONLY);
    if (file >= 0) {
        char buffer[64];
        ssize_t n = ::read(file, buffer, sizeof buffer);
        if (n > 0) content.assign(buffer, static_cast<size_t>(n));
        ::close(file);
    }
    ::close(fd);
    return {levels, content};
}

// Runs `work` in a child with at most `fds` open files (the walks must hold a bounded number
// whatever the depth) and returns its exit status (0: done, 1: LayerError, 2: other).
template <typename Work>
int in_child_with_fds(rlim_t fds, Work work) {
    pid_t pid = ::fork();
    if (pid == 0) {
        rlimit limit{fds, fds};
        ::setrlimit(RLIMIT_NOFILE, &limit);
        try {
            work();
            ::_exit(0);
        } catch (const LayerError& e) {
            std::fprintf(stderr, "child: %s\n", std::string(e.what()).substr(0, 300).c_str());
            ::_exit(1);
        } catch (...) {
            ::_exit(2);
        }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

TEST(BranchfsLayerDepth, RefusesALayerDeeperThan1024LevelsCleanly) {
    ScratchDir dir(bulk_base());
    auto target = dir / "target", upper = dir / "upper";
    write_file(target / "kept", "k");
    write_file(upper / "a", "a");
    make_chain(upper, 30000, "deep");
    for (auto run : {0, 1, 2}) {
        try {
            if (run == 0) apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
            if (run == 1) diff_layer(upper, target);
            if (run == 2) find_conflicts(upper, target, TargetKind::Workspace, kNoConflicts);
            FAIL() << "a 30,000-level layer was read (" << run << ")";
        } catch (const LayerError& e) {
            EXPECT_NE(std::string(e.what()).find("1024"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(listing(target), (std::map<std::string, std::string>{{"kept", "644 file k"}}));
    EXPECT_FALSE(fs::exists(dir / "journal"));
    // One level past the limit is refused as well.
    remove_tree(upper / "d");
    make_chain(upper, 1025);
    EXPECT_THROW(apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts), LayerError);
    EXPECT_FALSE(fs::exists(target / "a"));
}

TEST(BranchfsLayerDepth, A1024LevelLayerAppliesWithFewFds) {
    ScratchDir dir(bulk_base());
    auto target = dir / "target", upper = dir / "upper", journal = dir / "journal";
    fs::create_directories(target);
    make_chain(upper, 1024, "bottom of the layer");
    auto since = branch_created_now();
    int status = in_child_with_fds(64, [&] {
        if (diff_layer(upper, target).size() != 1025) throw std::runtime_error("diff");
        if (!find_conflicts(upper, target, TargetKind::Workspace, since).empty()) throw std::runtime_error("conflict");
        apply_layer(upper, target, TargetKind::Workspace, journal, since);
    });
    ASSERT_EQ(status, 0);
    EXPECT_EQ(measure_chain(target), (std::pair<int, std::string>{1024, "bottom of the layer"}));
    EXPECT_FALSE(fs::exists(journal));
}

TEST(BranchfsLayerDepth, DeletingADeepTargetTreeWithFewFds) {
    ScratchDir dir(bulk_base());
    auto target = dir / "target", upper = dir / "upper";
    make_chain(target / "deep", 3000, "host's");
    write_file(target / "kept", "k");
    auto since = branch_created_now();
    make_whiteout(upper / "deep");
    std::vector<Change> listed;
    int status = in_child_with_fds(64, [&] {
        auto changes = diff_layer(upper, target);
        if (changes.size() != 3002) throw std::runtime_error("diff: " + std::to_string(changes.size()));
        if (!find_conflicts(upper, target, TargetKind::Workspace, since).empty()) throw std::runtime_error("conflict");
        apply_layer(upper, target, TargetKind::Workspace, dir / "journal", since);
    });
    ASSERT_EQ(status, 0);
    EXPECT_EQ(listing(target), (std::map<std::string, std::string>{{"kept", "644 file k"}}));
}

TEST(BranchfsLayerDepth, RemoveTreeAtAnyDepthAndModeZero) {
    ScratchDir dir(bulk_base());
    auto doomed = dir / "branch";
    make_chain(doomed / "upper", 30000, "deep");
    write_file(doomed / "upper/d/d/file", "f");
    write_file(dir / "outside/victim", "v");
    fs::create_directory_symlink(dir / "outside", doomed / "upper/d/link");
    write_file(doomed / "work/work/inner/f", "x");  // overlayfs leaves work/work at mode 000
    ::chmod((doomed / "work/work/inner").c_str(), 0);
    ::chmod((doomed / "work/work").c_str(), 0);
    fs::create_directories(doomed / "ro/sub/subsub");
    ::chmod((doomed / "ro/sub").c_str(), 0555);
    ::chmod((doomed / "ro").c_str(), 0500);
    int status = in_child_with_fds(32, [&] { remove_tree(doomed); });
    EXPECT_EQ(status, 0);
    EXPECT_FALSE(fs::exists(fs::symlink_status(doomed)));
    EXPECT_EQ(read_file(dir / "outside/victim"), "v");
    EXPECT_NO_THROW(remove_tree(doomed));  // absent is fine
}

TEST(BranchfsLayerApply, ConflictsAreCheckedAgainRightBeforeTheCommitPoint) {
    ScratchDir dir(bulk_base());
    auto target = dir / "target", upper = dir / "upper", journal = dir / "journal";
    write_file(target / "host-edits", "old");
    write_many(target, 3000, 10, "old ", false);
    auto since = branch_created_now();
    write_many(upper, 3000, 10, "new ", true);
    write_file(upper / "host-edits", "branch");
    mark_origin(upper / "host-edits");
    // The host writes while the branch is being staged (after the first check).
    std::thread host([&] {
        if (wait_for_file(journal / "staging/0", std::chrono::seconds(20))) write_file(target / "host-edits", "host");
    });
    try {
        apply_layer(upper, target, TargetKind::Workspace, journal, since);
        host.join();
        FAIL() << "the host's write during staging was overwritten";
    } catch (const ConflictError& e) {
        host.join();
        EXPECT_EQ(e.paths(), std::vector<std::string>{"host-edits"});
    }
    EXPECT_EQ(read_file(target / "host-edits"), "host");
    EXPECT_EQ(read_file(target / "d0/0"), "old 0");
    EXPECT_FALSE(fs::exists(journal));  // staging discarded
}

// ---- a real overlay ---------------------------------------------------------------------

// Does the same work through an overlay mount (in a user + mount namespace, as the plugin
// will) and directly on a copy; applying the upper layer must give the direct result.
TEST(BranchfsLayerOverlay, RealOverlayUpperAppliesToTheSameTree) {
    SANDLOCK_SKIP_UNLESS_AVAILABLE("branch overlay");
    ScratchDir dir;
    auto lower = dir / "lower", upper = dir / "upper", work = dir / "work", merged = dir / "merged";
    auto direct = dir / "direct", target = dir / "target";
    for (const auto& root : {lower, direct, target}) {
        write_file(root / "mod", "m");
        write_file(root / "del", "d");
        write_file(root / "ren", "r");
        write_file(root / "tree/a", "a");
        write_file(root / "tree/sub/b", "b");
        write_file(root / "redo/old", "o");
        fs::create_directories(root / "chm");
        ::chmod((root / "chm").c_str(), 0755);
    }
    fs::create_directories(upper);
    fs::create_directories(work);
    fs::create_directories(merged);
    auto work_on = [](const fs::path& root) {
        std::ofstream(root / "mod", std::ios::app) << "+";
        write_file(root / "new", "n");
        fs::remove(root / "del");
        fs::rename(root / "ren", root / "ren2");
        fs::remove_all(root / "tree");
        fs::remove_all(root / "redo");
        fs::create_directories(root / "redo");
        write_file(root / "redo/fresh", "f");
        fs::create_symlink("/etc/passwd", root / "link");
        ::chmod((root / "chm").c_str(), 0700);
    };
    work_on(direct);

    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        char code = 'u';
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
            std::ofstream("/proc/self/setgroups") << "deny";
            std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
            std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
            std::string options = "lowerdir=" + lower.string() + ",upperdir=" + upper.string() +
                                  ",workdir=" + work.string() + ",userxattr";
            code = 'm';
            if (::mount("overlay", merged.c_str(), "overlay", 0, options.c_str()) == 0) {
                try {
                    work_on(merged);
                    code = 'k';
                } catch (...) {
                    code = 'w';
                }
            }
        }
        (void)!::write(ready[1], &code, 1);
        ::_exit(0);
    }
    ::close(ready[1]);
    char code = 0;
    (void)!::read(ready[0], &code, 1);
    ::close(ready[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_EQ(code, 'k') << "overlay mount or work in it failed (" << code << ")";

    auto got = diff_layer(upper, lower);
    EXPECT_EQ(got, changes({{'M', "chm"},
                            {'D', "del"},
                            {'A', "link"},
                            {'M', "mod"},
                            {'A', "new"},
                            {'A', "redo/fresh"},
                            {'D', "redo/old"},
                            {'D', "ren"},
                            {'A', "ren2"},
                            {'D', "tree"},
                            {'D', "tree/a"},
                            {'D', "tree/sub"},
                            {'D', "tree/sub/b"}}))
        << show(got);
    apply_layer(upper, target, TargetKind::Workspace, dir / "journal", kNoConflicts);
    EXPECT_EQ(listing(target), listing(direct));
}

// ---- performance ------------------------------------------------------------------------

TEST(BranchfsLayerPerf, Apply5000ChangedSmallFiles) {
    ScratchDir dir(bulk_base());
    auto upper = dir / "upper", target = dir / "target";
    constexpr int kFiles = 5000;
    write_many(target, kFiles, 50, "old ", false);
    write_many(upper, kFiles, 50, std::string(500, 'x'), true);
    auto since = branch_created_now();
    auto start = Clock::now();
    auto applied = apply_layer(upper, target, TargetKind::Workspace, dir / "journal", since);
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(applied.size(), static_cast<size_t>(kFiles));
    std::printf("[perf] applied %d changed files of ~500 bytes in %.3f s: %.0f files/s (in %s)\n", kFiles, seconds,
                kFiles / seconds, dir.path().parent_path().c_str());
}

}  // namespace
}  // namespace sandlock::branchfs
