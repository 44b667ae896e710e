// The one way this project replaces a file on disk so that a crash at any instant leaves
// either the complete old content or the complete new one, never a torn or empty file, and
// so that nobody else can make us write where they choose:
//
//   1. open the directory (O_DIRECTORY | O_NOFOLLOW on the last component);
//   2. create a temporary beside the target with openat(O_CREAT | O_EXCL | O_NOFOLLOW |
//      O_CLOEXEC, 0600) under an unpredictable name: a planted file or symlink is never
//      opened (O_EXCL), a new random name is tried instead;
//   3. write everything, fsync and close (each checked: a file whose data never reached the
//      disk must not get the real name);
//   4. renameat over the target (atomic in one directory), then fsync the directory so the
//      rename itself survives a power cut.
// On any failure the temporary is removed and DurableWriteError names the path and the step.
//
// Temporaries are named "<name>.tmp.<pid>.<random hex>": a reader that lists a directory
// (checkpoint pruning) can tell them apart, and whose they were.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace rz {

struct DurableWriteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Replaces `path` with `size` bytes of `data`, mode 0600. Throws DurableWriteError
// ("cannot write PATH: STEP failed: REASON").
void write_file_durably(const std::string& path, const void* data, size_t size);
inline void write_file_durably(const std::string& path, const std::string& text) {
  write_file_durably(path, text.data(), text.size());
}

// The one way a log or CSV is opened for appending: O_APPEND | O_CREAT | O_NOFOLLOW |
// O_CLOEXEC, mode 0600 (a planted symlink is never followed: the open fails with ELOOP).
// Returns the fd, or -1 with errno set. `readable` adds read access (O_RDWR).
int open_for_append(const std::string& path, bool readable = false);

// True if `name` (a directory entry, no '/') is a temporary left by write_file_durably for a
// file whose name ends in `suffix` ("" = any), and not one of process `own_pid`.
bool is_durable_temporary(const std::string& name, const std::string& suffix, long own_pid);

}  // namespace rz
