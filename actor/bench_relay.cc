// ringzero-bench-relay: records/s and MB/s through the scale-out data plane, relay -> Redis ->
// ingest, next to its physical reference measured in the same run against the same server:
// raw pipelined XADD of the same messages (the redis-benchmark -P style upper bound of what
// one client can push into that stream: the fastest of pipelines of 16, 64 and 256, each
// plain and wrapped in MULTI/EXEC). Why both: with appendfsync always, Redis fsyncs its AOF
// once per pass of its event loop that wrote something, and one pass reads at most 16 KiB of
// a client's pipeline, so a plain pipeline of 256 Connect Four records costs ~8 fsyncs; in
// MULTI/EXEC the writes reach the AOF together at EXEC, one fsync per batch. The relay sends
// MULTI/EXEC batches, so only a reference given the same grouping is a fair upper bound.
//
//   ringzero-bench-relay [--json] [--records N]
//
// Real processes and real things only: a redis-server with the learner host's own
// configuration (appendfsync always), the real ringzero-relay and ringzero-ingest binaries,
// two real segments (an actor host's and a learner host's), real self-play records (Connect
// Four, ~500 bytes; dots and boxes 5x5), which the ingest validates exactly as in a run. This
// process plays the actor (writes the records into the actor host's lane as fast as the lane takes
// them) and the learner (drains the learner host's ring); the time is from the first write to the
// last record drained. Cases: Connect Four records (~500 B), the largest records a game here makes
// (dots and boxes 5x5, 200 simulations), and 64 KiB opaque records relay -> Redis only (see
// run_case). CPU microseconds per record of the relay and the ingest come from /proc/<pid>/stat.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/config.h"
#include "common/config_options.h"
#include "common/error.h"
#include "common/format_join.h"
#include "common/game.h"
#include "common/mcts/rollout_evaluator.h"
#include "common/mcts/selfplay.h"
#include "common/redis/redis_client.h"
#include "common/redis/scale_protocol.h"
#include "common/trajectory.h"
#include "launch/scale_setup.h"
#include "launch/segment_sizes.h"
#include "shm/segment.h"
#include "shm/trajectory_ring.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string self_dir() {
  return fs::canonical("/proc/self/exe").parent_path().string();
}

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
}

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  double ut = 0, st = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) ut = std::stod(field);
    if (i == 15) st = std::stod(field);
  }
  return (ut + st) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown";
}

std::vector<std::vector<uint8_t>> real_records(const std::string& spec, int sims, int want,
                                               size_t min_bytes) {
  const auto game = rz::make_game(spec);
  rz::RolloutEvaluator evaluator(*game, 1);
  rz::MctsConfig mcts;
  mcts.simulations = sims;
  rz::SelfPlayDriver driver(*game, evaluator, mcts, 8, 1);
  const rz::TrajectoryOrigin origin{rz::game_spec_hash(game->spec()), 0, 0};
  std::vector<std::vector<uint8_t>> out;
  std::vector<rz::FinishedGame> games;
  while (static_cast<int>(out.size()) < want) {
    games.clear();
    driver.run_round(&games);
    for (const auto& g : games) {
      std::vector<uint8_t> r;
      rz::encode_trajectory(g, origin, &r);
      if (r.size() >= min_bytes) out.push_back(std::move(r));
    }
  }
  return out;
}

struct Case {
  std::string name, spec;
  double record_bytes = 0;
  uint64_t records = 0;
  double relay_records_per_s = 0, relay_mb_per_s = 0;
  double relay_cpu_us = 0, ingest_cpu_us = 0;
  bool spec_has_ingest = true;
  // The references: [0] plain pipelined XADD (redis-benchmark -P style: the floor's), [1] the
  // same batches in MULTI/EXEC (the relay's grouping). Records/s and the best pipeline.
  double raw_records_per_s[2] = {0, 0};
  uint64_t raw_pipeline[2] = {0, 0};
};

