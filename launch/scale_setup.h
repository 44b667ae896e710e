// The launcher's part of scale-out (docs/scale-out.md): what `start --serve` checks and writes
// before the supervisor runs, and the redis-server the supervisor starts.
//
// The learner host's redis-server is a supervised child like the others (restarted when it
// dies, stopped with the run). Its configuration RUN/redis/redis.conf (mode 0600: it holds
// the secret) is written by the supervisor at every start:
//   bind + port from --serve, no unix socket, protected mode, requirepass = the secret,
//   appendonly yes + appendfsync always (an XADD reply means the record is on disk: the relay
//   releases a lane record only then), data directory RUN/redis (0700), no RDB snapshots,
//   proto-max-bulk-len sized for the largest record or weight blob, logs to stdout (the
//   supervisor stamps them into RUN/logs/redis.log).
#pragma once

#include <string>

#include "common/run_config.h"
#include "launch/run_dir.h"

namespace rz::launch {

// start --serve: checks scale.serve (HOST:PORT) and the secret. Without scale.secret_file a
// random secret is generated into RUN/secret (0600, kept across --resume) and the path set.
// Makes the secret path absolute. Throws UsageError (one line).
void prepare_serve(RunConfig* config, const RunDir& dir);

// The redis-server to run: $RZ_REDIS_SERVER, else `redis-server` on PATH. UsageError if none.
std::string redis_server_binary();

// Writes RUN/redis/redis.conf for `config` (scale.serve set); returns its path.
std::string write_redis_config(const RunConfig& config, const RunDir& dir, uint64_t weight_bytes);

// A random hex string of 2 * bytes characters (host nonce).
std::string random_hex(int bytes);

}  // namespace rz::launch
