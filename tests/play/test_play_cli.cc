// ringzero-play as a person uses it: the real binary, a real checkpoint file in a real run
// directory (the learner's section layout, learner/checkpoint.cc), moves typed on a pipe.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "common/checkpoint_file.h"
#include "common/config_options.h"
#include "common/game.h"
#include "common/net/net_evaluator.h"
#include "common/play/terminal_match.h"
#include "tests/support/child_process.h"
#include "tests/support/files.h"
#include "tests/support/temp_dir.h"

using namespace rz;
using namespace rz::testing;

namespace {

const std::string kPlay = std::string(RZ_BINARY_DIR) + "/common/play/ringzero-play";

std::vector<uint8_t> bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

// A fresh (untrained, seeded) network's blob for `spec`.
std::vector<uint8_t> fresh_blob(const std::string& spec, uint64_t seed = 7) {
  const auto game = make_game(spec);
  NetConfig net;
  net.blocks = 1;
  net.filters = 8;
  return NetEvaluator(*game, net, 8, 1, seed).blob();
}

// RUN/checkpoints/ckpt-<step>.rzck with every section the learner writes, in its order.
std::string write_learner_checkpoint(const std::string& run_dir, const std::string& spec,
                                     uint64_t step, uint64_t version) {
  ::mkdir(checkpoint_dir(run_dir).c_str(), 0755);
  RunConfig config;
  config.game = spec;
  config.net.blocks = 1;
  config.net.filters = 8;
  const CheckpointSections sections = {
      {"game_spec", bytes(spec)},
      {"net_shape", bytes(config.net.shape_string())},
      {"config", bytes(to_ini(config))},
      {"weights", fresh_blob(spec)},
      {"optimizer", {}},
      {"step", u64_bytes(step)},
      {"weight_version", u64_bytes(version)},
      {"rng", bytes("1 2 3")},
  };
  const std::string path = checkpoint_path(run_dir, step);
  write_checkpoint_sections(path, sections);
  return path;
}

std::string tictactoe_run() {
  static const TempDir dir("play-ttt");
  static const bool written = (write_learner_checkpoint(dir.path(), "tictactoe", 40, 5), true);
  (void)written;
  return dir.path();
}

ChildResult play(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {kPlay};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_child(argv, input);
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

// The index of the first line that starts with `prefix`, or -1.
int find_line(const std::vector<std::string>& lines, const std::string& prefix, int from = 0) {
  for (int i = from; i < static_cast<int>(lines.size()); ++i)
    if (starts_with(lines[static_cast<size_t>(i)], prefix)) return i;
  return -1;
}

// The output lines of a session that must have ended normally (exit 0).
std::vector<std::string> lines_of_session(const ChildResult& r) {
  REQUIRE(r.status == 0);
  return split_lines(r.out);
}

// find_line for a line that must be there, after the first line.
int required_line(const std::vector<std::string>& lines, const std::string& prefix) {
  const int i = find_line(lines, prefix);
  REQUIRE(i > 0);
  return i;
}

// Replays a transcript: every prompt line "Your move (...)> TEXT" whose next line is not an
// error is a move the person made; every "Agent (...) plays A" line is the agent's. Returns
// the actions in order.
std::vector<Action> moves_in_transcript(const Game& game, const std::vector<std::string>& lines) {
  std::vector<Action> moves;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (starts_with(l, "Your move (")) {
      const std::string text = l.substr(l.find("> ") + 2);
      const bool rejected = i + 1 < lines.size() && (starts_with(lines[i + 1], "Not a move:") ||
                                                     starts_with(lines[i + 1], "Illegal move:"));
      if (!rejected && i + 1 < lines.size() && text.find_first_not_of(' ') != std::string::npos &&
          text != "help" && text != "moves" && text != "board")
        moves.push_back(game.parse_action(text));
    } else if (starts_with(l, "Agent (")) {
      const size_t p = l.find(" plays ") + 7;
      const size_t end = std::min(l.find(" after ", p), l.find(" (raw", p));
      moves.push_back(game.parse_action(l.substr(p, end - p)));
    }
  }
  return moves;
}

}  // namespace

