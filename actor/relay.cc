#include "actor/relay.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/redis/redis_client.h"
#include "common/redis/redis_outage.h"
#include "common/redis/scale_protocol.h"
#include "common/role_process.h"
#include "common/stat_names.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

namespace rz {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kBatchRecords = 256;
constexpr size_t kBatchBytes = 4u << 20;
constexpr long long kMaxBacklog = 200000;
constexpr auto kDrainLimit = std::chrono::seconds(8);

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

class Relay {
 public:
  Relay(shm::Segment& segment, const RunConfig& config, std::atomic<uint32_t>* interrupted)
      : segment_(segment),
        config_(config),
        reader_(segment),
        weights_(segment),
        stats_(segment, shm::Role::kRelay, 0),
        watcher_(segment, interrupted, say) {
    redis::parse_address(config.scale.learner, &host_, &port_);
    secret_ = redis::read_secret_file(config.scale.secret_file);
    const std::string bad = redis::check_host_id(config.scale.host_id);
    if (!bad.empty())
      throw std::runtime_error("scale.host_id '" + config.scale.host_id + "': " + bad);
    nonce_ = read_line(config.run_dir + "/host.nonce");
    if (nonce_.empty())
      throw std::runtime_error(
          fmt::format("{}/host.nonce is missing: start the actor host with "
                      "launch.sh join",
                      config.run_dir));
    // The join's epoch (rz:epoch:<id>, taken by `join` before this segment's supervisor
    // started): unique per host id, and the same for every relay of this segment.
    uint64_t epoch = 0;
    const std::string epoch_file = config.run_dir + "/" + redis::kEpochFile;
    if (!redis::parse_u64(read_line(epoch_file), &epoch) || epoch == 0 ||
        epoch >= redis::kEpochLimit)
      throw std::runtime_error(
          fmt::format("{} is missing or not an epoch: start the actor host "
                      "with launch.sh join",
                      epoch_file));
    epoch_ = std::to_string(epoch);
    m_sent_ = stats_.metric(stat::relay::kRecordsSent);
    m_acked_ = stats_.metric(stat::relay::kRecordsAcked);
    m_resends_ = stats_.metric(stat::relay::kResends);
    m_reconnects_ = stats_.metric(stat::relay::kReconnects);
    m_committed_ = stats_.gauge(stat::relay::kLaneCommitted);
    m_released_ = stats_.gauge(stat::relay::kLaneReleased);
    m_reachable_ = stats_.gauge(stat::relay::kLearnerReachable);
    m_version_ = stats_.gauge(stat::relay::kWeightVersion);
    have_version_ = weights_.latest_version();
  }

  int run() {
    stats_.set_state(shm::ProcessState::kRunning);
    redis::RedisOutage outage(fmt::format("the learner host at {}:{}", host_, port_), say);
    std::optional<Clock::time_point> drain_since;
    while (true) {
      stats_.heartbeat();
      update_lane_totals();
      if (stopping() && !drain_since) drain_since = Clock::now();
      if (drain_since && (drained() || Clock::now() - *drain_since > kDrainLimit)) break;
      if (!redis_ && !outage.connect([this] { connect(); })) {
        stats_.set_gauge(m_reachable_, 0);
        pause(outage.next_backoff());
        continue;
      }
      try {
        if (Clock::now() - beat_at_ >= std::chrono::seconds(1)) heartbeat();
        if (Clock::now() - weights_at_ >= std::chrono::milliseconds(200)) poll_weights();
        size_t sent = 0;
        if (claimed_ && !backlogged_) sent = send_batch();
        if (sent == 0) {
          if (claimed_ && !backlogged_)
            reader_.wait(std::chrono::milliseconds(50));
          else
            pause(std::chrono::milliseconds(200));
        }
      } catch (const redis::RedisError& e) {
        outage.lost(
            fmt::format("{} (reconnecting; unacknowledged records stay in their lanes)", e.what()));
        drop_connection();
      }
    }
    update_lane_totals();
    if (redis_) {
      try {
        heartbeat();
        redis_->command({"EVAL", redis::kHostReleaseScript, "1",
                         redis::host_lock_key(config_.scale.host_id), nonce_});
      } catch (const redis::RedisError&) {
      }
    }
    const uint64_t committed = stats_.get(m_committed_), released = stats_.get(m_released_);
    say(
        fmt::format("relay stopped (epoch {}): lanes committed {} records, released {} (sent and "
                    "acknowledged)",
                    epoch_, committed, released));
    if (committed > released) {
      say(
          fmt::format("warning: {} records were not sent (the learner host was unreachable for the "
                      "whole stop grace): they stay in this segment until it is removed",
                      committed - released));
    }
    stats_.set_state(shm::ProcessState::kExited);
    return 0;
  }

