#include "plugin_manifest.hpp"

#include "elf_check.hpp"

#include <sandlock/errors.hpp>
#include <sandlock/sdk/abi.hpp>

#include <cstring>

namespace sandlock {
namespace {

// Reads the descriptor: four u32 words, then NUL-terminated strings, an empty one last.
class NoteReader {
public:
    explicit NoteReader(const std::string& bytes) : bytes_(bytes) {}
    bool u32(std::uint32_t& out) {
        if (at_ + 4 > bytes_.size()) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) out |= std::uint32_t{static_cast<unsigned char>(bytes_[at_ + i])} << (8 * i);
        at_ += 4;
        return true;
    }
    bool text(std::string& out) {
        const std::size_t end = bytes_.find('\0', at_);
        if (end == std::string::npos) return false;
        out.assign(bytes_, at_, end - at_);
        at_ = end + 1;
        return true;
    }

private:
    const std::string& bytes_;
    std::size_t at_ = 0;
};

bool printable(const std::string& text) {
    for (unsigned char c : text)
        if (c < 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

PluginManifest read_plugin_manifest(const std::filesystem::path& path) {
    const std::string file = path.string();
    auto refuse = [&](const std::string& why) {
        return PluginError("plugin " + file + ": " + why + "; reinstall or rebuild it against this SDK");
    };
    const ElfFile elf(path);
    if (!elf.problem().empty()) throw refuse("cannot load: " + elf.problem());
    const auto notes = elf.notes(sdk::kManifestNoteOwner, sdk::kManifestNoteType);
    if (notes.empty()) throw refuse("not a sandlock plugin (no manifest note " + std::string(sdk::kManifestSection) + ")");
    if (notes.size() > 1) throw refuse("it carries " + std::to_string(notes.size()) + " manifest notes");
    PluginManifest m;
    NoteReader reader(notes.front());
    std::uint32_t reserved = 0;
    if (!reader.u32(m.abi)) throw refuse("its manifest note is malformed");
    // The ABI first: another version may lay the rest out differently.
    if (m.abi != sdk::kAbiVersion)
        throw PluginError("plugin " + file + ": built for plugin ABI " + std::to_string(m.abi) +
                          ", this sandlock speaks ABI " + std::to_string(sdk::kAbiVersion) +
                          "; rebuild it against this SDK");
    if (!reader.u32(m.child_stages) || !reader.u32(m.flags) || !reader.u32(reserved) || !reader.text(m.name) ||
        !reader.text(m.description))
        throw refuse("its manifest note is malformed");
    for (std::string field;;) {
        if (!reader.text(field)) throw refuse("its manifest note is malformed");
        if (field.empty()) break;
        m.owned_fields.push_back(field);
    }
    if (m.name.empty() || !printable(m.name) || !printable(m.description) || m.name.size() > 64)
        throw refuse("its manifest note names no valid plugin");
    if ((m.child_stages & ~((1u << (sdk::kLastStage + 1)) - (1u << sdk::kFirstStage))) != 0)
        throw refuse("its manifest note names unknown stages");
    if (path.stem() != m.name)
        throw PluginError("plugin " + file + " calls itself '" + m.name + "'; a plugin's file must be named after it (" +
                          m.name + ".so)");
    return m;
}

}  // namespace sandlock
