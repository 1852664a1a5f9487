#include "elf_check.hpp"

#include "fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace sandlock {
namespace {

#if defined(__x86_64__)
constexpr Elf64_Half kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr Elf64_Half kMachine = EM_AARCH64;
#elif defined(__riscv)
constexpr Elf64_Half kMachine = EM_RISCV;
#else
#error "elf_check: add this architecture's e_machine"
#endif

bool read_at(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
    auto* out = static_cast<char*>(buffer);
    while (size > 0) {
        ssize_t n = ::pread(fd, out, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        out += n;
        size -= static_cast<std::size_t>(n);
        offset += static_cast<std::uint64_t>(n);
    }
    return true;
}

std::string ends_past(std::string_view what, std::uint64_t end, std::uint64_t size) {
    return "truncated: " + std::string(what) + " ends at byte " + std::to_string(end) + " but the file has " +
           std::to_string(size) + " bytes";
}

}  // namespace

ElfFile::ElfFile(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    problem_ = fd_ ? check() : std::string("cannot open: ") + std::strerror(errno);
}

bool ElfFile::read(void* out, std::size_t size, std::uint64_t offset) const {
    if (offset <= head_size_ && size <= head_size_ - offset) {
        std::memcpy(out, head_.data() + offset, size);
        return true;
    }
    return read_at(fd_.get(), out, size, offset);
}

std::string ElfFile::check() {
    struct stat st {};
    if (::fstat(fd_.get(), &st) < 0) return std::string("cannot stat: ") + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    const auto size = static_cast<std::uint64_t>(st.st_size);
    head_size_ = static_cast<std::size_t>(std::min<std::uint64_t>(size, head_.size()));
    if (!read_at(fd_.get(), head_.data(), head_size_, 0)) head_size_ = 0;

    Elf64_Ehdr header{};
    if (size < sizeof header || !read(&header, sizeof header, 0))
        return "not an ELF shared object (shorter than an ELF header)";
    if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) return "not an ELF file";
    if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
        header.e_machine != kMachine)
        return "built for another architecture";
    if (header.e_type != ET_DYN) return "not a shared object";
    if (header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum == 0 || header.e_phnum == PN_XNUM)
        return "malformed program header table";
    const std::uint64_t table_end = header.e_phoff + std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr);
    if (header.e_phoff > size || table_end > size) return ends_past("the program header table", table_end, size);

    segments_.resize(header.e_phnum);
    if (!read(segments_.data(), segments_.size() * sizeof(Elf64_Phdr), header.e_phoff))
        return "cannot read the program headers";
    bool loads = false;
    for (const Elf64_Phdr& segment : segments_) {
        if (segment.p_type != PT_LOAD && segment.p_type != PT_DYNAMIC && segment.p_type != PT_NOTE &&
            segment.p_type != PT_INTERP)
            continue;
        loads = loads || segment.p_type == PT_LOAD;
        const std::uint64_t end = segment.p_offset + segment.p_filesz;
        if (end < segment.p_offset || end > size) return ends_past("a loaded segment", end, size);
    }
    if (!loads) return "no loadable segment";
    return {};
}

std::vector<std::string> ElfFile::notes(std::string_view owner, std::uint32_t type) const {
    std::vector<std::string> found;
    if (!problem_.empty()) return found;
    constexpr std::uint64_t kMostNoteBytes = 1 << 20;  // a manifest is a few hundred bytes
    for (const Elf64_Phdr& segment : segments_) {
        if (segment.p_type != PT_NOTE || segment.p_filesz > kMostNoteBytes) continue;
        std::string bytes(segment.p_filesz, '\0');
        if (!read(bytes.data(), bytes.size(), segment.p_offset)) continue;
        const std::uint64_t align = segment.p_align == 8 ? 8 : 4;
        auto pad = [&](std::uint64_t n) { return (n + align - 1) & ~(align - 1); };
        for (std::uint64_t at = 0; at + sizeof(Elf64_Nhdr) <= bytes.size();) {
            Elf64_Nhdr note{};
            std::memcpy(&note, bytes.data() + at, sizeof note);
            const std::uint64_t name_at = at + sizeof note;
            const std::uint64_t desc_at = name_at + pad(note.n_namesz);
            const std::uint64_t next = desc_at + pad(note.n_descsz);
            if (desc_at > bytes.size() || desc_at + note.n_descsz > bytes.size() || next <= at) break;
            const std::string_view name(bytes.data() + name_at, note.n_namesz > 0 ? note.n_namesz - 1 : 0);
            if (note.n_type == type && name == owner) found.emplace_back(bytes.data() + desc_at, note.n_descsz);
            at = next;
        }
    }
    return found;
}

}  // namespace sandlock
