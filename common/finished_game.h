// FinishedGame: one finished self-play game, as the actor's self-play produces it, the record
// format carries it through the ring (common/trajectory.h) and the learner trains on it.
//
// Plain data shared by both ends of the data flow, so it lives beside the record format and not
// with the self-play driver (common/mcts/selfplay.h): the record encoder and the learner's
// decoder need the data, not the search that made it.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "common/game.h"

namespace rz {

struct PositionRecord {
  Action action;            // the move played
  int player;               // who played it
  float root_value;         // search value for `player`
  bool full_search;         // training target?
  uint64_t weight_version;  // weights in use when this move's search began
  // Root visit counts of the children with N > 0, in increasing action order.
  std::vector<std::pair<Action, uint32_t>> visits;
};

struct FinishedGame {
  std::vector<PositionRecord> positions;  // every move from the initial state, in order
  float returns[2] = {0.0f, 0.0f};        // final outcome per player
  bool resigned = false;                  // ended by resignation (returns then say who resigned)
  bool resign_disabled = false;  // this game had resignation disabled (resignation being on)
  bool would_have_resigned_wrongly = false;  // only meaningful when resign_disabled
};

}  // namespace rz