int wait_for_redis(int port, const std::string& secret) {
  for (int i = 0; i < 200; ++i) {
    try {
      rz::redis::RedisClient c("127.0.0.1", port, secret, 500);
      return 0;
    } catch (const rz::redis::RedisError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  throw std::runtime_error("redis-server did not come up");
}

// raw_bytes > 0: records of that many opaque bytes, and no ingest (it would refuse them: no
// game makes records that large); the time then ends when the relay has released the last
// record, i.e. when Redis acknowledged it durably.
Case run_case(const std::string& name, const std::string& spec, int sims, size_t raw_bytes,
              uint64_t n, const std::string& base) {
  Case c;
  c.name = name;
  c.spec = spec;
  std::vector<std::vector<uint8_t>> records;
  if (raw_bytes > 0) {
    for (int i = 0; i < 4; ++i) records.emplace_back(raw_bytes, static_cast<uint8_t>(i * 37 + 1));
  } else {
    records = real_records(spec, sims, 16, 0);
  }
  double bytes = 0;
  for (const auto& r : records) bytes += static_cast<double>(r.size());
  c.record_bytes = bytes / records.size();
  c.records = n;

  // The learner host: config, secret, redis-server exactly as the supervisor starts it.
  const std::string learn = base + "/" + name + "-learn", join = base + "/" + name + "-join";
  fs::create_directories(learn + "/logs");
  fs::create_directories(join + "/logs");
  rz::RunConfig config;
  config.game = rz::make_game(spec)->spec();
  config.shm.max_record_bytes = 1u << 20;
  config.shm.lane_bytes = 16u << 20;
  config.learner.replay_positions = 1000;
  config.learner.min_replay = 100;
  const int port = rz::redis::free_loopback_port();
  config.scale.serve = fmt::format("127.0.0.1:{}", port);
  config.scale.secret_file = learn + "/secret";
  const std::string secret = rz::redis::generate_secret_file(config.scale.secret_file);
  config.run_dir = learn;
  const auto game = rz::make_game(config.game);
  const std::string conf =
      rz::launch::write_redis_config(config, rz::launch::RunDir(learn), 1u << 20);
  const pid_t redis = spawn({rz::launch::redis_server_binary(), conf}, learn + "/logs/redis.log");
  wait_for_redis(port, secret);

  // Reference: raw pipelined XADD of the same messages, same batch (256 records or 4 MiB,
  // like the relay), measured before AND after the relay path; the better of the two is the
  // reference (the disk under the AOF is shared with whatever else the machine does).
  auto raw_rate = [&](uint64_t pipeline, bool transaction) {
    rz::redis::RedisClient r("127.0.0.1", port, secret, 30000);
    const auto start = Clock::now();
    uint64_t sent = 0;
    while (sent < n) {
      uint64_t batch = 0;
      size_t batch_bytes = 0;
      if (transaction) r.append({"MULTI"});
      while (batch < pipeline && batch_bytes < (4u << 20) && sent + batch < n) {
        const auto& rec = records[(sent + batch) % records.size()];
        const std::string seq = std::to_string(sent + batch);
        r.append({"XADD", "bench:raw", "*", "v", "1", "host", "bench", "epoch", "1", "lane", "0",
                  "seq", seq, "rec",
                  std::string_view(reinterpret_cast<const char*>(rec.data()), rec.size())});
        ++batch;
        batch_bytes += rec.size();
      }
      if (transaction) r.append({"EXEC"});
      // Plain: one reply per XADD. MULTI/EXEC: +OK, one +QUEUED per XADD, then EXEC's array.
      for (uint64_t i = 0; i < batch + (transaction ? 2 : 0); ++i) {
        if (r.reply().is_error()) throw std::runtime_error("the raw XADD reference was refused");
      }
      sent += batch;
    }
    const double rate = n / std::chrono::duration<double>(Clock::now() - start).count();
    r.command({"DEL", "bench:raw"});
    return rate;
  };
  // Pipelines of 16, 64 and 256 commands, plain and in MULTI/EXEC: each reference is the
  // fastest of its pipelines, so a batch size that happens to suit this server's fsync pattern
  // is not held against it.
  for (int t = 0; t < 2; ++t) {
    for (uint64_t p : {16, 64, 256}) {
      const double r = raw_rate(p, t == 1);
      if (r > c.raw_records_per_s[t]) {
        c.raw_records_per_s[t] = r;
        c.raw_pipeline[t] = p;
      }
    }
  }

  // The two segments, as the two supervisors make them.
  config.launch.actors = 1;
  const std::string lname = rz::default_shm_name(learn), jname = rz::default_shm_name(join);
  config.shm.name = lname;
  auto lseg = rz::shm::Segment::create(
      lname, rz::launch::segment_sizes_for(config, *game, 2),
      fmt::format("game={}\nrun_dir={}\ningest_lane=1\n", config.game, learn));
  lseg->control().generation.store(1);
  rz::write_config_atomically(config, learn + "/config.ini");
  rz::RunConfig jconfig = config;
  jconfig.run_dir = join;
  jconfig.shm.name = jname;
  jconfig.scale = rz::ScaleConfig{};
  jconfig.scale.learner = config.scale.serve;
  jconfig.scale.secret_file = config.scale.secret_file;
  jconfig.scale.host_id = "bench";
  auto jseg = rz::shm::Segment::create(jname, rz::launch::segment_sizes_for(jconfig, *game, 1),
                                       fmt::format("game={}\nrun_dir={}\n", config.game, join));
  jseg->control().generation.store(1);
  rz::write_config_atomically(jconfig, join + "/config.ini");
  { std::ofstream(join + "/host.nonce") << "bench-nonce\n"; }
  // The join's epoch (launch.sh join takes it from rz:epoch:<id>; one host, one join here).
  { std::ofstream(join + "/" + rz::redis::kEpochFile) << "1\n"; }

  const std::string bin = self_dir();
  const pid_t ingest =
      raw_bytes > 0 ? -1
                    : spawn({bin + "/../learner/ringzero-ingest", "--shm", lname, "--run-dir",
                             learn, "--config", learn + "/config.ini", "--lane", "1"},
                            learn + "/logs/ingest.log");
  const pid_t relay = spawn({bin + "/ringzero-relay", "--shm", jname, "--run-dir", join, "--config",
                             join + "/config.ini"},
                            join + "/logs/relay.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // both connected
  const double relay_cpu0 = cpu_seconds(relay), ingest_cpu0 = ingest > 0 ? cpu_seconds(ingest) : 0;

  auto learner = std::make_unique<rz::shm::RingReader>(*lseg);
  std::atomic<bool> done{false};
  const auto start = Clock::now();
  std::thread actor([&] {
    rz::shm::LaneWriter lane(*jseg, 0);
    for (uint64_t i = 0; i < n && !done; ++i) {
      const auto& rec = records[i % records.size()];
      if (!lane.write(rec.data(), rec.size())) break;  // no stop flag: never false
    }
  });
  uint64_t got = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  while (raw_bytes > 0 && got < n && Clock::now() < deadline) {
    got = rz::shm::lane_status(*jseg)[0].records_consumed;  // released = acknowledged by Redis
    if (got < n) std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  while (got < n && Clock::now() < deadline) {
    if (auto r = learner->peek()) {
      learner->release(*r);
      ++got;
    } else {
      learner->wait(std::chrono::milliseconds(50));
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  jseg->control().request_stop();
  actor.join();
  const double relay_cpu = cpu_seconds(relay) - relay_cpu0;
  for (int t = 0; t < 2 && got >= n; ++t)
    c.raw_records_per_s[t] = std::max(c.raw_records_per_s[t], raw_rate(c.raw_pipeline[t], t == 1));
  const double ingest_cpu = ingest > 0 ? cpu_seconds(ingest) - ingest_cpu0 : 0;
  stop(relay);
  stop(ingest);
  stop(redis);
  learner.reset();  // before its segment
  jseg.reset();
  lseg.reset();
  rz::shm::Segment::remove(jname);
  rz::shm::Segment::remove(lname);
  if (got < n)
    throw std::runtime_error(
        fmt::format("{}: only {} of {} records arrived in 120 s; see {}", name, got, n, base));
  c.relay_records_per_s = n / seconds;
  c.relay_mb_per_s = n * c.record_bytes / seconds / 1e6;
  c.relay_cpu_us = relay_cpu / n * 1e6;
  c.ingest_cpu_us = ingest_cpu / n * 1e6;
  c.spec_has_ingest = ingest > 0;
  return c;
}

int run(int argc, char** argv) {
  rz::RoleOptions role("bench-relay", "ringzero-bench-relay [--json] [--records N]");
  role.flags.add_options()("json", po::bool_switch(), "one JSON object on stdout")(
      "records", po::value<uint64_t>()->default_value(20000), "records per case");
  po::variables_map flags;
  rz::parse_config_or_exit(argc, argv, role, &flags);
  const uint64_t n = flags["records"].as<uint64_t>();
  char pattern[] = "/tmp/rz-bench-relay-XXXXXX";
  const std::string base = ::mkdtemp(pattern);
  std::vector<Case> cases;
  cases.push_back(run_case("connect4", "connect4", 32, 0, n, base));
  cases.push_back(run_case("dots5x5", "dotsandboxes:rows=5,cols=5", 200, 0, n, base));
  cases.push_back(
      run_case("64KiB", "connect4", 0, 64u << 10, std::max<uint64_t>(n / 10, 500), base));
  fs::remove_all(base);
  const unsigned cores = std::thread::hardware_concurrency();
  if (flags["json"].as<bool>()) {
    std::string out = fmt::format(
        "{{\"cpu\":{{\"model\":\"{}\",\"hardware_threads\":{}}},\"cases\":[", cpu_model(), cores);
    out += rz::format_join(cases, ",", [](const Case& c) {
      return fmt::format(
          "{{\"case\":\"{}\",\"game\":\"{}\",\"record_bytes\":{:.0f},\"records\":{},"
          "\"raw_xadd_records_per_s\":{:.0f},\"raw_xadd_pipeline\":{},"
          "\"raw_multi_exec_records_per_s\":{:.0f},\"raw_multi_exec_pipeline\":{},"
          "\"relay_records_per_s\":{:.0f},\"relay_mb_per_s\":{:.2f},\"relay_vs_raw\":{:.3f},"
          "\"relay_vs_multi_exec\":{:.3f},\"relay_cpu_us_per_record\":{:.2f},"
          "\"ingest_cpu_us_per_record\":{},\"floor_50pct_met\":{}}}",
          c.name, c.spec, c.record_bytes, c.records, c.raw_records_per_s[0], c.raw_pipeline[0],
          c.raw_records_per_s[1], c.raw_pipeline[1], c.relay_records_per_s, c.relay_mb_per_s,
          c.relay_records_per_s / c.raw_records_per_s[0],
          c.relay_records_per_s / c.raw_records_per_s[1], c.relay_cpu_us,
          c.spec_has_ingest ? fmt::format("{:.2f}", c.ingest_cpu_us) : "null",
          c.relay_records_per_s >= 0.5 * c.raw_records_per_s[0]);
    });
    std::printf("%s]}\n", out.c_str());
  } else {
    std::printf("cpu: %s, %u hardware threads\n", cpu_model().c_str(), cores);
    for (const Case& c : cases) {
      std::printf(
          "%-9s %7.0f B/record: raw XADD %8.0f rec/s (P=%llu), in MULTI/EXEC %8.0f (P=%llu) | "
          "relay->redis->ingest %8.0f rec/s (%5.1f MB/s, %.0f%% / %.0f%% of those) | cpu/record "
          "relay %.1f us, ingest %.1f us\n",
          c.name.c_str(), c.record_bytes, c.raw_records_per_s[0],
          static_cast<unsigned long long>(c.raw_pipeline[0]), c.raw_records_per_s[1],
          static_cast<unsigned long long>(c.raw_pipeline[1]), c.relay_records_per_s,
          c.relay_mb_per_s, 100 * c.relay_records_per_s / c.raw_records_per_s[0],
          100 * c.relay_records_per_s / c.raw_records_per_s[1], c.relay_cpu_us, c.ingest_cpu_us);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return rz::run_main("ringzero-bench-relay", [&] { return run(argc, argv); });
}