TEST_CASE("play: a malformed and an illegal move each get one line, then the game goes on") {
  // Cell 5, then junk, then 5 again (now taken), then EOF.
  const auto r = play({"--run-dir", tictactoe_run(), "--sims", "16"}, "5\nfoo\n5\n");
  INFO(r.out << r.err);
  const auto lines = lines_of_session(r);
  const int bad = required_line(lines, "Not a move:");
  CHECK_THAT(lines[static_cast<size_t>(bad)], Catch::Contains("'foo' is not a cell"));
  CHECK(lines[static_cast<size_t>(bad) - 1] == "Your move (first player)> foo");
  // The very next line asks again: the message was one line.
  CHECK(lines[static_cast<size_t>(bad) + 1] == "Your move (first player)> 5");
  const int illegal = find_line(lines, "Illegal move:");
  REQUIRE(illegal == bad + 2);
  CHECK_THAT(lines[static_cast<size_t>(illegal)],
             Catch::Contains("'5' is not allowed in this position"));
  CHECK_THAT(lines[static_cast<size_t>(illegal)], Catch::Contains("legal moves:"));
  CHECK_FALSE(Catch::contains(lines[static_cast<size_t>(illegal)], " 5,"));
  // The game went on after the valid 5 (the agent answered), and EOF ended it cleanly.
  CHECK(find_line(lines, "Agent (second player) plays") > 0);
  CHECK(find_line(lines, "Input ended: game abandoned.") > illegal);
  CHECK(r.err.empty());
  CHECK(count(r.out, "Result:") == 0);
}

TEST_CASE("play: a whole game ends with a result line that matches the moves") {
  // The person tries cells 1..9 in order on every turn: the first free one is played, the
  // taken ones are refused and the game continues until it is over.
  std::string input;
  for (int turn = 0; turn < 5; ++turn)
    for (int cell = 1; cell <= 9; ++cell) input += std::to_string(cell) + "\n";
  const auto game = make_game("tictactoe");
  for (const char* color : {"first", "second"}) {
    const auto r = play({"--run-dir", tictactoe_run(), "--sims", "32", "--color", color}, input);
    INFO(color << "\n" << r.out << r.err);
    const auto lines = lines_of_session(r);
    const int result = required_line(lines, "Result: ");
    CHECK(result == static_cast<int>(lines.size()) - 1);  // nothing after the result
    // Replaying the transcript reaches a finished game whose outcome the line states.
    const int human = std::string(color) == "first" ? 0 : 1;
    auto state = game->new_initial_state();
    for (Action a : moves_in_transcript(*game, lines)) {
      REQUIRE(state->is_legal(a));
      state->apply(a);
    }
    REQUIRE(state->is_terminal());
    CHECK_THAT(lines[static_cast<size_t>(result)],
               Catch::StartsWith("Result: " + outcome_words(state->returns(human)) + " "));
  }
}

TEST_CASE("play: --color second lets the agent open, with its evaluation shown") {
  const auto r = play({"--run-dir", tictactoe_run(), "--sims", "24", "--color", "second"}, "");
  INFO(r.out << r.err);
  const auto lines = lines_of_session(r);
  const int agent = required_line(lines, "Agent (first player) plays ");
  CHECK_THAT(lines[static_cast<size_t>(agent)], Catch::EndsWith("after 24 simulations"));
  CHECK(find_line(lines, "Your move") > agent);
  // The evaluation: the value and its expected score, then a table whose visit shares are
  // those of a real 24-simulation search (each a multiple of 1/24).
  REQUIRE(starts_with(lines[static_cast<size_t>(agent) + 1], "  value "));
  CHECK_THAT(lines[static_cast<size_t>(agent) + 1], Catch::Contains("expected score"));
  CHECK(lines[static_cast<size_t>(agent) + 2] == "  move  visits  Q(agent)  prior");
  double total_share = 0;
  for (size_t i = static_cast<size_t>(agent) + 3; i < lines.size() && starts_with(lines[i], "  ");
       ++i) {
    std::istringstream row(lines[i]);
    std::string move, share;
    row >> move >> share;
    total_share += std::stod(share);
  }
  CHECK(total_share > 40.0);  // the top 5 of at most 9 moves
  CHECK(total_share <= 100.5);
  // The checkpoint named in the banner is the run's one, with its step and version.
  CHECK_THAT(lines[0], Catch::Contains("ckpt-") && Catch::Contains("step 40, weight version 5"));
}

TEST_CASE("play: help, moves, board and quit are commands, not moves") {
  const auto r =
      play({"--run-dir", tictactoe_run(), "--sims", "8"}, "help\nmoves\nboard\nQUIT\n9\n");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("Legal moves: 1, 2, 3, 4, 5, 6, 7, 8, 9"));
  CHECK_THAT(r.out, Catch::Contains("'quit' ends the game"));
  CHECK_THAT(r.out, Catch::Contains("You left the game."));
  CHECK(count(r.out, "Agent (") == 0);  // 9 after quit was never read as a move
}

