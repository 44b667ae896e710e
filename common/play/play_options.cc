#include "common/play/play_options.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <set>

namespace rz {
namespace {

// Upper bound on --sims: a move should come back in seconds, and MctsConfig's own limit.
constexpr long kMaxSimulations = 1000000;

long parse_integer(const std::string& option, const std::string& text, long min, long max) {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || v < min || v > max)
    throw PlayUsageError(
        fmt::format("{} '{}' is not valid: use an integer in [{}, {}]", option, text, min, max));
  return v;
}

int parse_color(const std::string& text) {
  if (text == "first" || text == "x" || text == "X" || text == "1") return 0;
  if (text == "second" || text == "o" || text == "O" || text == "2") return 1;
  throw PlayUsageError(fmt::format(
      "--color '{}' is not a colour: use first (or x) to move first, second (or o) to let the "
      "agent open",
      text));
}

}  // namespace

const char* play_usage() {
  return "usage: ringzero-play (--run-dir RUN | --checkpoint FILE | --weights BLOB)\n"
         "                     [--color first|second|x|o] [--sims N] [--seed S]\n"
         "Play the agent in the terminal. The network file names its game.\n"
         "  --run-dir RUN     use RUN's newest valid checkpoint (RUN/checkpoints/)\n"
         "  --checkpoint FILE a checkpoint file (ckpt-<step>.rzck)\n"
         "  --weights BLOB    a raw weight blob\n"
         "  --color C         first/x: you move first (default); second/o: the agent opens\n"
         "  --sims N          MCTS simulations per agent move (default 200; 0 = the raw\n"
         "                    network policy, no search)\n"
         "  --seed S          search seed (default 1)\n"
         "During the game type a move as the board shows it, or: help, moves, board, quit.\n";
}

PlayOptions parse_play_options(int argc, const char* const* argv) {
  PlayOptions o;
  std::set<std::string> seen;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      o.help = true;
      return o;
    }
    static const std::set<std::string> kValued = {"--run-dir", "--checkpoint", "--weights",
                                                  "--color",   "--sims",       "--seed"};
    if (!kValued.count(arg))
      throw PlayUsageError(fmt::format("unknown argument '{}': see ringzero-play --help", arg));
    if (!seen.insert(arg).second)
      throw PlayUsageError(fmt::format("{} given twice: give it once", arg));
    if (i + 1 >= argc || std::string(argv[i + 1]).empty())
      throw PlayUsageError(fmt::format("{} needs a value: see ringzero-play --help", arg));
    const std::string value = argv[++i];
    if (arg == "--run-dir")
      o.run_dir = value;
    else if (arg == "--checkpoint")
      o.checkpoint = value;
    else if (arg == "--weights")
      o.weights = value;
    else if (arg == "--color")
      o.human_player = parse_color(value);
    else if (arg == "--sims")
      o.simulations = static_cast<int>(parse_integer(arg, value, 0, kMaxSimulations));
    else if (arg == "--seed")
      o.seed = static_cast<uint64_t>(parse_integer(arg, value, 0, 0x7fffffffL));
  }
  const int sources = !o.run_dir.empty() + !o.checkpoint.empty() + !o.weights.empty();
  if (sources != 1)
    throw PlayUsageError(sources == 0
                             ? "no network given: pass --run-dir RUN, --checkpoint FILE or "
                               "--weights BLOB"
                             : "more than one network given: pass only one of --run-dir, "
                               "--checkpoint, --weights");
  return o;
}

}  // namespace rz
