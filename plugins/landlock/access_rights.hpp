// Which Landlock access rights each ABI knows, and the bundles sandlock grants.
#pragma once

#include "landlock_abi.hpp"

#include <cstdint>

namespace sandlock::landlock {

using Access = std::uint64_t;

// ABI 1: everything from EXECUTE (bit 0) to MAKE_SYM (bit 12).
inline constexpr Access kAbi1FsRights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

// The only rights the kernel accepts on a rule for a non-directory (it answers EINVAL
// otherwise): the rest concern a directory's entries.
inline constexpr Access kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                      LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                      LANDLOCK_ACCESS_FS_IOCTL_DEV;

inline constexpr Access kReadableRights =
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_EXECUTE;

// Every filesystem right the given ABI can handle (0 without Landlock).
constexpr Access fs_rights(int abi) {
    if (abi < 1) return 0;
    Access rights = kAbi1FsRights;
    if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return rights;
}

// fs_writable grants everything the ABI knows but device nodes: a writable tree behaves as if
// unconfined, except that no character or block device can be made there (a root caller's
// `mknod c 1 11` would otherwise read the kernel log).
constexpr Access writable_rights(int abi) {
    return fs_rights(abi) & ~(LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK);
}

// The ABI that introduced each feature sandlock uses.
inline constexpr int kAbiFilesystem = 1;
inline constexpr int kAbiTcpPorts = 4;
inline constexpr int kAbiScoping = 6;

}  // namespace sandlock::landlock
