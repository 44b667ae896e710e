#include "common/redis/redis_client.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

namespace rz::redis {

Reply::Reply(redisReply* r)
    : owner_(r,
             [](redisReply* p) {
               if (p) freeReplyObject(p);
             }),
      r_(r) {}
bool Reply::is_error() const {
  return r_ && r_->type == REDIS_REPLY_ERROR;
}
bool Reply::is_nil() const {
  return !r_ || r_->type == REDIS_REPLY_NIL;
}
bool Reply::is_array() const {
  return r_ && r_->type == REDIS_REPLY_ARRAY;
}
bool Reply::is_integer() const {
  return r_ && r_->type == REDIS_REPLY_INTEGER;
}
bool Reply::is_string() const {
  return r_ && (r_->type == REDIS_REPLY_STRING || r_->type == REDIS_REPLY_STATUS);
}
std::string_view Reply::str() const {
  if (!r_ || !r_->str) return {};
  return std::string_view(r_->str, r_->len);
}
long long Reply::integer() const {
  return is_integer() ? r_->integer : 0;
}
size_t Reply::size() const {
  return is_array() ? r_->elements : 0;
}
Reply Reply::element(size_t i) const {
  Reply e;
  if (i < size()) {
    e.owner_ = owner_;
    e.r_ = r_->element[i];
  }
  return e;
}
std::string Reply::error() const {
  return is_error() ? std::string(str()) : std::string();
}

namespace {
timeval to_timeval(int ms) {
  timeval tv;
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  return tv;
}
}  // namespace

RedisClient::RedisClient(const std::string& host, int port, const std::string& secret,
                         int timeout_ms)
    : where_(fmt::format("{}:{}", host, port)) {
  context_ = redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout_ms));
  if (!context_) throw RedisError(fmt::format("cannot reach Redis at {}: out of memory", where_));
  if (context_->err) {
    const std::string why = context_->errstr;
    redisFree(context_);
    context_ = nullptr;
    throw RedisError(fmt::format(
        "cannot reach the learner host's Redis at {}: {}: check that the learner host runs "
        "with --serve {} and that this address is reachable from here",
        where_, why, where_));
  }
  redisSetTimeout(context_, to_timeval(timeout_ms));
  if (!secret.empty()) {
    Reply r = command({"AUTH", secret});
    if (r.is_error()) {
      const std::string why = r.error();
      redisFree(context_);
      context_ = nullptr;
      throw AuthError(fmt::format(
          "the Redis server at {} refused the secret ({}): use the secret file the learner "
          "host printed at start (its RUN/secret, or the --secret-file it was given)",
          where_, why));
    }
  }
}

RedisClient::~RedisClient() {
  if (context_) redisFree(context_);
}

void RedisClient::fail(const std::string& doing) {
  const std::string why = context_ && context_->errstr[0] ? context_->errstr : "connection lost";
  throw RedisError(
      fmt::format("lost the connection to Redis at {} while {}: {}", where_, doing, why));
}

void RedisClient::append(const std::vector<std::string_view>& args) {
  argv_.resize(args.size());
  argl_.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    argv_[i] = args[i].data();
    argl_[i] = args[i].size();
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(args.size()), argv_.data(), argl_.data()) !=
      REDIS_OK) {
    fail("queueing a command");
  }
}

Reply RedisClient::reply() {
  void* r = nullptr;
  if (redisGetReply(context_, &r) != REDIS_OK || !r) fail("waiting for a reply");
  return Reply(static_cast<redisReply*>(r));
}

void RedisClient::flush() {
  int done = 0;
  while (!done) {
    if (redisBufferWrite(context_, &done) != REDIS_OK) fail("sending");
  }
}

Reply RedisClient::command(const std::vector<std::string_view>& args) {
  append(args);
  return reply();
}

Reply RedisClient::command_ok(const std::vector<std::string_view>& args) {
  Reply r = command(args);
  if (r.is_error())
    throw RedisError(fmt::format("Redis at {} refused {}: {}", where_,
                                 args.empty() ? std::string_view("a command") : args[0],
                                 r.error()));
  return r;
}

void RedisClient::set_timeout(int timeout_ms) {
  redisSetTimeout(context_, to_timeval(timeout_ms));
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

}  // namespace rz::redis
