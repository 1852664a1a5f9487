// Checkpoint (sandlock/checkpoint.hpp): a handle on a checkpoint in the user's store; the
// store, the manifests and the data are the checkpoint plugin's (plugin commands).
#include <sandlock/checkpoint.hpp>

#include "checkpoint_commands.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/plugins.hpp>
#include <sandlock/sdk/hex.hpp>
#include <sandlock/sdk/policy_schema.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <utility>

namespace sandlock {
namespace json = boost::json;

std::string checkpoint_command(json::object request, const CheckpointOptions& options) {
    if (!options.store.empty()) request["store"] = options.store;
    try {
        return run_plugin_command("checkpoint", json::serialize(request), options.plugin_path);
    } catch (const PluginError& e) {
        throw CheckpointError(e.what());
    }
}


Checkpoint Checkpoint::from_answer(const std::string& answer, const CheckpointOptions& options, bool staged) {
    Checkpoint cp;
    try {
        const json::object o = json::parse(answer).as_object();
        cp.directory_ = std::string(o.at("directory").as_string());
        cp.name_ = std::string(o.at("name").as_string());
        cp.staged_ = staged;
        cp.options_ = options;
        if (const json::value* policy = o.if_contains("policy")) cp.policy_ = policy_from_json(json::serialize(*policy));
        if (const json::value* branch = o.if_contains("branch"); branch != nullptr && branch->is_string()) {
            // A sandbox built from this policy nests a branch of its own on the snapshot.
            cp.branch_ = std::string(branch->as_string());
            json::object branchfs;
            if (auto it = cp.policy_.plugin_options.find("branchfs"); it != cp.policy_.plugin_options.end() && !it->second.empty())
                branchfs = json::parse(it->second).as_object();
            branchfs.erase("branch");
            branchfs.erase("dry_run");
            branchfs["branch_from"] = *cp.branch_;
            cp.policy_.plugin_options["branchfs"] = json::serialize(branchfs);
        }
        if (const json::value* state = o.if_contains("app_state_hex")) cp.app_state_ = sdk::hex_decode(state->as_string()).value();
        const json::array* refusals = o.contains("restore_refusals") ? &o.at("restore_refusals").as_array() : nullptr;
        std::size_t i = 0;
        for (const json::value& p : o.at("processes").as_array()) {
            const json::object& process = p.as_object();
            CheckpointProcess entry;
            entry.pid = static_cast<pid_t>(process.at("pid").to_number<std::int64_t>());
            entry.exe = std::string(process.at("exe").as_string());
            for (const json::value& arg : process.at("argv").as_array()) entry.argv.emplace_back(arg.as_string());
            entry.threads = process.at("threads").to_number<std::size_t>();
            entry.memory_bytes = process.at("page_bytes").to_number<std::uint64_t>();
            if (refusals != nullptr && i < refusals->size()) entry.restore_refusal = std::string((*refusals)[i].as_string());
            cp.processes_.push_back(std::move(entry));
            ++i;
        }
        for (const json::value& why : o.at("unrestorable").as_array()) cp.unrestorable_.emplace_back(why.as_string());
    } catch (const std::exception& e) {
        if (staged && !cp.directory_.empty())
            checkpoint_command({{"command", "discard"}, {"directory", cp.directory_}}, options);
        throw CheckpointError(std::string("checkpoint: unexpected answer from the checkpoint plugin: ") + e.what());
    }
    return cp;
}

Checkpoint Checkpoint::load(const std::string& name, const CheckpointOptions& options) {
    return from_answer(checkpoint_command({{"command", "load"}, {"name", name}}, options), options, false);
}

std::vector<std::string> Checkpoint::list(const CheckpointOptions& options) {
    std::vector<std::string> names;
    const json::value all = json::parse(checkpoint_command({{"command", "list"}, {"json", true}}, options));
    for (const json::value& entry : all.as_array()) names.emplace_back(entry.as_object().at("name").as_string());
    return names;
}

void Checkpoint::remove(const std::string& name, const CheckpointOptions& options) {
    checkpoint_command({{"command", "delete"}, {"name", name}}, options);
}

Checkpoint::Checkpoint(Checkpoint&& other) noexcept { *this = std::move(other); }

Checkpoint& Checkpoint::operator=(Checkpoint&& other) noexcept {
    if (this == &other) return *this;
    directory_ = std::move(other.directory_);
    name_ = std::move(other.name_);
    staged_ = std::exchange(other.staged_, false);
    saved_ = other.saved_;
    options_ = std::move(other.options_);
    policy_ = std::move(other.policy_);
    app_state_ = std::move(other.app_state_);
    processes_ = std::move(other.processes_);
    unrestorable_ = std::move(other.unrestorable_);
    branch_ = std::move(other.branch_);
    return *this;
}

Checkpoint::~Checkpoint() {
    if (!staged_) return;
    try {
        checkpoint_command({{"command", "discard"}, {"directory", directory_}}, options_);
    } catch (...) {
        // Left in the store's hidden staging area; nothing names it.
    }
    if (!branch_ || saved_) return;
    try {
        // Its branch snapshot: nothing else names it either.
        json::object abort{{"command", "abort"}, {"id", *branch_}};
        if (policy_.fs_storage) abort["fs_storage"] = *policy_.fs_storage;
        run_plugin_command("branchfs", json::serialize(abort), options_.plugin_path);
    } catch (...) {
        // Left as a kept branch (sandlock branch list shows it).
    }
}

void Checkpoint::save(const std::string& name, const std::string& store) {
    json::object request{{"command", "save"}, {"name", name}};
    if (staged_)
        request["directory"] = directory_;
    else
        request["from"] = name_;
    const bool elsewhere = !store.empty() && store != options_.store;
    if (elsewhere) request["to_store"] = store;
    const json::object answer = json::parse(checkpoint_command(request, options_)).as_object();
    saved_ = true;
    // A copy in another store leaves this one where it is; else it now has its name.
    if (elsewhere) return;
    staged_ = false;
    directory_ = std::string(answer.at("directory").as_string());
    name_ = name;
}

}  // namespace sandlock
