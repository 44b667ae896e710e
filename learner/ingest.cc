#include "learner/ingest.h"

#include "common/durable_file.h"
#include "common/file_lock.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/config_options.h"
#include "common/game.h"
#include "common/redis/redis_client.h"
#include "common/redis/redis_outage.h"
#include "common/redis/scale_protocol.h"
#include "common/role_process.h"
#include "common/stat_names.h"
#include "learner/ingest_state.h"
#include "learner/record_decode.h"
#include "shm/stats.h"
#include "shm/trajectory_ring.h"
#include "shm/weight_slot.h"

namespace rz {

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 256;
constexpr int kBlockMs = 100;

uint64_t unix_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

struct HostSeen {
  std::map<std::string, std::string> fields;  // the relay's last heartbeat hash
  std::string beat;                           // its heartbeat counter when last changed
  uint64_t seen_ms = 0;                       // our clock when it last changed
};

class Ingest {
 public:
  Ingest(shm::Segment& segment, const RunConfig& config, uint32_t lane, std::atomic<uint32_t>* stop)
      : segment_(segment),
        config_(config),
        stop_(stop),
        lane_(segment, lane),
        weights_(segment),
        stats_(segment, shm::Role::kIngest, 0),
        game_(make_game(config.game)),
        state_(config.run_dir + "/ingest.state", segment.control().generation.load(),
               lane_.next_sequence()),
        watcher_(segment, stop, say) {
    redis::parse_address(config.scale.serve, &host_, &port_);
    if (host_ == "0.0.0.0" || host_ == "::") host_ = "127.0.0.1";
    secret_ = redis::read_secret_file(config.scale.secret_file);
    m_ingested_ = stats_.metric(stat::ingest::kRecordsIngested);
    m_dups_ = stats_.metric(stat::ingest::kDuplicatesDropped);
    m_gaps_ = stats_.metric(stat::ingest::kSequenceGaps);
    m_malformed_ = stats_.metric(stat::ingest::kRefusedMalformed);
    m_version_ = stats_.metric(stat::ingest::kRefusedVersion);
    m_oversized_ = stats_.metric(stat::ingest::kRefusedOversized);
    m_invalid_ = stats_.metric(stat::ingest::kRefusedInvalid);
    m_full_ = stats_.metric(stat::ingest::kRefusedTableFull);
    m_epoch_ = stats_.metric(stat::ingest::kRefusedEpochLeap);
    m_reconnects_ = stats_.metric(stat::ingest::kRedisReconnects);
    m_weights_ = stats_.gauge(stat::ingest::kWeightVersion);
    m_connected_ = stats_.gauge(stat::ingest::kRedisConnected);
    sync_totals();
    if (state_.resolved_on_open())
      say("resumed a record the previous ingest had committed but not finished recording");
  }

  int run() {
    stats_.set_state(shm::ProcessState::kRunning);
    redis::RedisOutage outage(fmt::format("Redis at {}:{}", host_, port_), say);
    while (!stopping()) {
      stats_.heartbeat();
      if (!redis_ && !outage.connect([this] { connect(); })) {
        stats_.set_gauge(m_connected_, 0);
        sleep_for(outage.next_backoff());
        write_hosts_file();
        continue;
      }
      try {
        read_batch();
        publish_weights();
        if (Clock::now() - hosts_written_ > std::chrono::seconds(1)) {
          read_heartbeats();
          write_hosts_file();
        }
      } catch (const redis::RedisError& e) {
        outage.lost(fmt::format("{} (reconnecting)", e.what()));
        redis_.reset();
        stats_.add(m_reconnects_, 1);
        stats_.set_gauge(m_connected_, 0);
      }
    }
    if (redis_) {
      try {
        flush_acks();
      } catch (const redis::RedisError&) {
        // Not acknowledged: they come again to the next ingest, as duplicates.
      }
    }
    write_hosts_file();
    stats_.set_state(shm::ProcessState::kExited);
    return 0;
  }

