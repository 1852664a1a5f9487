// The page file of one process: the contents of the pages it wrote, back to back, with an
// XXH3-64 hash over the whole file that the manifest records, so that a truncated or damaged
// checkpoint is refused before anything is restored from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace sandlock::checkpoint {

class PageFileWriter {
public:
    explicit PageFileWriter(const std::filesystem::path& path);  // creates it (0600)
    ~PageFileWriter();
    PageFileWriter(const PageFileWriter&) = delete;
    PageFileWriter& operator=(const PageFileWriter&) = delete;

    // Appends; returns the offset the data starts at.
    std::uint64_t append(const void* data, std::size_t size);
    std::uint64_t size() const { return size_; }
    // Closes the file; its hash.
    std::uint64_t finish();

private:
    struct Hasher;
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_ = 0;
    std::unique_ptr<Hasher> hasher_;
};

class PageFileReader {
public:
    // Throws Error unless the file has `size` bytes and hashes to `hash`.
    PageFileReader(const std::filesystem::path& path, std::uint64_t size, std::uint64_t hash);
    ~PageFileReader();
    PageFileReader(const PageFileReader&) = delete;
    PageFileReader& operator=(const PageFileReader&) = delete;

    void read(std::uint64_t offset, void* out, std::size_t size) const;

private:
    std::filesystem::path path_;
    int fd_ = -1;
};

// Checks a file's size and hash without keeping it open (Error naming the file otherwise).
void verify_file(const std::filesystem::path& path, std::uint64_t size, std::uint64_t hash);
// The hash of a byte string, as page files are hashed.
std::uint64_t hash_bytes(const void* data, std::size_t size);

}  // namespace sandlock::checkpoint
