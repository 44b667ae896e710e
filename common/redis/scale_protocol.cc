#include "common/redis/scale_protocol.h"

#include "common/durable_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace rz::redis {

bool parse_u64(std::string_view text, uint64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *value = v;
  return true;
}

std::string parse_record_message(const Reply& entry, RecordMessage* out) {
  if (!entry.is_array() || entry.size() != 2 || !entry.element(0).is_string())
    return "not a stream entry";
  out->id = std::string(entry.element(0).str());
  const Reply fields = entry.element(1);
  if (!fields.is_array()) return "entry without fields (deleted from the stream)";
  if (fields.size() % 2 != 0 || fields.size() > 32) return "odd or too many fields";
  // The fields, in the order the relay writes them. The four numbers are whole decimal
  // strings below their limit (0: not a number).
  struct Field {
    const char* name;
    uint64_t limit;
    const char* bad_number;
  };
  static constexpr Field kFields[6] = {
      {"v", 1000001, "field 'v' is not a version number"},
      {"host", 0, nullptr},
      {"epoch", kEpochLimit, "field 'epoch' is not a number below 2^32"},
      {"lane", kMaxLanesPerHost, "field 'lane' is not a lane number"},
      {"seq", kSeqLimit, "field 'seq' is not a number below 2^62"},
      {"rec", 0, nullptr},
  };
  bool seen[6] = {};
  uint64_t number[6] = {};
  for (size_t i = 0; i < fields.size(); i += 2) {
    const Reply k = fields.element(i), v = fields.element(i + 1);
    if (!k.is_string() || !v.is_string()) return "a field that is not a string";
    int which = -1;
    for (int f = 0; f < 6; ++f)
      if (k.str() == kFields[f].name) which = f;
    if (which < 0) return fmt::format("unknown field '{}'", std::string(k.str().substr(0, 32)));
    if (seen[which]) return fmt::format("field '{}' given twice", kFields[which].name);
    seen[which] = true;
    if (kFields[which].limit != 0) {
      if (!parse_u64(v.str(), &number[which]) || number[which] >= kFields[which].limit)
        return kFields[which].bad_number;
    } else if (which == 1) {
      out->host = std::string(v.str().substr(0, 65));
      const std::string bad = check_host_id(out->host);
      if (!bad.empty()) return "field 'host': " + bad;
    } else {
      out->record = v.str();
    }
  }
  for (int f = 0; f < 6; ++f)
    if (!seen[f]) return fmt::format("field '{}' missing", kFields[f].name);
  out->version = static_cast<int>(number[0]);
  out->epoch = number[2];
  out->lane = static_cast<uint32_t>(number[3]);
  out->seq = number[4];
  return "";
}

std::string check_host_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return "a host id has 1 to 64 characters";
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return "a host id uses only letters, digits, '.', '_' and '-'";
  }
  return "";
}

void parse_address(const std::string& text, std::string* host, int* port) {
  const auto colon = text.rfind(':');
  uint64_t p = 0;
  if (colon == std::string::npos || colon == 0 ||
      !parse_u64(std::string_view(text).substr(colon + 1), &p) || p == 0 || p > 65535) {
    throw std::invalid_argument(fmt::format(
        "'{}' is not an address: use HOST:PORT, e.g. 127.0.0.1:6390 or 10.0.0.5:6390", text));
  }
  *host = text.substr(0, colon);
  *port = static_cast<int>(p);
}

std::string read_secret_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    throw std::runtime_error(
        fmt::format("cannot read the secret file {}: {}: give the file the "
                    "learner host printed at start",
                    path, std::strerror(errno)));
  }
  struct stat st {};
  ::fstat(fd, &st);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
    ::close(fd);
    throw std::runtime_error(
        fmt::format("the secret file {} is readable by others (mode {:o}): "
                    "make it private with chmod 600 {}",
                    path, st.st_mode & 0777, path));
  }
  char buffer[600];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  ::close(fd);
  std::string s(buffer, n > 0 ? static_cast<size_t>(n) : 0);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  bool printable = true;
  for (char c : s) printable &= c > ' ' && c < 127;
  if (s.size() < 16 || s.size() > 512 || !printable) {
    throw std::runtime_error(fmt::format(
        "the secret file {} must hold one line of 16 to 512 printable characters without "
        "spaces: write one with e.g. head -c 32 /dev/urandom | xxd -p -c 64 > {}",
        path, path));
  }
  return s;
}

std::string generate_secret_file(const std::string& path) {
  unsigned char raw[32];
  const int rfd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (rfd < 0 || ::read(rfd, raw, sizeof raw) != static_cast<ssize_t>(sizeof raw)) {
    if (rfd >= 0) ::close(rfd);
    throw std::runtime_error("cannot read /dev/urandom for a secret: pass --secret-file FILE");
  }
  ::close(rfd);
  std::string hex;
  for (unsigned char c : raw) hex += fmt::format("{:02x}", c);
  try {
    write_file_durably(path, hex + "\n");
  } catch (const DurableWriteError& e) {
    throw std::runtime_error(fmt::format("cannot write the secret file: {}", e.what()));
  }
  return hex;
}

}  // namespace rz::redis