 private:
  bool stopping() const { return watcher_.stopping(); }
  void sleep_for(std::chrono::milliseconds d) {
    const auto until = Clock::now() + d;
    while (!stopping() && Clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  // A connection is used only once every step below worked (a restarted Redis answers
  // "LOADING" while it reads its AOF): the first read on it is then always the pass over our
  // pending entries, which must come before any new ones (see read_batch()).
  void connect() {
    auto client = std::make_unique<redis::RedisClient>(host_, port_, secret_, 2000);
    redis::Reply r = client->command(
        {"XGROUP", "CREATE", redis::kRecordStream, redis::kIngestGroup, "0", "MKSTREAM"});
    if (r.is_error() && r.error().rfind("BUSYGROUP", 0) != 0)
      throw redis::RedisError("cannot create the ingest consumer group: " + r.error());
    const std::string version = std::to_string(redis::kProtocolVersion);
    client->command_ok({"SET", redis::kProtocolKey, version});
    // What a join takes over: the run's configuration (without this host's own settings).
    RunConfig shared = config_;
    shared.scale = ScaleConfig{};
    shared.run_dir.clear();
    shared.shm.name.clear();
    client->command_ok({"SET", redis::kConfigKey, to_ini(shared)});
    const redis::Reply v = client->command_ok({"HGET", redis::kWeightsKey, "version"});
    uint64_t have = 0;
    if (v.is_string()) redis::parse_u64(v.str(), &have);
    published_ = have;
    start_pending_pass();
    redis_ = std::move(client);
    stats_.set_gauge(m_connected_, 1);
  }

  // Reads our delivered-but-unacknowledged entries from the start, in id order, before any
  // new ones: after a (re)connection, and whenever a new entry would move a lane's sequence
  // or a host's epoch forward (see handle()).
  void start_pending_pass() {
    reading_pending_ = true;
    pending_from_ = "0";
  }

  void refuse(int metric, const std::string& kind, const std::string& id, const std::string& why) {
    stats_.add(metric, 1);
    int& n = logged_[kind];
    if (n < 3) {
      say(fmt::format("refused message {} ({}): {}{}", id, kind, why,
                      ++n == 3 ? " (further refusals of this kind are counted, not logged)" : ""));
    }
  }

  // Queues XACK + XDEL of the entries handled since the last call (in the lane, or refused for
  // good); returns how many commands it queued (0 or 2).
  int append_acks() {
    if (unacked_.empty()) return 0;
    std::vector<std::string_view> ack = {"XACK", redis::kRecordStream, redis::kIngestGroup};
    std::vector<std::string_view> del = {"XDEL", redis::kRecordStream};
    for (const std::string& id : unacked_) {
      ack.push_back(id);
      del.push_back(id);
    }
    redis_->append(ack);
    redis_->append(del);
    return 2;
  }
  void flush_acks() {
    const int n = append_acks();
    for (int i = 0; i < n; ++i) redis_->reply();
    unacked_.clear();
  }

  // The previous batch's XACK + XDEL travel in one pipeline with this batch's XREADGROUP: Redis
  // runs them in one pass of its event loop, where they share one AOF fsync (appendfsync
  // always fsyncs once per pass that wrote): half the ingest's fsyncs, and the relay's
  // batches get the disk more often. A crash before they run leaves the entries pending: they
  // come again and are duplicates (step 12 in docs/scale-out.md).
  void read_batch() {
    const std::string count = std::to_string(kBatch), block = std::to_string(kBlockMs);
    const int acks = append_acks();
    redis_->append({"XREADGROUP", "GROUP", redis::kIngestGroup, redis::kIngestConsumer, "COUNT",
                    count, "BLOCK", block, "STREAMS", redis::kRecordStream,
                    reading_pending_ ? pending_from_ : ">"});
    for (int i = 0; i < acks; ++i) redis_->reply();
    unacked_.clear();
    redis::Reply r = redis_->reply();
    if (r.is_error()) {
      // NOGROUP: the stream or group vanished (a Redis restarted without its AOF): recreate.
      throw redis::RedisError("XREADGROUP failed: " + r.error());
    }
    std::vector<std::string> done;
    size_t entries = 0;
    bool rescan = false;
    if (r.is_array() && r.size() == 1) {
      const redis::Reply list = r.element(0).element(1);
      entries = list.size();
      for (size_t i = 0; i < list.size() && !stopping(); ++i) {
        const Outcome o = handle(list.element(i), &done);
        if (o == Outcome::kStop) break;
        if (o == Outcome::kRescan) {
          rescan = true;  // this entry and the rest of the batch stay pending: read again
          break;
        }
        // Pending entries are read in id order from after the last one seen: one left
        // pending on purpose (table full) is not read again and again.
        const redis::Reply e = list.element(i);
        if (reading_pending_ && e.is_array() && e.size() >= 1 && e.element(0).is_string())
          pending_from_ = std::string(e.element(0).str());
      }
    }
    if (rescan) {
      start_pending_pass();
    } else if (reading_pending_ && entries == 0) {
      reading_pending_ = false;
      pending_scanned_ = Clock::now();
    } else if (!reading_pending_ && entries == 0 &&
               Clock::now() - pending_scanned_ > std::chrono::seconds(5)) {
      // Idle: look at our pending entries again. An XREADGROUP of a connection we already
      // gave up on (timed out while Redis was slow or frozen) may still have been executed
      // after our new connection's pending pass: its entries were delivered to nobody.
      start_pending_pass();
    }
    unacked_ = std::move(done);  // acknowledged with the next read (or at the stop)
  }

  // kRescan: the entry is left pending and read again in a pass over the pending entries.
  enum class Outcome { kDone, kStop, kRescan };

  // A message that can never become valid: counted by reason, logged (refuse()), acknowledged
  // and deleted with the batch.
  Outcome drop(int metric, const std::string& kind, const std::string& id, const std::string& why,
               std::vector<std::string>* done) {
    refuse(metric, kind, id, why);
    done->push_back(id);
    return Outcome::kDone;
  }

  Outcome handle(const redis::Reply& entry, std::vector<std::string>* done) {
    redis::RecordMessage m;
    const std::string bad = redis::parse_record_message(entry, &m);
    if (m.id.empty()) return Outcome::kDone;  // not even an id: nothing to acknowledge
    if (!bad.empty()) return drop(m_malformed_, "malformed", m.id, bad, done);
    if (m.version != redis::kProtocolVersion)
      return drop(m_version_, "other protocol version", m.id,
                  fmt::format("protocol version {} from host {}, this learner host speaks {}: run "
                              "the same ringzero build on every host",
                              m.version, m.host, redis::kProtocolVersion),
                  done);
    if (m.record.empty() || m.record.size() > segment_.sizes().max_record_bytes)
      return drop(
          m_oversized_, "oversized", m.id,
          fmt::format("record of {} bytes from host {} (allowed 1 to shm.max_record_bytes = {})",
                      m.record.size(), m.host, segment_.sizes().max_record_bytes),
          done);
    if (!decode_record(*game_, reinterpret_cast<const uint8_t*>(m.record.data()), m.record.size(),
                       &decoded_, &decode_error_))
      return drop(
          m_invalid_, "invalid record", m.id,
          fmt::format("host {} lane {} sequence {}: {}", m.host, m.lane, m.seq, decode_error_),
          done);
    uint64_t gap = 0;
    uint32_t handle = 0;
    // A new entry (not from the pending pass) that would skip sequences or start a host's new
    // epoch is taken only after a pass over the pending entries: the entries it would skip may
    // sit there, delivered to this consumer but never read (an XREADGROUP of a connection we
    // gave up on, executed by Redis later). Taken before them, they would count as duplicates.
    switch (state_.check(m.host, m.epoch, m.lane, m.seq, /*may_advance=*/reading_pending_, &gap,
                         &handle)) {
      case IngestState::Verdict::kHold:
        return Outcome::kRescan;
      case IngestState::Verdict::kDuplicate:
        state_.count_duplicate(m.host);
        stats_.add(m_dups_, 1);
        done->push_back(m.id);
        return Outcome::kDone;
      case IngestState::Verdict::kTableFull:
        // Not acknowledged: the record stays pending in the stream (nothing lost); a join of
        // a new host beyond the table is refused up front, so only a join racing another gets
        // here.
        refuse(m_full_, "host table full", m.id,
               fmt::format("host {}: the ingest tracks at most {} hosts; the record stays pending "
                           "in Redis: start a new run for more hosts",
                           m.host, IngestState::kMaxHosts));
        return Outcome::kDone;
      case IngestState::Verdict::kEpochJump:
        return drop(m_epoch_, "epoch leap", m.id,
                    fmt::format("host {} epoch {} is more than {} epochs ahead of its newest: not "
                                "a relay of this run",
                                m.host, m.epoch, IngestState::kMaxEpochJump),
                    done);
      case IngestState::Verdict::kAccept:
        break;
    }
    if (gap > 0) {
      say(fmt::format("sequence gap: host {} epoch {} lane {} jumped to {} ({} missing)", m.host,
                      m.epoch, m.lane, m.seq, gap));
    }
    uint8_t* dst = lane_.reserve(m.record.size(), stop_);  // the supervisor's stop sends SIGTERM
    if (!dst) return Outcome::kStop;  // stopping while the lane was full: not acknowledged
    std::memcpy(dst, m.record.data(), m.record.size());
    state_.prepare(handle, m.seq, gap, lane_.next_sequence());
    lane_.commit();
    state_.finish();
    stats_.add(m_ingested_, 1);
    if (gap) stats_.add(m_gaps_, gap);
    done->push_back(m.id);
    return Outcome::kDone;
  }

  void sync_totals() {
    // The per-process counters restart from the state file's totals after a restart.
    uint64_t ingested = 0, dups = 0, gaps = 0;
    for (const IngestHostCounters& h : state_.hosts()) {
      ingested += h.ingested;
      dups += h.duplicates;
      gaps += h.gaps;
    }
    stats_.set(m_ingested_, ingested);
    stats_.set(m_dups_, dups);
    stats_.set(m_gaps_, gaps);
  }

  void publish_weights() {
    if (weights_.latest_version() <= published_) return;
    uint64_t tag = 0;
    const uint64_t v = weights_.read_if_newer(published_, &blob_, &tag);
    if (v == 0) return;
    const std::string vs = std::to_string(v), ts = std::to_string(tag);
    const redis::Reply r = redis_->command(
        {"HSET", redis::kWeightsKey, "version", vs, "tag", ts, "blob",
         std::string_view(reinterpret_cast<const char*>(blob_.data()), blob_.size())});
    if (r.is_error()) throw redis::RedisError("HSET rz:weights failed: " + r.error());
    published_ = v;
    stats_.set_gauge(m_weights_, static_cast<double>(v));
  }

  void read_heartbeats() {
    const redis::Reply ids = redis_->command({"SMEMBERS", redis::kHostsKey});
    for (size_t i = 0; i < ids.size() && i < IngestState::kMaxHosts; ++i) {
      const std::string id(ids.element(i).str());
      const redis::Reply h = redis_->command({"HGETALL", redis::host_key(id)});
      HostSeen& seen = seen_[id];
      seen.fields.clear();
      for (size_t k = 0; k + 1 < h.size(); k += 2)
        seen.fields[std::string(h.element(k).str())] = std::string(h.element(k + 1).str());
      const std::string beat = seen.fields["beat"];
      if (beat != seen.beat) {
        seen.beat = beat;
        seen.seen_ms = unix_ms();
      }
    }
  }

  // RUN/hosts: the monitor's view of the actor hosts (launch/run_snapshot.cc reads it).
  //   ringzero-hosts 1 <written unix ms> <redis connected 0|1>
  //   <host id> <actors> <heartbeat unix ms> <epoch> <ingested> <duplicates> <gaps>
  //   <weight version> <records sent> <records acked>          (one line per host)
  // heartbeat unix ms is OUR clock when the relay's heartbeat counter last changed, so clocks
  // of other machines never matter.
  void write_hosts_file() {
    hosts_written_ = Clock::now();
    std::map<std::string, IngestHostCounters> counters;
    for (const IngestHostCounters& c : state_.hosts()) counters[c.host_id] = c;
    for (const auto& s : seen_) counters[s.first].host_id = s.first;
    std::string text = fmt::format("ringzero-hosts 1 {} {}\n", unix_ms(), redis_ ? 1 : 0);
    for (const auto& [id, c] : counters) {
      auto it = seen_.find(id);
      auto field = [&](const char* name) -> uint64_t {
        uint64_t v = 0;
        if (it != seen_.end()) {
          auto f = it->second.fields.find(name);
          if (f != it->second.fields.end()) redis::parse_u64(f->second, &v);
        }
        return v;
      };
      text += fmt::format("{} {} {} {} {} {} {} {} {} {}\n", id, field("actors"),
                          it != seen_.end() ? it->second.seen_ms : 0, c.epoch, c.ingested,
                          c.duplicates, c.gaps, field("weight_version"), field("records_sent"),
                          field("records_acked"));
    }
    const std::string path = config_.run_dir + "/hosts";
    try {
      write_file_durably(path, text);
    } catch (const DurableWriteError&) {
      // Only the monitor reads it; the next refresh tries again.
    }
  }

  shm::Segment& segment_;
  const RunConfig& config_;
  std::atomic<uint32_t>* stop_;
  shm::LaneWriter lane_;
  shm::WeightSlot weights_;
  shm::StatsWriter stats_;
  std::unique_ptr<Game> game_;
  IngestState state_;
  std::string host_, secret_;
  int port_ = 0;
  std::unique_ptr<redis::RedisClient> redis_;
  bool reading_pending_ = true;
  std::string pending_from_ = "0";       // XREADGROUP id while reading_pending_
  std::vector<std::string> unacked_;     // handled entries, acknowledged with the next read
  Clock::time_point pending_scanned_{};  // when the last pass over pending entries ended
  uint64_t published_ = 0;
  std::vector<uint8_t> blob_;
  FinishedGame decoded_;
  std::string decode_error_;
  std::map<std::string, int> logged_;
  std::map<std::string, HostSeen> seen_;
  Clock::time_point hosts_written_{};
  int m_ingested_, m_dups_, m_gaps_, m_malformed_, m_version_, m_oversized_, m_invalid_, m_full_,
      m_epoch_, m_reconnects_, m_weights_, m_connected_;
  RunWatcher watcher_;  // the stop word (SIGTERM), the run's stop flag, its creator's death
};

// One ingest uses RUN/ingest.state at a time: an ingest left by a SIGKILLed supervisor (SIGTERM
// from the kernel) may still be finishing a record when `start --resume` starts the next one.
// The newcomer waits for it, bounded, before it opens the table.
std::unique_ptr<FileLock> lock_ingest_state(const RunConfig& config) {
  return FileLock::acquire_for_role(config.run_dir + "/ingest.lock", std::chrono::seconds(30),
                                    "ingest", config.run_dir + "/ingest.state", config.run_dir,
                                    say);
}

}  // namespace

int run_ingest(const RunConfig& config, uint32_t lane, std::atomic<uint32_t>* stop) {
  if (config.scale.serve.empty())
    throw std::runtime_error(
        "scale.serve is empty: the ingest runs only on a learner host "
        "started with --serve HOST:PORT");
  const std::unique_ptr<FileLock> state_lock = lock_ingest_state(config);
  const std::unique_ptr<shm::Segment> segment = shm::Segment::open(config.shm.name);
  Ingest ingest(*segment, config, lane, stop);
  return ingest.run();
}

}  // namespace rz
