#include "image/manifest.hpp"

#include "image/checkpoint_file.hpp"

#include <sandlock/sdk/hex.hpp>
#include <sandlock/sdk/plugin.hpp>

#include <boost/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <cstdio>

namespace sandlock::checkpoint {
namespace json = boost::json;
namespace {

constexpr std::array<const char*, 7> kVmaKinds = {"anonymous", "file", "heap", "stack", "vdso", "vvar", "vsyscall"};
constexpr std::array<const char*, 7> kFdKinds = {"file", "directory", "pipe", "socket", "terminal", "device", "other"};

std::string hex(const std::vector<std::uint8_t>& bytes) {
    return sdk::hex_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

std::string hash_text(std::uint64_t hash) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
    return text;
}

// Reads one JSON object, naming each field by its path in errors.
class Fields {
public:
    Fields(const json::value& value, std::string path) : path_(std::move(path)) {
        if (!value.is_object()) fail("", "is not an object");
        object_ = &value.as_object();
    }

    [[noreturn]] void fail(const std::string& field, const std::string& why) const {
        throw sdk::Error("checkpoint manifest: " + path_ + (field.empty() || path_.empty() ? "" : ".") + field + ": " + why);
    }
    const json::value& at(const std::string& field) const {
        const json::value* value = object_->if_contains(field);
        if (value == nullptr) fail(field, "missing");
        return *value;
    }
    bool has(const std::string& field) const {
        const json::value* value = object_->if_contains(field);
        return value != nullptr && !value->is_null();
    }
    std::string path(const std::string& field) const { return path_.empty() ? field : path_ + "." + field; }

