// RedisClient: one blocking connection to a Redis server through hiredis, for the scale-out
// processes (relay, ingest, launcher). Torch-free, game-free.
//
// Why a wrapper at all: every failure must become ONE line that names the server and the
// fix (a refused connection, a wrong secret, a dropped link), and a reply must be freed on
// every path. Commands take their arguments as byte strings (binary-safe: records and weight
// blobs are sent as they are, never formatted). Pipelining is append() N times, then
// reply() N times: one round trip for the whole batch.
//
// A connection that failed once (I/O error, timeout, protocol error) is dead: hiredis cannot
// resynchronise a stream of replies. Callers drop it and connect again (with backoff).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct redisContext;
struct redisReply;

namespace rz::redis {

// Any Redis failure; the message is one line naming the server and what to do.
struct RedisError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The server refused the secret (AUTH failed): retrying with the same secret cannot help.
struct AuthError : RedisError {
  using RedisError::RedisError;
};

// A reply, owned. Arrays hold their elements as views into the same reply tree.
class Reply {
 public:
  Reply() = default;
  explicit Reply(redisReply* r);
  bool is_error() const;
  bool is_nil() const;
  bool is_array() const;
  bool is_integer() const;
  bool is_string() const;  // bulk string or status
  std::string_view str() const;
  long long integer() const;
  size_t size() const;            // elements of an array
  Reply element(size_t i) const;  // a non-owning view of element i (valid while *this lives)
  // The error text of an error reply ("" otherwise).
  std::string error() const;

 private:
  std::shared_ptr<redisReply> owner_;
  const redisReply* r_ = nullptr;
};

class RedisClient {
 public:
  // Connects to host:port and authenticates with `secret` (skipped when empty). Throws
  // AuthError on a refused secret, RedisError on anything else (one line each).
  RedisClient(const std::string& host, int port, const std::string& secret, int timeout_ms);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // One command, one round trip. An error reply is returned (not thrown): callers decide
  // (BUSYGROUP is fine, NOGROUP is not); a broken connection throws RedisError.
  Reply command(const std::vector<std::string_view>& args);
  // command() for a step that must succeed: an error reply throws RedisError too. For
  // example "LOADING" while a restarted server reads its AOF: a connection set up through
  // command_ok() either completed every step or is dropped and made again.
  Reply command_ok(const std::vector<std::string_view>& args);
  // Pipelining: queue commands, then read their replies in order.
  void append(const std::vector<std::string_view>& args);
  Reply reply();
  // Sends the queued commands without waiting for replies.
  void flush();

  void set_timeout(int timeout_ms);
  const std::string& where() const { return where_; }  // "host:port" for messages

 private:
  [[noreturn]] void fail(const std::string& doing);
  redisContext* context_ = nullptr;
  std::string where_;
  std::vector<const char*> argv_;
  std::vector<size_t> argl_;
};

// A loopback TCP port nobody listens on right now (the kernel's choice for port 0), for a
// redis-server a test or a benchmark starts on this machine. Another process may take it
// before the server binds it; the server then fails to start and says so in its log.
int free_loopback_port();

}  // namespace rz::redis
