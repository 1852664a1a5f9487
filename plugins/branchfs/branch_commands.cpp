#include "branch_commands.hpp"

#include "store/branch_ops.hpp"
#include "store/storage_dir.hpp"

#include <ctime>
#include <optional>

namespace sandlock::branchfs {
namespace json = boost::json;
namespace {

char change_letter(ChangeKind kind) {
    switch (kind) {
        case ChangeKind::Added: return 'A';
        case ChangeKind::Modified: return 'M';
        case ChangeKind::Deleted: return 'D';
    }
    return '?';
}

std::string text_of(const json::object& request, std::string_view key) {
    const auto* value = request.if_contains(key);
    return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::string created_text(const timespec& t) {
    char buffer[32];
    std::tm tm{};
    ::gmtime_r(&t.tv_sec, &tm);
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

json::object describe(const BranchStore& store, const BranchMeta& meta) {
    json::object o;
    o["id"] = meta.id;
    o["state"] = state_name(meta, store.in_use(meta.id));
    o["workspace"] = meta.workspace;
    o["parent"] = meta.parent ? json::value(*meta.parent) : json::value(nullptr);
    o["created"] = created_text(meta.created);
    o["snapshot"] = meta.frozen;
    o["path"] = store.dir(meta.id).string();
    return o;
}

// The branch, locked for an action that changes it.
BranchLock lock_for_change(const BranchStore& store, const BranchMeta& meta) {
    BranchLock lock = store.lock(meta.id, true);
    if (!lock) throw sdk::Error("branch " + meta.id + " is in use by a running sandlock; wait for it to end");
    return lock;
}

}  // namespace

std::string format_changes(const std::vector<Change>& changes, bool as_json, const std::string& id) {
    if (as_json) {
        json::array list;
        for (const Change& c : changes) list.push_back(json::object{{"change", std::string(1, change_letter(c.kind))}, {"path", c.path}});
        return json::serialize(json::object{{"branch", id}, {"changes", std::move(list)}}) + "\n";
    }
    std::string out;
    for (const Change& c : changes) out += std::string(1, change_letter(c.kind)) + " " + c.path + "\n";
    return out;
}

void run_branch_command(const json::object& request, sdk::Output& out) {
    const std::string command = text_of(request, "command");
    const std::string storage_text = text_of(request, "fs_storage");
    const bool as_json = request.if_contains("json") != nullptr && request.at("json").as_bool();
    const BranchStore store(open_storage(storage_path(storage_text.empty() ? std::nullopt : std::optional(storage_text))));
    recover_interrupted(store);

    if (command == "list") {
        json::array all;
        std::string text;
        for (const BranchMeta& meta : store.list()) {
            json::object o = describe(store, meta);
            if (!as_json)
                text += meta.id + "  " + std::string(o["state"].as_string()) + (meta.frozen ? " snapshot" : "") + "  " +
                        created_text(meta.created) + "  " + meta.workspace +
                        (meta.parent ? "  (on " + *meta.parent + ")" : "") + "\n";
            all.push_back(std::move(o));
        }
        out << (as_json ? json::serialize(all) + "\n" : text);
        return;
    }
    const std::string id = text_of(request, "id");
    const BranchMeta meta = store.load(id);
    if (command == "show") {
        const std::vector<Change> changes = branch_changes(store, meta);
        if (as_json) {
            json::object o = describe(store, meta);
            o["changes"] = json::parse(format_changes(changes, true, id)).as_object()["changes"];
            out << json::serialize(o) + "\n";
        } else {
            const json::object o = describe(store, meta);
            out << "branch    " + id + "\nstate     " + std::string(o.at("state").as_string()) +
                       (meta.frozen ? " (snapshot)" : "") + "\nworkspace " + meta.workspace +
                       (meta.parent ? "\nparent    " + *meta.parent : std::string()) + "\ncreated   " +
                       created_text(meta.created) + "\nchanges   " + std::to_string(changes.size()) + "\n" +
                       format_changes(changes, false, id);
        }
    } else if (command == "commit") {
        BranchLock lock = lock_for_change(store, meta);
        const std::vector<Change> applied = commit_branch(store, meta);
        out << "committed branch " + id + " into " + (meta.parent ? "branch " + *meta.parent : meta.workspace) + ": " +
                   std::to_string(applied.size()) + " changes\n";
    } else if (command == "abort") {
        BranchLock lock = lock_for_change(store, meta);
        abort_branch(store, meta);
        out << "aborted branch " + id + "\n";
    } else if (command == "snapshot") {
        BranchLock lock = lock_for_change(store, meta);
        out << snapshot_branch(store, meta) + "\n";
    } else {
        throw sdk::Error("branch: unknown command \"" + command + "\" (list, show, commit, abort, snapshot)");
    }
}

}  // namespace sandlock::branchfs
