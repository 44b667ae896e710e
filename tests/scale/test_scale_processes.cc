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
#include <vector>

#include "common/redis/scale_protocol.h"
#include "tests/scale/scale_test_util.h"

using namespace std::chrono_literals;
using namespace rz::testing;
using rz::launch::process_alive;

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
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator();
       ++it)
    last[std::stoull((*it)[1])] = {std::stoull((*it)[2]), std::stoull((*it)[3])};
  if (last.empty()) return {0, ~0ull};
  return last.rbegin()->second;
}

// SIGKILLs `role` of the host in `dir`; its supervisor restarts it (a new live pid) and at least
// 20 more remote records are ingested.
void kill_and_see_it_back(TwoHosts& h, const std::string& dir, const std::string& role) {
  const pid_t victim = h.pid_of(dir, role);
  INFO(role << " pid " << victim << " in " << dir);
  REQUIRE(victim > 0);
  const uint64_t before = ingested(h);
  REQUIRE(::kill(victim, SIGKILL) == 0);
  CHECK(wait_until(
      [&] {
        const pid_t now = h.pid_of(dir, role);
        return now > 0 && now != victim && process_alive(now) && ingested(h) >= before + 20;
      },
      60s));
}

void require_up(const CommandResult& r, TwoHosts& h, const std::string& dir) {
  INFO(r.output << "\n--- launch.log ---\n" << h.log(dir, "launch"));
  REQUIRE(r.code == 0);
}

enum class StopJoin { kStop, kKillRelayThenStop };

