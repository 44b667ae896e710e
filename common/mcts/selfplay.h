// SelfPlayDriver: many self-play games at once in one thread, one evaluator batch per round.
//
// Each round, every game in flight collects up to config.virtual_leaves leaves from its own
// search (virtual loss keeps them apart); the leaves of ALL games go to the evaluator in ONE
// evaluate() call — on a CPU that batch is where self-play gets its speed — and the results
// are backed up. Games whose search is complete play their move: sampled in proportion to
// visit counts for the first temperature_moves moves, the most visited move afterwards.
// Finished games (common/finished_game.h) are handed out and replaced by fresh ones, so the
// batch stays full.
//
// Per move (playout cap randomisation, KataGo): with probability full_search_prob a full
// search (simulations, root noise, recorded as a training target), else a fast search
// (fast_simulations, no noise, full_search = false). Resignation (AlphaGo Zero): after a full
// search, the mover resigns when the root value and the best child's Q are both below
// resign_threshold; a resign_disabled_fraction of games never resign and instead record
// whether the first side that would have resigned went on to not lose (a false resignation).
// Random openings (config.random_opening_moves): a fresh game first plays 0..N uniformly
// random moves that do not end it, recorded but not searched and not training targets.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <utility>
#include <vector>

#include "common/evaluator.h"
#include "common/finished_game.h"
#include "common/game.h"
#include "common/mcts/game_search.h"
#include "common/mcts/mcts_config.h"

namespace rz {

class SelfPlayDriver {
 public:
  // Throws std::invalid_argument for an invalid config or games_in_flight < 1.
  SelfPlayDriver(const Game& game, Evaluator& evaluator, const MctsConfig& config,
                 int games_in_flight, uint64_t seed);

  // One round: every game in flight collects up to virtual_leaves leaves, all leaves of all
  // games go to the evaluator in ONE evaluate() call, values are backed up; games whose
  // search is complete play their move; finished games are appended to *finished and
  // replaced by fresh games. Returns the number of leaves evaluated.
  int run_round(std::vector<FinishedGame>* finished);

  void set_weight_version(uint64_t v) { weight_version_ = v; }  // for moves searched from now on

  uint64_t simulations() const;  // backups, terminal ones included
  uint64_t moves_played() const { return moves_played_; }
  uint64_t games_finished() const { return games_finished_; }
  int games_in_flight() const { return static_cast<int>(slots_.size()); }

  // Tree memory, summed over every completed search: nodes in the tree when the move was
  // chosen, and the arena bytes held at that moment (capacity of both buffers).
  uint64_t searched_nodes() const { return searched_nodes_; }
  uint64_t searched_arena_bytes() const { return searched_arena_bytes_; }

 private:
  struct Slot {
    explicit Slot(const Game& game, const MctsConfig& config, uint64_t seed)
        : search(game, config, seed) {}
    GameSearch search;
    FinishedGame record;
    bool searching = false;    // a search has begun for the current move
    bool full_search = false;  // ...and it is a full one
    uint64_t search_weight_version = 0;
    int would_resign_player = -1;  // resign-disabled games: first side that would have
    int leaves = 0;                // leaves in this round's batch
  };

  void start_game(Slot& slot);
  // config.random_opening_moves: plays the random opening on *state, recording its moves.
  void play_random_opening(State* state, FinishedGame* record);
  void start_search(Slot& slot);
  // Plays the move of a completed search; true if the game ended.
  bool finish_move(Slot& slot);
  void finish_game(Slot& slot, std::vector<FinishedGame>* finished);

  const Game& game_;
  Evaluator& evaluator_;
  const MctsConfig config_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<Slot>> slots_;

  std::vector<const State*> batch_;
  std::vector<float> policy_, value_;

  uint64_t weight_version_ = 0;
  uint64_t moves_played_ = 0, games_finished_ = 0;
  uint64_t searched_nodes_ = 0, searched_arena_bytes_ = 0;
};

}  // namespace rz