    std::uint64_t u64(const std::string& field) const {
        const json::value& v = at(field);
        if (v.is_uint64()) return v.as_uint64();
        if (v.is_int64() && v.as_int64() >= 0) return static_cast<std::uint64_t>(v.as_int64());
        fail(field, "is not a non-negative integer");
    }
    std::int64_t i64(const std::string& field) const {
        const json::value& v = at(field);
        if (v.is_int64()) return v.as_int64();
        if (v.is_uint64() && v.as_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v.as_uint64());
        fail(field, "is not an integer");
    }
    int small_int(const std::string& field) const {
        const std::int64_t v = i64(field);
        if (v < INT32_MIN || v > INT32_MAX) fail(field, "is out of range");
        return static_cast<int>(v);
    }
    bool boolean(const std::string& field) const {
        const json::value& v = at(field);
        if (!v.is_bool()) fail(field, "is not true or false");
        return v.as_bool();
    }
    std::string text(const std::string& field) const {
        const json::value& v = at(field);
        if (!v.is_string()) fail(field, "is not a string");
        return std::string(v.as_string());
    }
    const json::array& array(const std::string& field) const {
        const json::value& v = at(field);
        if (!v.is_array()) fail(field, "is not an array");
        return v.as_array();
    }
    std::vector<std::uint8_t> bytes(const std::string& field) const {
        const auto decoded = sdk::hex_decode(text(field));
        if (!decoded) fail(field, "is not hex bytes");
        return std::vector<std::uint8_t>(decoded->begin(), decoded->end());
    }
    std::uint64_t hash(const std::string& field) const {
        const std::string t = text(field);
        if (t.size() != 16 || t.find_first_not_of("0123456789abcdef") != std::string::npos) fail(field, "is not a hash");
        return std::stoull(t, nullptr, 16);
    }
    // A file name beside the manifest: no directories, nothing hidden.
    std::string file_name(const std::string& field) const {
        const std::string t = text(field);
        if (t.empty() || t.find('/') != std::string::npos || t[0] == '.') fail(field, "is not a file name of the checkpoint");
        return t;
    }
    template <std::size_t N>
    std::size_t one_of(const std::string& field, const std::array<const char*, N>& names) const {
        const std::string t = text(field);
        for (std::size_t i = 0; i < N; ++i)
            if (t == names[i]) return i;
        fail(field, "unknown value \"" + t + "\"");
    }

private:
    std::string path_;
    const json::object* object_ = nullptr;
};

json::object vma_json(const Vma& vma) {
    json::array runs;
    for (const PageRun& run : vma.runs) runs.push_back(json::array{run.first_page, run.pages, run.data_offset});
    return {{"start", vma.start},
            {"end", vma.end},
            {"read", vma.read},
            {"write", vma.write},
            {"exec", vma.exec},
            {"shared", vma.shared},
            {"kind", kVmaKinds[static_cast<std::size_t>(vma.kind)]},
            {"name", vma.name},
            {"offset", vma.offset},
            {"runs", std::move(runs)}};
}

Vma vma_from(const Fields& f) {
    Vma vma;
    vma.start = f.u64("start");
    vma.end = f.u64("end");
    if (vma.end <= vma.start || vma.start % 4096 != 0 || vma.end % 4096 != 0) f.fail("end", "not a page-aligned range");
    vma.read = f.boolean("read");
    vma.write = f.boolean("write");
    vma.exec = f.boolean("exec");
    vma.shared = f.boolean("shared");
    vma.kind = static_cast<VmaKind>(f.one_of("kind", kVmaKinds));
    vma.name = f.text("name");
    vma.offset = f.u64("offset");
    const std::uint64_t pages = (vma.end - vma.start) / 4096;
    std::uint64_t next = 0;
    for (const json::value& item : f.array("runs")) {
        const json::array* run = item.if_array();
        if (run == nullptr || run->size() != 3 || !(*run)[0].is_number() || !(*run)[1].is_number() || !(*run)[2].is_number())
            f.fail("runs", "each run is [first page, pages, data offset]");
        PageRun r{(*run)[0].to_number<std::uint64_t>(), (*run)[1].to_number<std::uint64_t>(),
                  (*run)[2].to_number<std::uint64_t>()};
        if (r.pages == 0 || r.first_page < next || r.first_page + r.pages > pages)
            f.fail("runs", "a run lies outside its mapping or overlaps another");
        next = r.first_page + r.pages;
        vma.runs.push_back(r);
    }
    return vma;
}

json::object thread_json(const ThreadImage& t) {
    return {{"tid", t.tid},
            {"registers", hex(t.registers)},
            {"fpu", hex(t.fpu)},
            {"signal_mask", t.signal_mask},
            {"rseq_address", t.rseq_address},
            {"rseq_size", t.rseq_size},
            {"rseq_signature", t.rseq_signature},
            {"robust_list", t.robust_list},
            {"robust_list_size", t.robust_list_size},
            {"tid_address", t.tid_address}};
}

ThreadImage thread_from(const Fields& f) {
    ThreadImage t;
    t.tid = f.small_int("tid");
    t.registers = f.bytes("registers");
    if (t.registers.size() != 27 * 8) f.fail("registers", "is not an x86_64 register set");
    t.fpu = f.bytes("fpu");
    if (t.fpu.size() < 512) f.fail("fpu", "is too short for an FPU state");
    t.signal_mask = f.u64("signal_mask");
    t.rseq_address = f.u64("rseq_address");
    t.rseq_size = f.u64("rseq_size");
    t.rseq_signature = f.u64("rseq_signature");
    t.robust_list = f.u64("robust_list");
    t.robust_list_size = f.u64("robust_list_size");
    t.tid_address = f.u64("tid_address");
    return t;
}

json::object process_json(const ProcessImage& p) {
    json::array argv(p.argv.begin(), p.argv.end());
    json::array actions, threads, vmas, fds, why(p.unrestorable.begin(), p.unrestorable.end());
    for (const SignalAction& a : p.signal_actions)
        actions.push_back(json::object{{"signal", a.signal}, {"handler", a.handler}, {"flags", a.flags},
                                       {"restorer", a.restorer}, {"mask", a.mask}});
    for (const ThreadImage& t : p.threads) threads.push_back(thread_json(t));
    for (const Vma& v : p.vmas) vmas.push_back(vma_json(v));
    for (const FdEntry& e : p.fds)
        fds.push_back(json::object{{"fd", e.fd},
                                   {"kind", kFdKinds[static_cast<std::size_t>(e.kind)]},
                                   {"target", e.target},
                                   {"flags", e.flags},
                                   {"position", e.position},
                                   {"close_on_exec", e.close_on_exec},
                                   {"pipe_data", hex(e.pipe_data)}});
    const MmLayout& m = p.mm;
    return {{"pid", p.pid},
            {"ppid", p.ppid},
            {"exe", p.exe},
            {"argv", std::move(argv)},
            {"cwd", p.cwd},
            {"umask", p.umask},
            {"dumpable", p.dumpable},
            {"mm", json::object{{"start_code", m.start_code}, {"end_code", m.end_code}, {"start_data", m.start_data},
                                {"end_data", m.end_data}, {"start_brk", m.start_brk}, {"brk", m.brk},
                                {"start_stack", m.start_stack}, {"arg_start", m.arg_start}, {"arg_end", m.arg_end},
                                {"env_start", m.env_start}, {"env_end", m.env_end}, {"auxv", hex(m.auxv)}}},
            {"signal_actions", std::move(actions)},
            {"threads", std::move(threads)},
            {"vmas", std::move(vmas)},
            {"fds", std::move(fds)},
            {"page_file", p.page_file},
            {"page_bytes", p.page_bytes},
            {"page_hash", hash_text(p.page_hash)},
            {"unrestorable", std::move(why)},
            {"refusal", p.refusal}};
}

ProcessImage process_from(const Fields& f) {
    ProcessImage p;
    p.pid = f.small_int("pid");
    p.ppid = f.small_int("ppid");
    p.exe = f.text("exe");
    for (const json::value& a : f.array("argv")) {
        if (!a.is_string()) f.fail("argv", "holds a non-string");
        p.argv.emplace_back(a.as_string());
    }
    p.cwd = f.text("cwd");
    p.umask = static_cast<std::uint32_t>(f.u64("umask") & 0777);
    p.dumpable = f.boolean("dumpable");
    const Fields m(f.at("mm"), f.path("mm"));
    p.mm = {m.u64("start_code"), m.u64("end_code"), m.u64("start_data"), m.u64("end_data"), m.u64("start_brk"),
            m.u64("brk"),        m.u64("start_stack"), m.u64("arg_start"), m.u64("arg_end"), m.u64("env_start"),
            m.u64("env_end"),    m.bytes("auxv")};
    std::size_t i = 0;
    for (const json::value& a : f.array("signal_actions")) {
        const Fields s(a, f.path("signal_actions[" + std::to_string(i++) + "]"));
        const int sig = s.small_int("signal");
        if (sig < 1 || sig > 64) s.fail("signal", "is not a signal number");
        p.signal_actions.push_back({sig, s.u64("handler"), s.u64("flags"), s.u64("restorer"), s.u64("mask")});
    }
    i = 0;
    for (const json::value& t : f.array("threads")) p.threads.push_back(thread_from(Fields(t, f.path("threads[" + std::to_string(i++) + "]"))));
    if (p.threads.empty()) f.fail("threads", "is empty");
    i = 0;
    for (const json::value& v : f.array("vmas")) p.vmas.push_back(vma_from(Fields(v, f.path("vmas[" + std::to_string(i++) + "]"))));
    i = 0;
    for (const json::value& e : f.array("fds")) {
        const Fields d(e, f.path("fds[" + std::to_string(i++) + "]"));
        FdEntry entry;
        entry.fd = d.small_int("fd");
        if (entry.fd < 0) d.fail("fd", "is negative");
        entry.kind = static_cast<FdKind>(d.one_of("kind", kFdKinds));
        entry.target = d.text("target");
        entry.flags = static_cast<std::uint32_t>(d.u64("flags"));
        entry.position = d.u64("position");
        entry.close_on_exec = d.boolean("close_on_exec");
        entry.pipe_data = d.bytes("pipe_data");
        p.fds.push_back(std::move(entry));
    }
    p.page_file = f.file_name("page_file");
    p.page_bytes = f.u64("page_bytes");
    p.page_hash = f.hash("page_hash");
    p.refusal = f.text("refusal");
    for (const json::value& w : f.array("unrestorable")) {
        if (!w.is_string()) f.fail("unrestorable", "holds a non-string");
        p.unrestorable.emplace_back(w.as_string());
    }
    for (const Vma& v : p.vmas)
        for (const PageRun& r : v.runs)
            if (r.data_offset + r.pages * 4096 > p.page_bytes) f.fail("vmas", "a run lies outside the page file");
    return p;
}

}  // namespace

const char* to_string(VmaKind kind) { return kVmaKinds[static_cast<std::size_t>(kind)]; }
const char* to_string(FdKind kind) { return kFdKinds[static_cast<std::size_t>(kind)]; }

json::object to_json(const Manifest& manifest) {
    json::array processes;
    for (const ProcessImage& p : manifest.processes) processes.push_back(process_json(p));
    json::value app_state = nullptr;
    if (manifest.app_state)
        app_state = json::object{{"file", manifest.app_state->file},
                                 {"size", manifest.app_state->size},
                                 {"xxh3", hash_text(manifest.app_state->hash)}};
    json::value branch = nullptr;
    if (manifest.branch) branch = json::string(*manifest.branch);
    return {{"format", kFormatName},
            {"version", kFormatVersion},
            {"created", manifest.created},
            {"kernel", manifest.kernel},
            {"machine", manifest.machine},
            {"policy", manifest.policy},
            {"app_state", std::move(app_state)},
            {"branch", std::move(branch)},
            {"processes", std::move(processes)}};
}

Manifest manifest_from_json(const json::value& value) {
    const Fields f(value, "");
    if (!f.has("format") || f.text("format") != kFormatName) f.fail("format", std::string("is not \"") + kFormatName + "\"");
    const std::int64_t version = f.i64("version");
    if (version != kFormatVersion)
        f.fail("version", std::to_string(version) + " is not a version this sandlock reads (it reads " +
                              std::to_string(kFormatVersion) + ")");
    Manifest m;
    m.created = f.text("created");
    m.kernel = f.text("kernel");
    m.machine = f.text("machine");
    if (!f.at("policy").is_object()) f.fail("policy", "is not an object");
    m.policy = f.at("policy").as_object();
    if (f.has("app_state")) {
        const Fields a(f.at("app_state"), "app_state");
        m.app_state = AppState{a.file_name("file"), a.u64("size"), a.hash("xxh3")};
    }
    if (f.has("branch")) m.branch = f.text("branch");
    std::size_t i = 0;
    for (const json::value& p : f.array("processes"))
        m.processes.push_back(process_from(Fields(p, "processes[" + std::to_string(i++) + "]")));
    return m;
}

Manifest read_manifest(const std::filesystem::path& directory) {
    const auto path = directory / kManifestFile;
    const std::string text = read_checkpoint_file(path);
    boost::system::error_code error;
    json::value value = json::parse(text, error);
    if (error) throw sdk::Error("checkpoint: " + path.string() + ": not valid JSON (" + error.message() + ")");
    return manifest_from_json(value);
}

void write_manifest(const std::filesystem::path& directory, const Manifest& manifest) {
    const std::string text = json::serialize(to_json(manifest));
    const auto temporary = directory / ".manifest.json.new";
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw sdk::Error("checkpoint: " + temporary.string() + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            throw sdk::Error("checkpoint: " + temporary.string() + ": cannot write it");
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) throw sdk::Error("checkpoint: " + temporary.string() + ": cannot write it");
    std::filesystem::rename(temporary, directory / kManifestFile);
}

std::vector<std::string> unrestorable(const Manifest& manifest) {
    std::vector<std::string> out;
    for (const ProcessImage& p : manifest.processes)
        for (const std::string& why : p.unrestorable) out.push_back("pid " + std::to_string(p.pid) + ": " + why);
    return out;
}

}  // namespace sandlock::checkpoint