 private:
  bool stopping() const { return watcher_.stopping(); }
  // Not cut short by a stop: after one the relay still drains (see run()).
  static void pause(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }
  // Every actor gone and every committed record sent and acknowledged.
  bool drained() {
    for (const shm::LaneStatus& l : shm::lane_status(segment_)) {
      if (l.owner_alive || l.records_committed != l.records_consumed) return false;
    }
    return true;
  }
  void update_lane_totals() {
    uint64_t committed = 0, released = 0;
    for (const shm::LaneStatus& l : shm::lane_status(segment_)) {
      committed += l.records_committed;
      released += l.records_consumed;
    }
    stats_.set(m_committed_, committed);
    stats_.set(m_released_, released);
  }

  void drop_connection() {
    redis_.reset();
    reader_.rewind();  // what was sent but not acknowledged is sent again
    stats_.add(m_reconnects_, 1);
    stats_.set_gauge(m_reachable_, 0);
    claimed_ = false;
  }

  // The connection is kept only once every step worked, the host claim included (a restarted
  // Redis answers "LOADING" while it reads its AOF).
  void connect() {
    auto client = std::make_unique<redis::RedisClient>(host_, port_, secret_, 5000);
    const redis::Reply p = client->command_ok({"GET", redis::kProtocolKey});
    if (p.is_string() && p.str() != std::to_string(redis::kProtocolVersion)) {
      throw redis::RedisError(
          fmt::format("the learner host speaks protocol {} and this relay {}: "
                      "run the same ringzero build on every host",
                      p.str(), redis::kProtocolVersion));
    }
    redis_ = std::move(client);
    try {
      heartbeat();
    } catch (const redis::RedisError&) {
      redis_.reset();
      throw;
    }
    stats_.set_gauge(m_reachable_, 1);
  }

  void heartbeat() {
    beat_at_ = Clock::now();
    const std::string key = redis::host_lock_key(config_.scale.host_id);
    const redis::Reply c = redis_->command_ok(
        {"EVAL", redis::kHostClaimScript, "1", key, nonce_, std::to_string(redis::kHostLockMs)});
    const bool claimed = c.is_integer() && c.integer() == 1;
    if (!claimed && claimed_ != claimed) {
      say(
          fmt::format("host id '{}' is held by another join: not sending until it is free (give "
                      "this host another --host-id)",
                      config_.scale.host_id));
    }
    claimed_ = claimed;
    const redis::Reply len = redis_->command_ok({"XLEN", redis::kRecordStream});
    const bool backlogged = len.integer() > kMaxBacklog;
    if (backlogged != backlogged_)
      say(backlogged ? "the learner host's stream is full (its ingest is behind or down): holding "
                       "records in the lanes"
                     : "the learner host's stream has room again: sending");
    backlogged_ = backlogged;
    ++beats_;
    uint32_t actors = 0;
    for (const shm::LaneStatus& l : shm::lane_status(segment_)) actors += l.owner_alive ? 1 : 0;
    if (!claimed_) return;
    redis_->append({"SADD", redis::kHostsKey, config_.scale.host_id});
    redis_->append({"HSET", redis::host_key(config_.scale.host_id), "beat", std::to_string(beats_),
                    "actors", std::to_string(actors), "pid", std::to_string(::getpid()), "epoch",
                    epoch_, "weight_version", std::to_string(have_version_), "records_sent",
                    std::to_string(stats_.get(m_sent_)), "records_acked",
                    std::to_string(stats_.get(m_acked_))});
    redis_->reply();
    redis_->reply();
  }

  void poll_weights() {
    weights_at_ = Clock::now();
    const redis::Reply v = redis_->command({"HGET", redis::kWeightsKey, "version"});
    uint64_t version = 0;
    if (!v.is_string() || !redis::parse_u64(v.str(), &version) || version <= have_version_) return;
    const redis::Reply all =
        redis_->command({"HMGET", redis::kWeightsKey, "version", "tag", "blob"});
    uint64_t tag = 0;
    if (all.size() != 3 || !redis::parse_u64(all.element(0).str(), &version) ||
        !redis::parse_u64(all.element(1).str(), &tag) || !all.element(2).is_string())
      return;
    const std::string_view blob = all.element(2).str();
    if (blob.size() > weights_.capacity()) {
      if (!weights_too_big_logged_)
        say(
            fmt::format("weights version {} are {} bytes, the local slot holds {}: the hosts' "
                        "configurations differ; rejoin",
                        version, blob.size(), weights_.capacity()));
      weights_too_big_logged_ = true;
      return;
    }
    weights_.publish(blob.data(), blob.size(), tag, version);
    have_version_ = weights_.latest_version();
    stats_.set_gauge(m_version_, static_cast<double>(have_version_));
  }

