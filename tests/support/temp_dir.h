// Temporary directories for tests: private (mkdtemp makes them 0700, as the project keeps
// every file of a run private to its user), unique (parallel CTest processes and leftovers
// of a crashed run never collide), and removed when the test ends, however it ends.
#pragma once

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace rz::testing {

// A fresh directory /tmp/rz-<tag>-XXXXXX (mode 0700), left in place: for a caller that
// removes it itself (after the processes that use it are gone).
inline std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/rz-" + tag + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    throw std::runtime_error("mkdtemp " + tmpl + " failed: is /tmp writable and not full?");
  return buf.data();
}

// A make_temp_dir directory removed with everything in it at scope end. Set
// RZ_KEEP_TEST_DIRS=1 to keep it (logs, metrics) for a look after a failure.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) : path_(make_temp_dir(tag)) {}
  ~TempDir() {
    if (std::getenv("RZ_KEEP_TEST_DIRS")) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path()/name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace rz::testing
