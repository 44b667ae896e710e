// RedisOutage: how the scale-out processes (relay, ingest) live with a Redis that is away:
// connect again with backoff (100 ms doubling to 2 s), and say so once per outage, not once
// per attempt: "<error> (retrying with backoff)" when it starts, "reconnected to <server>"
// when it ends. One object per process, asked at the top of each loop while there is no
// connection.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>

#include "common/redis/redis_client.h"

namespace rz::redis {

class RedisOutage {
 public:
  // `server` names the other end in the "reconnected to ..." line; `say` prints one line.
  RedisOutage(std::string server, std::function<void(const std::string&)> say)
      : server_(std::move(server)), say_(std::move(say)) {}

  // Calls `connect`. True once it succeeded (the outage, if any, is over). False if it threw a
  // RedisError: the caller waits next_backoff() before it tries again.
  bool connect(const std::function<void()>& connect) {
    try {
      connect();
    } catch (const RedisError& e) {
      if (!in_outage_) say_(std::string(e.what()) + " (retrying with backoff)");
      in_outage_ = true;
      return false;
    }
    if (in_outage_) say_("reconnected to " + server_);
    in_outage_ = false;
    backoff_ = kFirstBackoff;
    return true;
  }

  // The pause before the next attempt; each call doubles the next one, up to 2 s.
  std::chrono::milliseconds next_backoff() {
    const std::chrono::milliseconds wait = backoff_;
    backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    return wait;
  }

  // A connection that worked failed: `line` says what and what happens now.
  void lost(const std::string& line) {
    say_(line);
    in_outage_ = true;
  }

 private:
  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{2000};
  std::string server_;
  std::function<void(const std::string&)> say_;
  bool in_outage_ = false;
  std::chrono::milliseconds backoff_ = kFirstBackoff;
};

}  // namespace rz::redis
