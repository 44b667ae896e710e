// The shared configuration: precedence (command line > file > game defaults > built-ins),
// refusal of nonsense with one-line messages naming the option, and the INI round trip
// through a real file written atomically.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/config_options.h"
#include "common/run_clock.h"
#include "common/run_schedule.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

namespace po = boost::program_options;

namespace {

// Runs the shared parser on a command line given as words (argv[0] added).
rz::ParsedCommandLine parse(std::vector<std::string> words,
                            const rz::RoleOptions& role = rz::RoleOptions("test", "test")) {
  words.insert(words.begin(), "ringzero-test");
  std::vector<const char*> argv;
  for (const auto& w : words) argv.push_back(w.c_str());
  return rz::parse_command_line(static_cast<int>(argv.size()), argv.data(), role);
}

std::string error_of(std::vector<std::string> words) {
  try {
    parse(std::move(words));
  } catch (const rz::ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config: built-in defaults and game-dependent defaults") {
  const auto c4 = parse({}).config;
  CHECK(c4.game == "connect4");
  CHECK(c4.learner.batch_size == 256);
  CHECK(c4.actor.games_in_flight == 64);
  CHECK(c4.mcts.dirichlet_alpha == Approx(1.0));
  CHECK(c4.shm.lane_bytes == (8u << 20));

  const auto ttt = parse({"--game", "tictactoe"}).config;
  CHECK(ttt.mcts.simulations == 50);
  const auto dab = parse({"--game=dotsandboxes"}).config;
  CHECK(dab.mcts.dirichlet_alpha == Approx(0.3));
  CHECK(dab.game == "dotsandboxes:rows=3,cols=3");  // canonical spec
  // The z/q value target: Connect Four's default (docs/results.md), the outcome alone elsewhere.
  CHECK(c4.learner.value_target_q == Approx(0.5));
  CHECK(ttt.learner.value_target_q == 0.0);
  CHECK(dab.learner.value_target_q == 0.0);
  CHECK(parse({"--learner.value_target_q", "0"}).config.learner.value_target_q == 0.0);
  // Random openings: Connect Four's default (docs/results.md), off elsewhere.
  CHECK(c4.mcts.random_opening_moves == 16);
  CHECK(ttt.mcts.random_opening_moves == 0);
  CHECK(dab.mcts.random_opening_moves == 0);
  CHECK(parse({"--mcts.random_opening_moves", "0"}).config.mcts.random_opening_moves == 0);

  // A value the user gave is never replaced by the game's default.
  const auto mine =
      parse({"--game", "tictactoe", "--mcts.dirichlet_alpha", "0.5", "--mcts.simulations", "7"})
          .config;
  CHECK(mine.mcts.dirichlet_alpha == Approx(0.5));
  CHECK(mine.mcts.simulations == 7);
}

TEST_CASE("config: file sections, and the command line overrides the file") {
  const rz::testing::TempDir dir("config-test");
  const std::string file = rz::testing::write_file(dir.file("a.ini"),
                                                   "# comment\n"
                                                   "game=tictactoe\n"
                                                   "[learner]\n"
                                                   "batch_size=32\n"
                                                   "lr=0.5\n"
                                                   "[mcts]\n"
                                                   "c_puct=2.5\n");
  auto c = parse({"--config", file}).config;
  CHECK(c.game == "tictactoe");
  CHECK(c.learner.batch_size == 32);
  CHECK(c.learner.lr == Approx(0.5));
  CHECK(c.mcts.c_puct == Approx(2.5));

  c = parse({"--config", file, "--learner.batch_size", "128"}).config;
  CHECK(c.learner.batch_size == 128);
  CHECK(c.learner.lr == Approx(0.5));  // untouched by the override
}

TEST_CASE("config: shorthands --shm and --run-dir, and the derived shm name") {
  const rz::testing::TempDir dir("config-test");
  auto c = parse({"--run-dir", dir.path()}).config;
  CHECK(c.run_dir == dir.path());
  CHECK(c.shm.name == rz::default_shm_name(dir.path()));
  CHECK(c.shm.name.size() <= 31);
  CHECK(c.shm.name.rfind("/ringzero-", 0) == 0);
  // Spelling of the same directory does not change the name; another directory does.
  CHECK(rz::default_shm_name(dir.path() + "/") == rz::default_shm_name(dir.path()));
  CHECK(rz::default_shm_name(dir.path() + "/./x/..") == rz::default_shm_name(dir.path()));
  CHECK(rz::default_shm_name(dir.path() + "/other") != rz::default_shm_name(dir.path()));

  // A written config.ini reused with another run directory follows that directory, unless
  // the segment name was chosen explicitly.
  rz::write_config_atomically(c, dir.path() + "/config.ini");
  const std::string other = dir.path() + "/other-run";
  auto moved = parse({"--config", dir.path() + "/config.ini", "--run-dir", other}).config;
  CHECK(moved.run_dir == other);
  CHECK(moved.shm.name == rz::default_shm_name(other));
  CHECK(parse({"--config", dir.path() + "/config.ini"}).config.shm.name == c.shm.name);
  auto named = parse({"--run-dir", dir.path(), "--shm.name", "/rz-mine"}).config;
  rz::write_config_atomically(named, dir.path() + "/named.ini");
  CHECK(parse({"--config", dir.path() + "/named.ini", "--run-dir", other}).config.shm.name ==
        "/rz-mine");

  c = parse({"--run-dir", dir.path(), "--shm", "/rz-explicit"}).config;
  CHECK(c.shm.name == "/rz-explicit");
  CHECK(error_of({"--shm", "/a", "--shm.name", "/b"}).find("contradicts") != std::string::npos);
}

TEST_CASE("config: nonsense is refused with one line naming the option") {
  struct Case {
    std::vector<std::string> args;
    std::string must_contain;
  };
  const std::vector<Case> cases = {
      {{"--learner.batch_size", "-5"}, "learner.batch_size"},
      {{"--learner.batch_size", "12abc"}, "learner.batch_size"},
      {{"--learner.batch_size", "0"}, "[1, 65536]"},
      {{"--shm.lane_bytes", "-1"}, "shm.lane_bytes"},  // no unsigned wrap-around
      {{"--shm.lane_bytes", "100000"}, "multiple of 64"},
      {{"--shm.max_record_bytes", "4194304"}, "shm.lane_bytes / 2 - 48"},
      {{"--mcts.dirichlet_epsilon", "1.5"}, "mcts.dirichlet_epsilon"},
      {{"--mcts.full_search_prob", "-0.1"}, "mcts.full_search_prob"},
      {{"--mcts.c_puct", "nan"}, "mcts.c_puct"},
      {{"--mcts.c_puct", "inf"}, "mcts.c_puct"},
      {{"--learner.lr", "fast"}, "learner.lr"},
      {{"--game", "chess"}, "unknown game 'chess'"},
      {{"--game", "dotsandboxes:rows=0"}, "option game"},
      {{"--learner.device", "tpu"}, "auto, cpu, cuda or cuda:N"},
      {{"--learner.device", "cuda:"}, "learner.device"},
      {{"--learner.device", "cuda:x"}, "learner.device"},
      {{"--learner.device", "cuda:-1"}, "learner.device"},
      {{"--learner.device", "cuda:256"}, "learner.device"},
      {{"--learner.device", "cuda:99999999999"}, "learner.device"},
      {{"--actor.precision", "fp16"}, "auto, fp32 or bf16"},
      {{"--actor.precision", "int8"}, "no quantized convolution"},
      {{"--actor.eval_cache_mib", "-1"}, "actor.eval_cache_mib"},
      {{"--learner.lr_schedule", "100:0.1,50:0.01"}, "learner.lr_schedule"},
      {{"--learner.lr_schedule", "0.66:0.002"}, "add --minutes M (run.minutes)"},
      {{"--learner.lr_schedule", "0.5:0.01,1000:0.001", "--minutes", "5"},
       "mixes steps and fractions"},
      {{"--learner.lr_schedule", "1.5:0.01", "--minutes", "5"},
       "neither at a step nor at a fraction"},
      {{"--learner.lr_schedule", "0.7:0.01,0.3:0.001", "--minutes", "5"}, "do not increase"},
      {{"--run.minutes", "-1"}, "run.minutes"},
      {{"--minutes", "soon"}, "run.minutes"},
      {{"--learner.batchsize", "3"}, "did you mean learner.batch_size"},
      {{"--nonsense"}, "unknown option"},
      {{"--learner.min_replay", "500", "--learner.replay_positions", "100"}, "learner.min_replay"},
      {{"--mcts.full_search_prob", "0.5"}, "fast_simulations"},  // cross-field (MctsConfig)
      {{"--mcts.simulations", "0"}, "mcts.simulations"},
      {{"--mcts.random_opening_moves", "-1"}, "mcts.random_opening_moves"},
      {{"--mcts.reuse_tree", "maybe"}, "true or false"},
      {{"--shm.name", "no-slash"}, "shm.name"},
      {{"--config", "/nonexistent/rz.ini"}, "cannot read config file"},
      // Issue #13 finding 9: a run that could never train, and limits that must agree with
      // the segment's (checked here, before anything is written).
      {{"--mcts.full_search_prob", "0", "--mcts.fast_simulations", "8"}, "never train"},
      {{"--shm.max_record_bytes", "1610612736", "--shm.lane_bytes", "4294967296"},
       "shm.max_record_bytes"},
      {{"--shm.name", "/" + std::string(201, 'x')}, "at most 200 characters"},
      {{"--run-dir", "/tmp/" + std::string(950, 'r')}, "use a shorter --run-dir"},
  };
  for (const auto& c : cases) {
    INFO("args: " << c.args.front());
    const std::string err = error_of(c.args);
    CHECK(err.find(c.must_contain) != std::string::npos);
    CHECK(err.find('\n') == std::string::npos);
    CHECK(!err.empty());
  }
}

TEST_CASE("config: learner.device takes auto, cpu, cuda and cuda:N") {
  for (const std::string d : {"auto", "cpu", "cuda", "cuda:0", "cuda:7", "cuda:255"})
    CHECK(parse({"--learner.device", d}).config.learner.device == d);
}

TEST_CASE("config: bad files are refused naming the file and the key") {
  const rz::testing::TempDir dir("config-test");
  std::string err = error_of(
      {"--config", rz::testing::write_file(dir.file("u.ini"), "[learner]\nbatchsize=3\n")});
  CHECK(err.find("u.ini") != std::string::npos);
  CHECK(err.find("learner.batchsize") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);

  err = error_of(
      {"--config", rz::testing::write_file(dir.file("v.ini"), "[learner]\nbatch_size=-1\n")});
  CHECK(err.find("learner.batch_size") != std::string::npos);

  err = error_of(
      {"--config", rz::testing::write_file(dir.file("d.ini"), "[learner]\nlr=0.1\nlr=0.2\n")});
  CHECK(err.find("learner.lr") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);

  err =
      error_of({"--config", rz::testing::write_file(
                                dir.file("s.ini"), "[learner]\nlr=0.1\n\n[mcts\nsimulations=3\n")});
  CHECK(err.find("s.ini") != std::string::npos);
  CHECK(err.find("line 4 '[mcts'") != std::string::npos);  // where, and what a valid line is
  CHECK(err.find("'[section]'") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
}

TEST_CASE(
    "config: actors capped at the replay window's 256 lanes - stats slots fit every process") {
  CHECK(error_of({"--launch.actors", "257"}).find("launch.actors") != std::string::npos);
  CHECK(error_of({"--launch.actors", "256", "--shm.stats_slots", "300"}).empty());
  // 3 actors + learner + evaluator + supervisor + 2 spare = 8.
  const std::string err = error_of({"--launch.actors", "3", "--shm.stats_slots", "2"});
  CHECK(err.find("shm.stats_slots=2") != std::string::npos);
  CHECK(err.find("at least 8") != std::string::npos);
  CHECK(err.find('\n') == std::string::npos);
  CHECK_FALSE(error_of({"--launch.actors", "3", "--shm.stats_slots", "7"}).empty());
  CHECK(error_of({"--launch.actors", "3", "--shm.stats_slots", "8"}).empty());
  rz::RunConfig c;
  c.launch.actors = 10;
  CHECK(rz::stats_slots_needed(c) == 15);
  CHECK(rz::kMaxActors == 256);
}

TEST_CASE("config: to_ini reads back to the same configuration, written atomically") {
  const rz::testing::TempDir dir("config-test");
  auto c = parse({"--game", "dotsandboxes:rows=2,cols=3", "--seed", "18446744073709551615",
                  "--learner.lr", "0.0123456789", "--learner.lr_schedule", "10:0.01,20:0.001",
                  "--mcts.c_puct", "1.1", "--mcts.reuse_tree", "off", "--run-dir", dir.path(),
                  "--learner.momentum", "0.3"})
               .config;
  const std::string path = dir.path() + "/config.ini";
  rz::write_config_atomically(c, path);
  CHECK(!std::filesystem::exists(path + ".tmp." + std::to_string(::getpid())));

  const rz::RunConfig back = rz::load_config_file(path);
  CHECK(rz::to_ini(back) == rz::to_ini(c));
  CHECK(back.seed == 18446744073709551615ull);
  CHECK(back.learner.lr == c.learner.lr);  // bit-exact
  CHECK(back.mcts.c_puct == c.mcts.c_puct);
  CHECK(back.mcts.reuse_tree == false);
  CHECK(back.game == "dotsandboxes:rows=2,cols=3");
  CHECK(back.shm.name == c.shm.name);

  // Overwriting replaces the whole file.
  c.learner.batch_size = 17;
  rz::write_config_atomically(c, path);
  CHECK(rz::load_config_file(path).learner.batch_size == 17);

  // An unwritable place is a one-line error, not a crash.
  bool threw = false;
  try {
    rz::write_config_atomically(c, "/nonexistent-dir/config.ini");
  } catch (const rz::ConfigError& e) {
    threw = std::string(e.what()).find("/nonexistent-dir/config.ini") != std::string::npos;
  }
  CHECK(threw);
}

TEST_CASE("config: role flags, positional arguments and --help") {
  rz::RoleOptions role("actor", "ringzero-actor --shm NAME --slot K");
  role.flags.add_options()("slot", po::value<int>()->required(), "lane index");
  auto p = parse({"--slot", "3", "--shm", "/x"}, role);
  CHECK(p.flags["slot"].as<int>() == 3);
  CHECK(p.config.shm.name == "/x");

  bool threw = false;
  try {
    parse({"--shm", "/x"}, role);  // --slot is required
  } catch (const rz::ConfigError& e) {
    threw = std::string(e.what()).find("slot") != std::string::npos;
  }
  CHECK(threw);

  auto h = parse({"--help"}, role);
  CHECK(h.help_requested);
  CHECK(h.help_text.find("--slot") != std::string::npos);
  CHECK(h.help_text.find("learner.batch_size") != std::string::npos);
  CHECK(h.help_text.find("default: 256") != std::string::npos);

  rz::RoleOptions launch("launch", "ringzero-launch COMMAND");
  launch.flags.add_options()("command", po::value<std::string>(), "start|stop|status");
  launch.positional.add("command", 1);
  CHECK(parse({"status", "--learner.batch_size", "8"}, launch).flags["command"].as<std::string>() ==
        "status");
}

TEST_CASE("config: run.minutes and schedules in fractions of the run") {
  // --minutes is the shorthand of run.minutes; both round-trip through config.ini.
  rz::RunConfig c =
      parse({"--minutes", "0.5", "--learner.lr_schedule", "0.25:0.01, 0.75:0.001"}).config;
  CHECK(c.minutes == 0.5);
  const rz::RunConfig back = rz::parse_config_text(rz::to_ini(c));
  CHECK(back.minutes == 0.5);
  CHECK(back.learner.lr_schedule == c.learner.lr_schedule);
  CHECK(rz::to_ini(c).find("[run]\ndir=\nminutes=0.5\n") != std::string::npos);
  CHECK(parse({"--run.minutes", "90"}).config.minutes == 90);
  CHECK(parse({}).config.minutes == 0);
  // A run of known length without a schedule drops the rate tenfold for its last third; a
  // schedule given (even an empty one: constant) is kept; without --minutes, constant.
  CHECK(parse({"--minutes", "60", "--learner.lr", "0.02"}).config.learner.lr_schedule ==
        "0.66:0.002");
  CHECK(parse({"--minutes", "60", "--learner.lr_schedule", "1000:0.001"})
            .config.learner.lr_schedule == "1000:0.001");
  CHECK(parse({"--minutes", "60", "--learner.lr_schedule", ""}).config.learner.lr_schedule == "");
  CHECK(parse({"--learner.lr", "0.02"}).config.learner.lr_schedule == "");
  {
    // What config.ini holds is read back as given: a resume keeps the run's schedule.
    const rz::RunConfig sixty = parse({"--minutes", "60"}).config;
    CHECK(rz::parse_config_text(rz::to_ini(sixty)).learner.lr_schedule ==
          sixty.learner.lr_schedule);
  }
  // The second arena of the live evaluator: on where no solver set measures the network.
  CHECK(parse({"--game", "tictactoe"}).config.eval.strong_opponent_sims == 1000);
  CHECK(parse({"--game", "dotsandboxes"}).config.eval.strong_opponent_sims == 1000);
  CHECK(parse({"--game", "connect4"}).config.eval.strong_opponent_sims == 0);
  CHECK(parse({"--game", "connect4", "--eval.strong_opponent_sims", "500"})
            .config.eval.strong_opponent_sims == 500);
  CHECK(error_of({"--minutes", "1", "--run.minutes", "2"}).find("contradicts") !=
        std::string::npos);

  rz::LearnerConfig l = c.learner;
  l.lr = 0.1;
  CHECK(rz::lr_schedule_is_fractional(l.lr_schedule));
  // A fractional schedule follows the share of the run, whatever the step.
  CHECK(rz::learning_rate_at(l, 1000000, 0.0) == Approx(0.1));
  CHECK(rz::learning_rate_at(l, 0, 0.2499) == Approx(0.1));
  CHECK(rz::learning_rate_at(l, 0, 0.25) == Approx(0.01));
  CHECK(rz::learning_rate_at(l, 5, 0.8) == Approx(0.001));
  // A step schedule ignores the share; 0 and 1 are steps, not fractions.
  l.lr_schedule = "0:0.05,1:0.04";
  CHECK_FALSE(rz::lr_schedule_is_fractional(l.lr_schedule));
  CHECK(rz::learning_rate_at(l, 0, 0.9) == Approx(0.05));
  CHECK(rz::learning_rate_at(l, 1, 0.0) == Approx(0.04));
  l.lr_schedule = "";
  CHECK_FALSE(rz::lr_schedule_is_fractional(l.lr_schedule));
  CHECK(rz::learning_rate_at(l, 7, 0.5) == Approx(0.1));

  // The training clock: starts at the checkpoint's total, saturates at the run's end.
  const rz::RunClock unlimited(0, 30);
  CHECK(unlimited.seconds() >= 30);
  CHECK_FALSE(unlimited.has_limit());
  CHECK_FALSE(unlimited.expired());
  CHECK(unlimited.fraction() == 0);
  const rz::RunClock half(1, 30);  // one minute, 30 s done earlier
  CHECK(half.fraction() >= 0.5);
  CHECK_FALSE(half.expired());
  const rz::RunClock done(1, 61);
  CHECK(done.expired());
  CHECK(done.fraction() == 1);
}

TEST_CASE("config: learning-rate schedule and helpers") {
  rz::LearnerConfig l;
  l.lr = 0.1;
  l.lr_schedule = "100:0.01, 200:0.001";
  CHECK(rz::learning_rate_at(l, 0) == Approx(0.1));
  CHECK(rz::learning_rate_at(l, 99) == Approx(0.1));
  CHECK(rz::learning_rate_at(l, 100) == Approx(0.01));
  CHECK(rz::learning_rate_at(l, 5000) == Approx(0.001));

  rz::RunConfig c;
  rz::resolve_random_seed(&c);
  CHECK(c.seed != 0);
  const uint64_t s = c.seed;
  rz::resolve_random_seed(&c);
  CHECK(c.seed == s);
  CHECK(rz::effective_actor_count(c) >= 1);
  c.launch.actors = 5;
  CHECK(rz::effective_actor_count(c) == 5);
}
