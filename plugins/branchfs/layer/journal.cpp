#include "layer/journal.hpp"
#include "layer/safe_fs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>

namespace sandlock::branchfs {
namespace json = boost::json;

namespace {

constexpr std::int64_t kVersion = 1;

// Xattr values are binary (an encoded file handle): hex keeps the journal text.
std::string to_hex(const std::string& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string from_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw LayerError("branchfs: malformed journal (bad hex)");
    };
    if (hex.size() % 2) throw LayerError("branchfs: malformed journal (bad hex)");
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 2) out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
    return out;
}

constexpr std::pair<Step::Op, const char*> kOpNames[] = {
    {Step::Op::MakeDir, "mkdir"}, {Step::Op::Prune, "prune"},       {Step::Op::Place, "place"},
    {Step::Op::Remove, "remove"}, {Step::Op::DirAttrs, "dirattrs"},
};

json::object step_to_json(const Step& step) {
    json::object out;
    for (auto [op, name] : kOpNames)
        if (op == step.op) out["op"] = name;
    out["path"] = step.path;
    switch (step.op) {
        case Step::Op::MakeDir:
            if (step.opaque) out["opaque"] = true;
            if (step.origin) out["origin"] = to_hex(*step.origin);
            break;
        case Step::Op::Prune: {
            json::array keep;
            for (const auto& name : step.keep) keep.emplace_back(name);
            out["keep"] = std::move(keep);
            break;
        }
        case Step::Op::Place:
            out["staged"] = step.staged;
            break;
        case Step::Op::Remove:
            break;
        case Step::Op::DirAttrs:
            out["mode"] = step.mode;
            out["mtime"] = json::array{step.mtime.tv_sec, step.mtime.tv_nsec};
            if (step.uid) out["uid"] = *step.uid;
            if (step.gid) out["gid"] = *step.gid;
            break;
    }
    return out;
}

Step step_from_json(const json::object& in) {
    Step step;
    std::string_view op = in.at("op").as_string();
    bool known = false;
    for (auto [value, name] : kOpNames)
        if (op == name) step.op = value, known = true;
    if (!known) throw LayerError("branchfs: malformed journal (unknown step " + std::string(op) + ")");
    step.path = in.at("path").as_string();
    if (auto* v = in.if_contains("opaque")) step.opaque = v->as_bool();
    if (auto* v = in.if_contains("origin")) step.origin = from_hex(v->as_string());
    if (auto* v = in.if_contains("keep"))
        for (const auto& name : v->as_array()) step.keep.emplace_back(name.as_string());
    if (auto* v = in.if_contains("staged")) step.staged = json::value_to<std::uint64_t>(*v);
    if (auto* v = in.if_contains("mode")) step.mode = json::value_to<mode_t>(*v);
    if (auto* v = in.if_contains("mtime")) {
        step.mtime.tv_sec = json::value_to<time_t>(v->as_array().at(0));
        step.mtime.tv_nsec = json::value_to<long>(v->as_array().at(1));
    }
    if (auto* v = in.if_contains("uid")) step.uid = json::value_to<uid_t>(*v);
    if (auto* v = in.if_contains("gid")) step.gid = json::value_to<gid_t>(*v);
    return step;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("cannot write", kJournalTempName, errno);
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

std::string serialize_journal(const Journal& journal) {
    json::array steps;
    for (const auto& step : journal.steps) steps.emplace_back(step_to_json(step));
    json::object root;
    root["version"] = kVersion;
    root["target"] = journal.target;
    root["kind"] = journal.kind == TargetKind::Workspace ? "workspace" : "layer";
    root["steps"] = std::move(steps);
    return json::serialize(root);
}

Journal parse_journal(std::string_view text) {
    // Paths are file names: bytes, not necessarily UTF-8.
    json::parse_options options;
    options.allow_invalid_utf8 = true;
    boost::system::error_code ec;
    json::value root = json::parse(text, ec, {}, options);
    if (ec) throw LayerError("branchfs: malformed journal: " + ec.message());
    try {
        const auto& object = root.as_object();
        if (object.at("version").to_number<std::int64_t>() != kVersion)
            throw LayerError("branchfs: journal of an unknown version");
        Journal journal;
        journal.target = object.at("target").as_string();
        journal.kind = object.at("kind").as_string() == "layer" ? TargetKind::Layer : TargetKind::Workspace;
        for (const auto& step : object.at("steps").as_array())
            journal.steps.push_back(step_from_json(step.as_object()));
        return journal;
    } catch (const LayerError&) {
        throw;
    } catch (const std::exception& e) {
        throw LayerError(std::string("branchfs: malformed journal: ") + e.what());
    }
}

void commit_journal(int dirfd, const Journal& journal) {
    int fd = ::openat(dirfd, kJournalTempName, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("cannot create", kJournalTempName, errno);
    UniqueFd file(fd);
    write_all(fd, serialize_journal(journal));
    if (::fsync(fd) != 0) throw_errno("cannot sync", kJournalTempName, errno);
    file.reset();
    if (::renameat(dirfd, kJournalTempName, dirfd, kJournalName) != 0)
        throw_errno("cannot commit", kJournalName, errno);
    if (::fsync(dirfd) != 0) throw_errno("cannot sync the journal directory", "", errno);
}

std::optional<Journal> read_journal(int dirfd) {
    int fd = ::openat(dirfd, kJournalName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return std::nullopt;
    if (fd < 0) throw_errno("cannot open", kJournalName, errno);
    UniqueFd file(fd);
    std::string text;
    char buffer[65536];
    while (true) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw_errno("cannot read", kJournalName, errno);
        if (n == 0) break;
        text.append(buffer, static_cast<size_t>(n));
    }
    return parse_journal(text);
}

}  // namespace sandlock::branchfs