  // One pipelined batch, as one transaction: MULTI, XADD each record read ahead, EXEC; then
  // wait for every reply, then release. MULTI/EXEC makes a refusal (out of memory, a
  // read-only replica...) refuse the whole batch: a refused record is never followed in the
  // stream by an accepted later one of its lane, so the resend is not a permanent gap (the
  // ingest would count it a duplicate of that later sequence).
  size_t send_batch() {
    struct InFlight {
      uint32_t lane;
      uint64_t seq;
    };
    std::vector<InFlight> batch;
    size_t bytes = 0;
    const std::string version = std::to_string(redis::kProtocolVersion);
    while (batch.size() < kBatchRecords && bytes < kBatchBytes) {
      auto r = reader_.read_ahead();
      if (!r) break;
      if (batch.empty()) redis_->append({"MULTI"});
      const std::string lane = std::to_string(r->lane), seq = std::to_string(r->sequence);
      redis_->append({"XADD", redis::kRecordStream, "*", "v", version, "host",
                      config_.scale.host_id, "epoch", epoch_, "lane", lane, "seq", seq, "rec",
                      std::string_view(reinterpret_cast<const char*>(r->data), r->size)});
      batch.push_back({r->lane, r->sequence});
      bytes += r->size;
    }
    if (batch.empty()) return 0;
    redis_->append({"EXEC"});
    stats_.add(m_sent_, batch.size());
    bool all_ok = true;
    std::string error;
    // MULTI's +OK and one +QUEUED (or a queueing error, which makes EXEC abort) per XADD.
    for (size_t i = 0; i < batch.size() + 1; ++i) {
      const redis::Reply reply = redis_->reply();
      if (reply.is_error()) {
        all_ok = false;
        error = reply.error();
      }
    }
    // EXEC: an array of the XADD replies, or an error (EXECABORT) when nothing was added.
    const redis::Reply exec = redis_->reply();
    if (exec.is_error()) {
      all_ok = false;
      error = exec.error();
    } else if (!exec.is_array() || exec.size() != batch.size()) {
      all_ok = false;
      error = "EXEC gave no reply per record";
    } else {
      for (size_t i = 0; i < exec.size(); ++i) {
        if (exec.element(i).is_error()) {
          all_ok = false;
          error = exec.element(i).error();
        }
      }
    }
    if (!all_ok) {
      // The server refused (out of memory, a read-only replica...): nothing is released; the
      // batch goes again after a pause.
      say(fmt::format("the learner host refused records ({}): keeping them in the lanes", error));
      reader_.rewind();
      stats_.add(m_resends_, batch.size());
      pause(std::chrono::milliseconds(500));
      return 0;
    }
    // Every XADD answered, so every record is in the learner host's AOF: release them, the
    // last one of each lane frees its whole prefix.
    std::vector<uint64_t> last(segment_.sizes().lanes, ~0ull);
    for (const InFlight& f : batch) last[f.lane] = f.seq;
    for (uint32_t l = 0; l < last.size(); ++l)
      if (last[l] != ~0ull) reader_.release_through(l, last[l]);
    stats_.add(m_acked_, batch.size());
    return batch.size();
  }

  shm::Segment& segment_;
  const RunConfig& config_;
  shm::RingReader reader_;
  shm::WeightSlot weights_;
  shm::StatsWriter stats_;
  std::string host_, secret_, nonce_, epoch_;
  int port_ = 0;
  std::unique_ptr<redis::RedisClient> redis_;
  bool claimed_ = false, backlogged_ = false, weights_too_big_logged_ = false;
  uint64_t have_version_ = 0, beats_ = 0;
  Clock::time_point beat_at_{}, weights_at_{};
  int m_sent_, m_acked_, m_resends_, m_reconnects_, m_committed_, m_released_, m_reachable_,
      m_version_;
  RunWatcher watcher_;  // the stop word (SIGTERM), the run's stop flag, its creator's death
};

}  // namespace

int run_relay(const RunConfig& config, std::atomic<uint32_t>* interrupted) {
  if (config.scale.learner.empty())
    throw std::runtime_error(
        "scale.learner is empty: the relay runs only on an actor host "
        "started with launch.sh join --learner HOST:PORT");
  const std::unique_ptr<shm::Segment> segment = shm::Segment::open(config.shm.name);
  Relay relay(*segment, config, interrupted);
  return relay.run();
}

}  // namespace rz