// Stops the actor host, then checks that every record its actors committed was ingested
// exactly once by the learner host (and that nothing was skipped).
// `earlier_epochs`: records committed (and all released) by the actor host's earlier segments.
// kKillRelayThenStop: the relay is SIGKILLed and the supervisor gets SIGTERM right after,
// inside the relay's restart backoff: the stop itself must start the relay again to drain.
void stop_join_and_check_exact(TwoHosts& h, bool one_learner_generation = true,
                               uint64_t earlier_epochs = 0, StopJoin how = StopJoin::kStop) {
  if (how == StopJoin::kKillRelayThenStop) {
    const pid_t relay = h.pid_of(h.join, "relay"), supervisor = h.pid_of(h.join, "launch");
    REQUIRE(relay > 0);
    REQUIRE(supervisor > 0);
    REQUIRE(::kill(relay, SIGKILL) == 0);
    REQUIRE(::kill(supervisor, SIGTERM) == 0);
    REQUIRE(wait_until([&] { return !process_alive(supervisor); }, 60s));
    INFO("launch log:\n" << h.log(h.join, "launch"));
    CHECK(h.log(h.join, "launch").find("starting relay to send what the lanes still hold") !=
          std::string::npos);
  } else {
    const CommandResult stopped = h.stop(h.join);
    INFO(stopped.output);
    REQUIRE(stopped.code == 0);
  }
  const auto [last_committed, released] = relay_final_counts(h);
  INFO("relay log:\n" << h.log(h.join, "relay"));
  REQUIRE(last_committed > 0);
  REQUIRE(last_committed == released);  // the relay drained every lane before it exited
  const uint64_t committed = last_committed + earlier_epochs;
  REQUIRE(wait_until([&] { return ingested(h) >= committed; }, 30s));
  const Json row = host_row(h);
  CHECK(static_cast<uint64_t>(row["records_ingested"].num()) == committed);
  CHECK(row["sequence_gaps"].num() == 0);
  // Nothing left behind in Redis: every entry acknowledged (none pending) and deleted.
  {
    rz::redis::RedisClient c = h.redis_client();
    std::string detail;
    {
      const rz::redis::Reply p = c.command({"XPENDING", "rz:records", "ingest", "-", "+", "3"});
      for (size_t i = 0; i < p.size(); ++i)
        detail += std::string(p.element(i).element(0).str()) + " deliveries " +
                  std::to_string(p.element(i).element(3).integer()) + "\n";
      const rz::redis::Reply r = c.command({"XRANGE", "rz:records", "-", "+", "COUNT", "2"});
      for (size_t i = 0; i < r.size(); ++i) {
        const rz::redis::Reply f = r.element(i).element(1);
        detail += std::string(r.element(i).element(0).str()) + ":";
        for (size_t k = 0; k + 1 < f.size() && k < 10; k += 2)
          detail +=
              " " + std::string(f.element(k).str()) + "=" + std::string(f.element(k + 1).str());
        detail += "\n";
      }
    }
    INFO("pending/stream:\n" << detail << "ingest log:\n" << h.log(h.learn, "ingest"));
    CHECK(wait_until(
        [&] {
          const rz::redis::Reply summary = c.command({"XPENDING", "rz:records", "ingest"});
          return summary.is_array() && summary.size() >= 1 && summary.element(0).integer() == 0;
        },
        10s));
    CHECK(c.command({"XLEN", "rz:records"}).integer() == 0);
  }
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

TEST_CASE(
    "two hosts, Tic-tac-toe: games flow to the learner host, weights back - refusals counted - "
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
    rz::testing::run_command("printf 'not-the-secret-0123456789\\n' > " + wrong + " && chmod 600 " +
                             wrong);
    const CommandResult r =
        rz::testing::run_command(rz::testing::kLaunch + " join --actors 1 --run-dir " + h.base +
                                 "/j-wrong --learner " + h.address + " --secret-file " + wrong);
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
  // A new host id beyond the ingest's table (64 ids over the run) is refused up front, in one
  // line, before anything of it is sent (its records could not be taken).
  {
    rz::redis::RedisClient c = h.redis_client();
    std::vector<std::string> fakes;
    for (uint32_t i = 1; i < rz::redis::kMaxHosts; ++i) fakes.push_back("fake" + std::to_string(i));
    std::vector<std::string_view> add = {"SADD", rz::redis::kHostsKey},
                                  rem = {"SREM", rz::redis::kHostsKey};
    for (const std::string& f : fakes) {
      add.push_back(f);
      rem.push_back(f);
    }
    c.command(add);
    CHECK(c.command({"SCARD", rz::redis::kHostsKey}).integer() == rz::redis::kMaxHosts);
    const CommandResult r = rz::testing::run_command(
        rz::testing::kLaunch + " join --actors 1 --run-dir " + h.base + "/j-full --learner " +
        h.address + " --secret-file " + h.secret_copy + " --host-id hostNew");
    c.command(rem);
    INFO(r.output);
    CHECK(r.code == 2);
    CHECK(r.output.find("the most it tracks") != std::string::npos);
    CHECK(c.command({"EXISTS", rz::redis::host_lock_key("hostNew")}).integer() == 0);
  }

  // Remote games reach the learner host; new weights reach the remote actor.
  REQUIRE(wait_until([&] { return ingested(h) >= 30; }, 60s));
  const Json learner_side = h.snapshot(h.learn);
  const double published = learner_side["learner"]["published_version"].num();
  REQUIRE(published >= 1);
  CHECK(wait_until(
      [&] {
        const Json j = h.snapshot(h.join);
        return j["relay"]["weight_version"].num() >= published &&
               j["actors"][0]["weight_version"].num() >= published;
      },
      10s));
  {
    const Json j = h.snapshot(h.join);
    CHECK(j["relay"]["alive"].flag());
    CHECK(j["relay"]["learner_reachable"].flag());
    CHECK(j["relay"]["records_acked"].num() > 0);
    CHECK(wait_until(
        [&] {
          const Json row = host_row(h);
          return row["alive"].flag() && row["actors"].num() == 1;
        },
        5s));
    INFO(rz::testing::read_file(h.learn + "/hosts"));
    CHECK(host_row(h)["actors"].num() == 1);
  }

  // Messages no relay of ours sends: each refused with a counter; the ingest lives on.
  {
    rz::redis::RedisClient c = h.redis_client();
    std::vector<std::string> refused_ids;
    auto add = [&](const std::vector<std::string_view>& args) {
      const rz::redis::Reply id = c.command(args);
      REQUIRE(id.is_string());
      refused_ids.emplace_back(id.str());
    };
    add({"XADD", "rz:records", "*", "garbage", "x"});
    add({"XADD", "rz:records", "*", "v", "2", "host", "hostZ", "epoch", "1", "lane", "0", "seq",
         "0", "rec", "abc"});
    const std::string big(65537, 'x');  // shm.max_record_bytes is 65536 in these runs
    add({"XADD", "rz:records", "*", "v", "1", "host", "hostZ", "epoch", "1", "lane", "0", "seq",
         "0", "rec", big});
    add({"XADD", "rz:records", "*", "v", "1", "host", "hostZ", "epoch", "1", "lane", "0", "seq",
         "0", "rec", "not a trajectory record"});
    CHECK(wait_until(
        [&] {
          return ingest_metric(h, "refused_malformed") == 1 &&
                 ingest_metric(h, "refused_version") == 1 &&
                 ingest_metric(h, "refused_oversized") == 1 &&
                 ingest_metric(h, "refused_invalid") == 1;
        },
        10s));
    // Each refused message was acknowledged and deleted (with the ingest's next read): not
    // pending, not in the stream.
    INFO(h.log(h.learn, "ingest"));
    for (const std::string& id : refused_ids) {
      CHECK(wait_until(
          [&] {
            const rz::redis::Reply pending =
                c.command({"XPENDING", "rz:records", "ingest", id, id, "10"});
            return pending.is_array() && pending.size() == 0 &&
                   c.command({"XRANGE", "rz:records", id, id}).size() == 0;
          },
          5s));
    }

    CHECK(h.log(h.learn, "ingest").find("refused message") != std::string::npos);
    CHECK(h.snapshot(h.learn)["ingest"]["alive"].flag());
  }

  // A read of a connection the ingest gave up on, executed by Redis late (the server was
  // frozen or slow): entries delivered to the ingest's consumer that it never received. Made
  // here by reading as that consumer while the ingest is frozen. The ingest must take them
  // before the entries after them (taken first, they would make these "duplicates": lost).
  {
    const pid_t ingest = h.pid_of(h.learn, "ingest");
    REQUIRE(::kill(ingest, SIGSTOP) == 0);
    rz::redis::RedisClient c = h.redis_client();
    const bool backlog = wait_until(
        [&] {
          // At least 10 entries after the group's last-delivered-id.
          const rz::redis::Reply groups = c.command({"XINFO", "GROUPS", "rz:records"});
          if (groups.size() != 1 || groups.element(0).size() < 8) return false;
          const std::string after = "(" + std::string(groups.element(0).element(7).str());
          return c.command({"XRANGE", "rz:records", after, "+", "COUNT", "10"}).size() == 10;
        },
        20s);
    const rz::redis::Reply ghost =
        c.command({"XREADGROUP", "GROUP", rz::redis::kIngestGroup, rz::redis::kIngestConsumer,
                   "COUNT", "5", "STREAMS", "rz:records", ">"});
    const uint64_t before = ingested(h);
    REQUIRE(::kill(ingest, SIGCONT) == 0);
    REQUIRE(backlog);
    REQUIRE((ghost.is_array() && ghost.size() == 1 && ghost.element(0).element(1).size() == 5));
    CHECK(wait_until([&] { return ingested(h) >= before + 20; }, 30s));
    CHECK(ingest_metric(h, "sequence_gaps") == 0);
  }
  // SIGKILL each scale-out process once; each comes back and the records keep flowing.
  for (const auto& [dir, role] : {std::pair<std::string, std::string>{h.join, "relay"},
                                  {h.learn, "ingest"},
                                  {h.learn, "redis"}}) {
    if (role == "redis") {
      // 300,000 filler keys in its AOF: the restarted server answers LOADING for a while, so
      // the relay and the ingest meet a server that accepts connections but refuses commands
      // (a connection set up halfway once made the ingest skip its pending entries).
      // In steps of 10,000: one long script would stall the server past the clients' timeouts.
      rz::redis::RedisClient c = h.redis_client();
      for (int from = 0; from < 300000; from += 10000) {
        REQUIRE(c.command({"EVAL",
                           "for i = tonumber(ARGV[1]), tonumber(ARGV[1]) + 9999 do "
                           "redis.call('SET', 'rz:filler:' .. i, "
                           "i) end return 1",
                           "0", std::to_string(from)})
                    .is_integer());
      }
    }
    kill_and_see_it_back(h, dir, role);
  }
  {
    INFO("ingest log:\n" << h.log(h.learn, "ingest") << "relay log:\n" << h.log(h.join, "relay"));
    CHECK(ingest_metric(h, "sequence_gaps") == 0);  // live (RUN/hosts is rewritten every second)
  }

  // The relay frozen (SIGSTOP) for longer than its 5-s socket timeout, then thawed: it catches up.
  {
    const pid_t relay = h.pid_of(h.join, "relay");
    REQUIRE(::kill(relay, SIGSTOP) == 0);
    std::this_thread::sleep_for(6s);
    const uint64_t before = ingested(h);
    REQUIRE(::kill(relay, SIGCONT) == 0);
    CHECK(wait_until([&] { return ingested(h) >= before + 20; }, 30s));
  }

  uint64_t epoch1 = 0, epoch2 = 0;
  // The actor host's supervisor SIGKILLed while the learner host's redis-server is frozen
  // (SIGSTOP), so its relay, told to stop by the kernel (PDEATHSIG), is still sending what the
  // lanes hold: a `join` of the same run directory waits for it (bounded) before it takes a
  // new epoch and segment. Thawed, the old relay sends everything and exits; the new join
  // continues in a new segment (epoch 2, lanes counting from 0 again).
  {
    const pid_t supervisor = h.pid_of(h.join, "launch");
    const pid_t relay = h.pid_of(h.join, "relay");
    const pid_t redis_server = h.pid_of(h.learn, "redis");
    // Redis frozen: the relay's next batch waits for its reply. Then the supervisor dies; its
    // actor exits (SIGTERM), its relay keeps waiting to finish sending. The relay is frozen
    // too (only now: stopped members of a group orphaned by the supervisor's death would get
    // SIGHUP from the kernel) and Redis thawed, so the join can ask Redis while the relay
    // holds on; 2 s later the relay is thawed, gets its reply and drains (well inside its 5-s
    // socket timeout and 8-s stop grace).
    REQUIRE(::kill(redis_server, SIGSTOP) == 0);
    std::this_thread::sleep_for(300ms);
    REQUIRE(::kill(supervisor, SIGKILL) == 0);
    const pid_t actor = h.pid_of(h.join, "actor-0");
    REQUIRE(wait_until([&] { return !process_alive(supervisor) && !process_alive(actor); }, 20s));
    REQUIRE(process_alive(relay));
    REQUIRE(::kill(relay, SIGSTOP) == 0);
    REQUIRE(::kill(redis_server, SIGCONT) == 0);
    // The dead supervisor's segment is still there (read-only for the monitor), and with its
    // actor gone its lanes' committed count is final.
    epoch1 = static_cast<uint64_t>(h.snapshot(h.join)["ring"]["records_committed"].num());
    CHECK(epoch1 > 0);
    std::thread thaw([&] {
      std::this_thread::sleep_for(2s);
      ::kill(relay, SIGCONT);
    });
    const CommandResult rejoin = h.join_host();
    const bool old_relay_alive = process_alive(relay);
    thaw.join();
    INFO(rejoin.output);
    CHECK(rejoin.output.find("waiting for the previous join's") != std::string::npos);
    CHECK_FALSE(old_relay_alive);
    require_up(rejoin, h, h.join);
    // (That the old relay sent all of epoch1 before it exited is proven at the end: the
    // ingest's count equals every epoch's committed records exactly.)
    CHECK(wait_until(
        [&] {
          const Json row = host_row(h);
          return row["epoch"].num() == 2 && row["records_ingested"].num() >= epoch1 + 20;
        },
        60s));
  }
  // A new join with the same host id from a FRESH run directory (its segment generation is 1
  // again): it gets epoch 3 from the learner host, and its records are ingested, not dropped
  // as duplicates of epoch 1's.
  {
    const CommandResult stopped = h.stop(h.join);
    INFO(stopped.output);
    REQUIRE(stopped.code == 0);
    const auto [committed, released] = relay_final_counts(h);
    REQUIRE(committed == released);
    epoch2 = committed;
    const bool all_in = wait_until([&] { return ingested(h) >= epoch1 + epoch2; }, 30s);
    INFO("epoch1 " << epoch1 << " epoch2 " << epoch2 << " ingested " << ingested(h));
    INFO("ingest log:\n" << h.log(h.learn, "ingest") << "relay log:\n" << h.log(h.join, "relay"));
    REQUIRE(all_in);
    h.join = h.base + "/join-fresh";
    require_up(h.join_host(), h, h.join);
    CHECK(wait_until(
        [&] {
          const Json row = host_row(h);
          return row["epoch"].num() == 3 && row["records_ingested"].num() >= epoch1 + epoch2 + 20;
        },
        60s));
  }

  stop_join_and_check_exact(h, true, epoch1 + epoch2);
  stop_learner_and_check_clean(h);
}

TEST_CASE(
    "two hosts, Tic-tac-toe: SIGKILL of the learner, of an actor on each host, of the learner "
    "host's supervisor and of the relay as the actor host stops, and Redis refusing the relay's "
    "writes for a while, lose and duplicate nothing",
    "[scale]") {
  TwoHosts h;
  require_up(h.start_learner(rz::testing::kTinyRun), h, h.learn);
  require_up(h.join_host(), h, h.join);
  REQUIRE(wait_until([&] { return ingested(h) >= 30; }, 60s));

  // The learner, the remote actor and the learner host's own actor, each SIGKILLed once: the
  // supervisor of its host restarts it and remote records keep arriving.
  for (const auto& [dir, role] : {std::pair<std::string, std::string>{h.learn, "learner"},
                                  {h.join, "actor-0"},
                                  {h.learn, "actor-0"}}) {
    kill_and_see_it_back(h, dir, role);
  }
  CHECK(h.snapshot(h.learn)["learner"]["alive"].flag());

  // Redis refuses the relay's XADDs for a while (an ACL rule denies the command): each batch
  // is refused whole (MULTI/EXEC: EXECABORT), the relay keeps its records in the lane and
  // says so; once the rule is lifted everything it held is sent.
  {
    rz::redis::RedisClient c = h.redis_client();
    REQUIRE(c.command({"ACL", "SETUSER", "default", "-xadd"}).is_string());
    const bool refused = wait_until(
        [&] {
          return h.log(h.join, "relay").find("the learner host refused records") !=
                 std::string::npos;
        },
        20s);
    std::this_thread::sleep_for(1s);  // a few more refused rounds (one every 500 ms)
    const Json j = h.snapshot(h.join);
    REQUIRE(c.command({"ACL", "SETUSER", "default", "+xadd"}).is_string());
    INFO("relay log:\n" << h.log(h.join, "relay"));
    CHECK(refused);
    CHECK(j["relay"]["resends"].num() > 0);
    CHECK(j["relay"]["learner_reachable"].flag());  // refused, not cut off
    const uint64_t before = ingested(h);
    CHECK(wait_until([&] { return ingested(h) >= before + 20; }, 60s));
  }

  // The learner host's supervisor SIGKILLed: its children (Redis, ingest, learner, actor) get
  // SIGTERM from the kernel; the actor host keeps playing; `start --resume` brings Redis back
  // from its AOF and the ingest's dedup table from RUN/ingest.state.
  {
    std::vector<pid_t> children;
    for (const char* role : {"redis", "ingest", "learner", "actor-0"})
      children.push_back(h.pid_of(h.learn, role));
    const pid_t supervisor = h.pid_of(h.learn, "launch");
    REQUIRE(::kill(supervisor, SIGKILL) == 0);
    REQUIRE(wait_until(
        [&] {
          if (process_alive(supervisor)) return false;
          for (pid_t c : children)
            if (process_alive(c)) return false;
          return true;
        },
        60s));
    const uint64_t before = ingested(h);
    const CommandResult resumed = rz::testing::run_command(
        rz::testing::kLaunch + " start --detach --resume --run-dir '" + h.learn + "'");
    require_up(resumed, h, h.learn);
    CHECK(wait_until([&] { return ingested(h) >= before + 20; }, 60s));
  }

  INFO("ingest log:\n" << h.log(h.learn, "ingest"));
  CHECK(ingest_metric(h, "sequence_gaps") == 0);
  // The last kill lands in the stop: the relay dies and the stop comes inside its backoff.
  stop_join_and_check_exact(h, /*one_learner_generation=*/false, 0, StopJoin::kKillRelayThenStop);
  stop_learner_and_check_clean(h);
}

TEST_CASE(
    "two hosts, Connect Four: remote games reach the learner host exactly once and the "
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
  REQUIRE(wait_until([&] { return ingested(h) >= 20; }, 90s));
  const double published = h.snapshot(h.learn)["learner"]["published_version"].num();
  REQUIRE(published >= 1);
  CHECK(wait_until(
      [&] { return h.snapshot(h.join)["actors"][0]["weight_version"].num() >= published; }, 10s));
  CHECK(h.snapshot(h.join)["run"]["game"].text == h.snapshot(h.learn)["run"]["game"].text);

  // The learner host goes away (stopped) and comes back (start --resume: same --serve, same
  // secret, Redis from its AOF). The actor host keeps playing meanwhile; its relay notices,
  // reconnects by itself and catches up.
  const double version_before_stop = h.snapshot(h.learn)["learner"]["published_version"].num();
  REQUIRE(h.stop(h.learn).code == 0);
  CHECK(wait_until([&] { return !h.snapshot(h.join)["relay"]["learner_reachable"].flag(); }, 10s));
  const double committed_while_away = h.snapshot(h.join)["ring"]["records_committed"].num();
  std::this_thread::sleep_for(2s);
  CHECK(h.snapshot(h.join)["ring"]["records_committed"].num() >
        committed_while_away);  // still playing
  const CommandResult resumed = rz::testing::run_command(
      rz::testing::kLaunch + " start --detach --resume --run-dir '" + h.learn + "'");
  require_up(resumed, h, h.learn);
  CHECK(wait_until([&] { return h.snapshot(h.join)["relay"]["learner_reachable"].flag(); }, 20s));
  // The resumed learner (a new segment) publishes above every version it ever published, so
  // rz:weights moves on and the remote actor leaves the old lineage (learner/version_floor.h).
  CHECK(wait_until(
      [&] {
        const Json j = h.snapshot(h.join);
        return j["relay"]["weight_version"].num() > version_before_stop &&
               j["actors"][0]["weight_version"].num() > version_before_stop;
      },
      30s));
  const uint64_t after_resume = ingested(h);
  CHECK(wait_until([&] { return ingested(h) >= after_resume + 10; }, 60s));
  stop_join_and_check_exact(h, /*one_learner_generation=*/false);
  stop_learner_and_check_clean(h);
}
