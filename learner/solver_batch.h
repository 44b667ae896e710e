// SolverBatchBuilder: training minibatches of Connect Four positions labelled by the solver,
// for the supervised ceiling (ringzero-supervised, docs/results.md): how far the network gets
// when it is taught the exact answer instead of its own search's.
//
// One labelled position (common/eval/move_accuracy.h: every column's solved score) makes one
// sample, in the same Batch the self-play learner trains on:
//   observation  Game::observe after replaying the position's moves from the empty board;
//   policy       uniform over the optimal columns (those of the best score: the solver's own
//                choice set, Silver et al.'s pi with the search replaced by the proof);
//   value        the game-theoretic result for the side to move: +1 won, 0 drawn, -1 lost;
// and a random board symmetry, as BatchBuilder applies to self-play samples.
//
// Samples are made once at construction (a few hundred bytes each); build() copies and
// mirrors. drop_positions_of() keeps a training set apart from test sets. Torch-free.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "common/eval/move_accuracy.h"
#include "common/game.h"
#include "learner/batch_builder.h"

namespace rz {

class SolverBatchBuilder {
 public:
  // `game` must be connect4; throws GameError naming the position if one does not replay
  // (a bad character, an illegal or a finished line).
  SolverBatchBuilder(const Game& game, const std::vector<LabelledPosition>& positions,
                     int batch_size);

  // batch_size samples drawn uniformly with replacement.
  void build(std::mt19937_64& rng, Batch* batch) const;
  size_t positions() const { return values_.size(); }

 private:
  const Game& game_;
  int batch_size_;
  int obs_size_, num_actions_;
  std::vector<float> observations_, policies_, legal_, values_;
};

// Removes from *train every position that is also in `others`, in any orientation (the same
// stones, however the moves were ordered: compared by observation); returns how many went.
// Throws GameError for a position that does not replay on `game`.
size_t drop_positions_of(const Game& game, const std::vector<LabelledPosition>& others,
                         std::vector<LabelledPosition>* train);

}  // namespace rz
