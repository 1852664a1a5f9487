#include "image/page_file.hpp"

#include "image/checkpoint_file.hpp"

#include <sandlock/sdk/plugin.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace sandlock::checkpoint {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int error = errno) {
    throw sdk::Error("checkpoint: " + path.string() + ": " + what + (error != 0 ? std::string(": ") + std::strerror(error) : ""));
}

constexpr std::size_t kChunk = 4u << 20;

}  // namespace

struct PageFileWriter::Hasher {
    XXH3_state_t state;
};

PageFileWriter::PageFileWriter(const std::filesystem::path& path) : path_(path), hasher_(std::make_unique<Hasher>()) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) fail(path, "cannot create it");
    XXH3_64bits_reset(&hasher_->state);
}

PageFileWriter::~PageFileWriter() {
    if (fd_ >= 0) ::close(fd_);
}

std::uint64_t PageFileWriter::append(const void* data, std::size_t size) {
    const std::uint64_t at = size_;
    XXH3_64bits_update(&hasher_->state, data, size);
    const auto* from = static_cast<const char*>(data);
    for (std::size_t left = size; left > 0;) {
        const ssize_t n = ::write(fd_, from, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(path_, "cannot write it", n < 0 ? errno : ENOSPC);
        from += n;
        left -= static_cast<std::size_t>(n);
    }
    size_ += size;
    return at;
}

std::uint64_t PageFileWriter::finish() {
    if (::close(fd_) != 0) {
        fd_ = -1;
        fail(path_, "cannot write it");
    }
    fd_ = -1;
    return XXH3_64bits_digest(&hasher_->state);
}

void verify_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t hash) {
    const int fd = open_checkpoint_file(path);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || static_cast<std::uint64_t>(st.st_size) != size) {
        ::close(fd);
        fail(path, "has " + std::to_string(st.st_size) + " bytes where the manifest says " + std::to_string(size) +
                       " (truncated or damaged)", 0);
    }
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    std::vector<char> buffer(kChunk);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            ::close(fd);
            fail(path, "cannot read it", error);
        }
        if (n == 0) break;
        XXH3_64bits_update(&state, buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (XXH3_64bits_digest(&state) != hash) fail(path, "does not match its hash in the manifest (damaged)", 0);
}

std::uint64_t hash_bytes(const void* data, std::size_t size) { return XXH3_64bits(data, size); }

PageFileReader::PageFileReader(const std::filesystem::path& path, std::uint64_t size, std::uint64_t hash) : path_(path) {
    verify_file(path, size, hash);
    fd_ = open_checkpoint_file(path);
}

PageFileReader::~PageFileReader() {
    if (fd_ >= 0) ::close(fd_);
}

void PageFileReader::read(std::uint64_t offset, void* out, std::size_t size) const {
    auto* to = static_cast<char*>(out);
    while (size > 0) {
        const ssize_t n = ::pread(fd_, to, size, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(path_, "ends early", n < 0 ? errno : 0);
        to += n;
        offset += static_cast<std::uint64_t>(n);
        size -= static_cast<std::size_t>(n);
    }
}

}  // namespace sandlock::checkpoint
