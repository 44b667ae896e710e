// Scale-out end to end (docs/scale-out.md): a learner host started with --serve (its own
// redis-server, ingest, learner, actor) and an actor host joined to it (actor + relay), two
// run directories on this machine, traffic over loopback through a real redis-server.
// Processes are really killed; counts are checked exactly against the actor host's lanes.
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <regex>
#include <string>
#include <thread>

#include "common/redis/scale_protocol.h"
#include "tests/scale/scale_test_util.h"

using namespace std::chrono_literals;
using rz::launch::process_alive;
using rz::testing::CommandResult;
using rz::testing::eventually;
using rz::testing::Json;
using rz::testing::TwoHosts;

namespace {

// The learner host's row for hostB, or a null Json if it has none yet.
Json host_row(TwoHosts& h) {
  const Json s = h.snapshot(h.learn);
  for (const Json& row : s["hosts"].items)
    if (row["host_id"].text == "hostB") return row;
  return Json{};
}
uint64_t ingested(TwoHosts& h) {
  const Json row = host_row(h);
  return row.kind == Json::Kind::kObject ? static_cast<uint64_t>(row["records_ingested"].num()) : 0;
}
double ingest_metric(TwoHosts& h, const std::string& name) {
  const Json s = h.snapshot(h.learn);
  return s["ingest"][name].num();
}

// "relay stopped (epoch E): lanes committed N records, released M": the last line of the
// actor host's newest epoch (segment).
std::pair<uint64_t, uint64_t> relay_final_counts(TwoHosts& h) {
  const std::string log = h.log(h.join, "relay");
  std::regex re("epoch ([0-9]+)\\): lanes committed ([0-9]+) records, released ([0-9]+)");
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> last;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    last[std::stoull((*it)[1])] = {std::stoull((*it)[2]), std::stoull((*it)[3])};
  if (last.empty()) return {0, ~0ull};
  return last.rbegin()->second;
}

void require_up(const CommandResult& r, TwoHosts& h, const std::string& dir) {
  INFO(r.output << "\n--- launch.log ---\n" << h.log(dir, "launch"));
  REQUIRE(r.code == 0);
}

// Stops the actor host, then checks that every record its actors committed was ingested
// exactly once by the learner host (and that nothing was skipped).
// `earlier_epochs`: records committed (and all released) by the actor host's earlier segments.
void stop_join_and_check_exact(TwoHosts& h, bool one_learner_generation = true,
                               uint64_t earlier_epochs = 0) {
  const CommandResult stopped = h.stop(h.join);
  INFO(stopped.output);
  REQUIRE(stopped.code == 0);
  const auto [last_committed, released] = relay_final_counts(h);
  INFO("relay log:\n" << h.log(h.join, "relay"));
  REQUIRE(last_committed > 0);
  REQUIRE(last_committed == released);  // the relay drained every lane before it exited
  const uint64_t committed = last_committed + earlier_epochs;
  REQUIRE(eventually([&] { return ingested(h) >= committed; }, 30s));
  const Json row = host_row(h);
  CHECK(static_cast<uint64_t>(row["records_ingested"].num()) == committed);
  CHECK(row["sequence_gaps"].num() == 0);
  // The learner host's ring: its ingest lane (after the one actor's) holds exactly those
  // (when its segment lived through the whole run).
  const Json s = h.snapshot(h.learn);
  if (one_learner_generation)
    CHECK(static_cast<uint64_t>(s["ring"]["lanes"][1]["records_committed"].num()) == committed);
  CHECK(s["actors"].items.size() == 1);  // the ingest lane is not shown as an actor
}

void stop_learner_and_check_clean(TwoHosts& h) {
  const pid_t redis = h.pid_of(h.learn, "redis");
  const std::string shm = rz::launch::read_shm_name(rz::launch::RunDir(h.learn));
  const CommandResult stopped = h.stop(h.learn);
  INFO(stopped.output);
  REQUIRE(stopped.code == 0);
  CHECK_FALSE(process_alive(redis));
  CHECK_FALSE(std::filesystem::exists("/dev/shm" + shm));
  for (const char* role : {"launch", "learner", "actor-0", "ingest", "redis"})
    CHECK_FALSE(std::filesystem::exists(h.learn + "/pids/" + role + ".pid"));
}

}  // namespace

