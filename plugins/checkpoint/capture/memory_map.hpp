// A process's mappings as /proc/PID/maps lists them, and which of their pages hold data of the
// process's own (/proc/PID/pagemap): what a checkpoint must copy.
#pragma once

#include "image/process_image.hpp"

#include <sys/types.h>

#include <vector>

namespace sandlock::checkpoint {

// Throws Error when the map cannot be read.
std::vector<Vma> read_memory_map(pid_t pid);

// Whether the checkpoint copies a mapping's pages: private ones (what the process wrote over
// its file, or all it touched when anonymous) and shared anonymous ones; not the kernel's.
bool holds_own_pages(const Vma& vma);

// The runs of pages of `vma` to copy (present or swapped, and for a file mapping only those the
// process wrote), with data offsets still 0.
std::vector<PageRun> own_page_runs(int pagemap_fd, const Vma& vma);

}  // namespace sandlock::checkpoint