TEST_CASE("play: --run-dir takes the newest valid checkpoint and skips a corrupt newer one") {
  const TempDir scratch("play-corrupt");
  const std::string& dir = scratch.path();
  write_learner_checkpoint(dir, "tictactoe", 40, 5);
  const std::string newer = write_learner_checkpoint(dir, "tictactoe", 80, 9);
  {
    std::fstream f(newer, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x5a');
  }
  const auto r = play({"--run-dir", dir, "--sims", "4"}, "");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK_THAT(r.out, Catch::Contains("step 40, weight version 5"));
  CHECK_THAT(r.err, Catch::Contains("skipping checkpoint") && Catch::Contains("ckpt-"));
}

TEST_CASE("play: every game, from a raw weight blob, with search and with the raw policy") {
  struct Job {
    std::string spec, sims, first;
  };
  std::vector<Job> jobs;
  std::vector<std::function<ChildResult()>> runs;
  const TempDir scratch("play-blob");
  for (const std::string spec : {"tictactoe", "connect4", "dotsandboxes"}) {
    const auto game = make_game(spec);
    const std::string blob_path = scratch.path() + "/" + spec + ".blob";
    const auto blob = fresh_blob(spec, 11);
    std::ofstream(blob_path, std::ios::binary)
        .write(reinterpret_cast<const char*>(blob.data()),
               static_cast<std::streamsize>(blob.size()));
    // The person's first move: the game's own text for its first legal action.
    const std::string first =
        game->action_to_string(game->new_initial_state()->legal_actions().front());
    for (const std::string sims : {"0", "16"}) {
      jobs.push_back({spec, sims, first});
      runs.push_back([=] { return play({"--weights", blob_path, "--sims", sims}, first + "\n"); });
    }
  }
  const auto results = run_parallel(runs);
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& r = results[j];
    const auto game = make_game(jobs[j].spec);
    const auto initial = game->new_initial_state();
    INFO(jobs[j].spec << " sims " << jobs[j].sims << "\n" << r.out << r.err);
    const auto lines = lines_of_session(r);
    CHECK_THAT(r.out, Catch::Contains("ringzero-play: " + game->name()));
    CHECK_THAT(r.out, Catch::Contains(initial->to_string()));
    const int agent = required_line(lines, "Agent (second player) plays ");
    const auto moves = moves_in_transcript(*game, lines);
    REQUIRE(moves.size() >= 2);
    CHECK(moves[0] == initial->legal_actions().front());
    auto state = game->new_initial_state();
    for (Action a : moves) {
      REQUIRE(state->is_legal(a));
      state->apply(a);
    }
    const std::string header = lines[static_cast<size_t>(agent) + 2];
    CHECK_THAT(header, Catch::StartsWith("  move "));
    if (jobs[j].sims == "0") {
      CHECK_THAT(header, Catch::EndsWith(" prior") && !Catch::Contains("visits"));
    } else {
      CHECK_THAT(header, Catch::Contains("visits"));
    }
    CHECK(find_line(lines, "Input ended") > agent);
  }
}

TEST_CASE("play: bad command lines and bad files are one-line errors with a non-zero exit") {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  const TempDir scratch("play-empty");
  const std::string& empty_run = scratch.path();
  const std::string junk = empty_run + "/junk.rzck";
  std::ofstream(junk) << "RZCKPT not really a checkpoint";
  const std::vector<Case> cases = {
      {{}, "no network given"},
      {{"--run-dir", "/nonexistent/run"}, "does not exist"},
      {{"--run-dir", empty_run}, "no valid checkpoint"},
      {{"--checkpoint", junk}, "junk.rzck"},
      {{"--weights", "/nonexistent/net.blob"}, "/nonexistent/net.blob"},
      {{"--run-dir", tictactoe_run(), "--color", "purple"}, "--color 'purple'"},
      {{"--run-dir", tictactoe_run(), "--sims", "-3"}, "--sims '-3'"},
      {{"--run-dir", tictactoe_run(), "--sims"}, "--sims needs a value"},
      {{"--run-dir", tictactoe_run(), "--checkpoint", junk}, "more than one network"},
      {{"--run-dir", tictactoe_run(), "--bogus", "1"}, "unknown argument '--bogus'"},
  };
  std::vector<std::function<ChildResult()>> runs;
  for (const auto& c : cases) runs.push_back([&c] { return play(c.args, "5\n"); });
  const auto results = run_parallel(runs);
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    const auto& r = results[i];
    INFO(r.out << r.err);
    CHECK(r.status != 0);
    CHECK_THAT(r.err, Catch::Contains(c.expect));
    CHECK(count(r.err, "\n") == 1);
    CHECK(count(r.out, "Your move") == 0);
  }
  const auto help = play({"--help"}, "");
  CHECK(help.status == 0);
  CHECK_THAT(help.out, Catch::Contains("--color"));
}