TEST_CASE("two hosts, Tic-tac-toe: games flow to the learner host, weights back - refusals counted - "
          "SIGKILL of relay, ingest and redis-server loses and duplicates nothing",
          "[scale]") {
  TwoHosts h;
  require_up(h.start_learner(rz::testing::kTinyRun), h, h.learn);
  struct stat st {};
  REQUIRE(::stat((h.learn + "/secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((h.learn + "/redis/redis.conf").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((h.learn + "/redis").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  // Refusals of a join: a wrong secret, another game, another network.
  {
    const std::string wrong = h.base + "/wrong.secret";
    rz::testing::run_command("printf 'not-the-secret-0123456789\\n' > " + wrong + " && chmod 600 " + wrong);
    const CommandResult r = rz::testing::run_command(
        rz::testing::kLaunch + " join --actors 1 --run-dir " + h.base + "/j-wrong --learner " +
        h.address + " --secret-file " + wrong);
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("refused the secret") != std::string::npos);
    CHECK(std::count(r.output.begin(), r.output.end(), '\n') == 1);
  }
  {
    const CommandResult r = h.join_host("--game connect4");
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("trains tictactoe") != std::string::npos);
    const CommandResult n = h.join_host("--net.filters 16");
    INFO(n.output);
    CHECK(n.code == 2);
    CHECK(n.output.find("drop --game and --net.*") != std::string::npos);
  }

  require_up(h.join_host(), h, h.join);
  // A second join with the same host id is refused while the first one lives.
  {
    const CommandResult r = rz::testing::run_command(
        rz::testing::kLaunch + " join --actors 1 --run-dir " + h.base + "/j-second --learner " +
        h.address + " --secret-file " + h.secret_copy + " --host-id hostB");
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("already joined") != std::string::npos);
  }

  // Remote games reach the learner host; new weights reach the remote actor.
  REQUIRE(eventually([&] { return ingested(h) >= 30; }, 60s));
  const Json learner_side = h.snapshot(h.learn);
  const double published = learner_side["learner"]["published_version"].num();
  REQUIRE(published >= 1);
  CHECK(eventually([&] {
    const Json j = h.snapshot(h.join);
    return j["relay"]["weight_version"].num() >= published &&
           j["actors"][0]["weight_version"].num() >= published;
  }, 10s));
  {
    const Json j = h.snapshot(h.join);
    CHECK(j["relay"]["alive"].flag());
    CHECK(j["relay"]["learner_reachable"].flag());
    CHECK(j["relay"]["records_acked"].num() > 0);
    CHECK(eventually([&] {
      const Json row = host_row(h);
      return row["alive"].flag() && row["actors"].num() == 1;
    }, 5s));
    INFO(rz::testing::read_file(h.learn + "/hosts"));
    CHECK(host_row(h)["actors"].num() == 1);
  }

  // Messages no relay of ours sends: each refused with a counter; the ingest lives on.
  {
    rz::redis::RedisClient c = h.redis_client();
    c.command({"XADD", "rz:records", "*", "garbage", "x"});
    c.command({"XADD", "rz:records", "*", "v", "2", "host", "hostZ", "epoch", "1", "lane", "0",
               "seq", "0", "rec", "abc"});
    const std::string big(65537, 'x');  // shm.max_record_bytes is 65536 in these runs
    c.command({"XADD", "rz:records", "*", "v", "1", "host", "hostZ", "epoch", "1", "lane", "0",
               "seq", "0", "rec", big});
    c.command({"XADD", "rz:records", "*", "v", "1", "host", "hostZ", "epoch", "1", "lane", "0",
               "seq", "0", "rec", "not a trajectory record"});
    CHECK(eventually([&] {
      return ingest_metric(h, "refused_malformed") == 1 && ingest_metric(h, "refused_version") == 1 &&
             ingest_metric(h, "refused_oversized") == 1 && ingest_metric(h, "refused_invalid") == 1;
    }, 10s));
    const rz::redis::Reply pending = c.command({"XPENDING", "rz:records", "ingest"});
    INFO(h.log(h.learn, "ingest"));
    CHECK(h.log(h.learn, "ingest").find("refused message") != std::string::npos);
    CHECK(h.snapshot(h.learn)["ingest"]["alive"].flag());
  }

  // SIGKILL each scale-out process once; each comes back and the records keep flowing.
  for (const auto& [dir, role] : {std::pair<std::string, std::string>{h.join, "relay"},
                                  {h.learn, "ingest"}, {h.learn, "redis"}}) {
    const pid_t victim = h.pid_of(dir, role);
    INFO(role << " pid " << victim);
    REQUIRE(victim > 0);
    const uint64_t before = ingested(h);
    REQUIRE(::kill(victim, SIGKILL) == 0);
    CHECK(eventually([&] {
      const pid_t now = h.pid_of(dir, role);
      return now > 0 && now != victim && ingested(h) >= before + 20;
    }, 60s));
  }
  CHECK(host_row(h)["sequence_gaps"].num() == 0);

  // The relay frozen (SIGSTOP) for longer than its 5-s socket timeout, then thawed: it catches up.
  {
    const pid_t relay = h.pid_of(h.join, "relay");
    REQUIRE(::kill(relay, SIGSTOP) == 0);
    std::this_thread::sleep_for(6s);
    const uint64_t before = ingested(h);
    REQUIRE(::kill(relay, SIGCONT) == 0);
    CHECK(eventually([&] { return ingested(h) >= before + 20; }, 30s));
  }

  uint64_t epoch1 = 0;
  // The actor host's supervisor SIGKILLed: its children get SIGTERM from the kernel, the relay
  // sends what the actors committed before it exits; `join` again with the same run directory
  // continues in a new segment (epoch 2, lanes counting from 0 again).
  {
    const pid_t supervisor = h.pid_of(h.join, "launch");
    const pid_t relay = h.pid_of(h.join, "relay");
    REQUIRE(::kill(supervisor, SIGKILL) == 0);
    REQUIRE(eventually([&] { return !process_alive(relay) && !process_alive(supervisor); }, 20s));
    // The dead supervisor's segment is still there (read-only for the monitor): every record
    // its actors committed was sent and released before the relay exited.
    const Json left = h.snapshot(h.join);
    epoch1 = static_cast<uint64_t>(left["ring"]["records_committed"].num());
    CHECK(left["ring"]["records_in_flight"].num() == 0);
    require_up(h.join_host(), h, h.join);
    CHECK(eventually([&] {
      const Json row = host_row(h);
      return row["epoch"].num() == 2 && row["records_ingested"].num() >= epoch1 + 20;
    }, 60s));
  }

  stop_join_and_check_exact(h, true, epoch1);
  stop_learner_and_check_clean(h);
}

