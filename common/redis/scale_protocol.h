// The scale-out protocol between actor hosts and the learner host (docs/scale-out.md has the
// full description and the exactly-once argument). Torch-free, game-free: records are bytes.
//
// Keys on the learner host's Redis:
//   rz:protocol          "1": the protocol version; a join of another version is refused
//   rz:config            the run's config.ini text (a join takes game, network, MCTS from it)
//   rz:records           the stream relays XADD to; consumer group "ingest"
//   rz:weights           hash {version, tag, blob}: the newest published weights (one HSET,
//                        so a reader never sees a version with another version's blob)
//   rz:hosts             set of host ids that ever joined (at most kMaxHosts)
//   rz:host:<id>         hash: the relay's heartbeat and counters (see RelayHeartbeat)
//   rz:hostlock:<id>     "<nonce>", PX 15 s, refreshed by the relay: one join per host id
//   rz:epoch:<id>        counter: every join of host <id> takes the next value (INCR) as the
//                        epoch of its whole segment, so epochs of one host id never repeat,
//                        whatever run directory (and segment generation) the join uses
//
// A record message (XADD rz:records * v 1 host H epoch E lane L seq S rec BYTES):
//   v      protocol version (decimal)
//   host   the actor host's id: [A-Za-z0-9._-], 1..64 characters
//   epoch  the join's epoch (rz:epoch:<id>; its lanes' sequences restart per segment), < 2^32
//   lane   the lane on the actor host, < kMaxLanesPerHost
//   seq    the record's sequence number in that lane (0, 1, 2, ... per epoch), < 2^62
//   rec    the record, byte for byte as the actor committed it (common/trajectory.h)
// The identity of a record is (host, epoch, lane, seq); the ingest keeps every record once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/redis/redis_client.h"

namespace rz::redis {

constexpr int kProtocolVersion = 1;
inline constexpr const char* kProtocolKey = "rz:protocol";
inline constexpr const char* kConfigKey = "rz:config";
inline constexpr const char* kRecordStream = "rz:records";
inline constexpr const char* kIngestGroup = "ingest";
inline constexpr const char* kIngestConsumer = "ingest";
inline constexpr const char* kWeightsKey = "rz:weights";
inline constexpr const char* kHostsKey = "rz:hosts";
inline std::string host_key(const std::string& id) {
  return "rz:host:" + id;
}
inline std::string host_lock_key(const std::string& id) {
  return "rz:hostlock:" + id;
}
inline std::string epoch_key(const std::string& id) {
  return "rz:epoch:" + id;
}
// The ingest's dedup table holds this many host ids over the learner host's run (a join of a
// new id beyond it is refused up front), each with up to kMaxLanesPerHost lanes (an actor host
// has one lane per actor, at most 256).
constexpr uint32_t kMaxHosts = 64;
constexpr uint32_t kMaxLanesPerHost = 256;
// Bounds a message's numbers must keep (anything above is refused as malformed).
constexpr uint64_t kEpochLimit = 1ull << 32;
constexpr uint64_t kSeqLimit = 1ull << 62;
// The join's epoch lives in RUN/host.epoch for its segment's life (relay restarts keep it).
inline constexpr const char* kEpochFile = "host.epoch";
// How long a join's host-id claim lives without a refresh (the relay refreshes every second).
constexpr int kHostLockMs = 15000;
// The claim on rz:hostlock:<id>, as EVAL scripts (KEYS[1] the key, ARGV[1] the join's nonce):
// claim takes it, or refreshes it for the nonce that holds it, for ARGV[2] ms (1; 0 when
// another join holds it); release deletes it if the nonce still holds it. join claims
// first, its relay refreshes and, at its end, releases.
inline constexpr const char* kHostClaimScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == false or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) "
    "return 1 end return 0";
inline constexpr const char* kHostReleaseScript =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

// A parsed record message; `record` points into the reply it came from.
struct RecordMessage {
  std::string id;  // stream entry id
  int version = 0;
  std::string host;
  uint64_t epoch = 0;
  uint32_t lane = 0;
  uint64_t seq = 0;
  std::string_view record;
};

// Checks the envelope of one stream entry ([id, [field, value, ...]] as XREADGROUP returns
// it) and fills *out. Returns "" when every field is present once and well formed, else a
// one-line reason. The version is parsed, not compared: the caller counts another version
// apart from malformed messages. An entry deleted from the stream (nil fields) is malformed.
std::string parse_record_message(const Reply& entry, RecordMessage* out);

std::string check_host_id(const std::string& id);  // "" if valid, else the reason

// "HOST:PORT" -> host, port; throws std::invalid_argument with a one-line reason.
void parse_address(const std::string& text, std::string* host, int* port);

// Reads a shared secret: the file must exist, be private to its owner (no group/other
// permission bits: chmod 600), and hold 16..512 printable characters (a trailing newline is
// ignored). Throws std::runtime_error with a one-line reason and the fix.
std::string read_secret_file(const std::string& path);
// Writes a fresh random secret (32 bytes from /dev/urandom, hex) to `path`, mode 0600,
// atomically; returns it.
std::string generate_secret_file(const std::string& path);

// Strict decimal parse of a whole string (no sign, no spaces, no overflow).
bool parse_u64(std::string_view text, uint64_t* value);

}  // namespace rz::redis