TEST_CASE("two hosts, Connect Four: remote games reach the learner host exactly once and the "
          "remote actor plays with the learner host's weights",
          "[scale]") {
  TwoHosts h;
  const std::string c4 =
      " --game connect4 --net.blocks 1 --net.filters 8 --mcts.simulations 8"
      " --actor.games_in_flight 4 --learner.batch_size 16 --learner.min_replay 30"
      " --learner.publish_every 5 --learner.checkpoint_every 20 --learner.metrics_seconds 1"
      " --learner.replay_positions 5000 --shm.lane_bytes 1048576 --shm.max_record_bytes 65536"
      " --launch.restart_backoff_ms 200 --seed 11";
  require_up(h.start_learner(c4), h, h.learn);
  require_up(h.join_host(), h, h.join);
  REQUIRE(eventually([&] { return ingested(h) >= 20; }, 90s));
  const double published = h.snapshot(h.learn)["learner"]["published_version"].num();
  REQUIRE(published >= 1);
  CHECK(eventually([&] {
    return h.snapshot(h.join)["actors"][0]["weight_version"].num() >= published;
  }, 10s));
  CHECK(h.snapshot(h.join)["run"]["game"].text == h.snapshot(h.learn)["run"]["game"].text);

  // The learner host goes away (stopped) and comes back (start --resume: same --serve, same
  // secret, Redis from its AOF). The actor host keeps playing meanwhile; its relay notices,
  // reconnects by itself and catches up.
  REQUIRE(h.stop(h.learn).code == 0);
  CHECK(eventually([&] { return !h.snapshot(h.join)["relay"]["learner_reachable"].flag(); }, 10s));
  const double committed_while_away = h.snapshot(h.join)["ring"]["records_committed"].num();
  std::this_thread::sleep_for(2s);
  CHECK(h.snapshot(h.join)["ring"]["records_committed"].num() > committed_while_away);  // still playing
  const CommandResult resumed = rz::testing::run_command(
      rz::testing::kLaunch + " start --detach --resume --run-dir '" + h.learn + "'");
  require_up(resumed, h, h.learn);
  CHECK(eventually([&] { return h.snapshot(h.join)["relay"]["learner_reachable"].flag(); }, 20s));
  const uint64_t after_resume = ingested(h);
  CHECK(eventually([&] { return ingested(h) >= after_resume + 10; }, 60s));
  stop_join_and_check_exact(h, /*one_learner_generation=*/false);
  stop_learner_and_check_clean(h);
}
