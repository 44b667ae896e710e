#include "common/mcts/selfplay.h"

#include <cassert>
#include <stdexcept>

namespace rz {
SelfPlayDriver::SelfPlayDriver(const Game& game, Evaluator& evaluator, const MctsConfig& config,
                               int games_in_flight, uint64_t seed)
    : game_(game), evaluator_(evaluator), config_(config.validated()), rng_(seed) {
  if (games_in_flight < 1 || games_in_flight > 65536)
    throw std::invalid_argument("selfplay: games_in_flight must be an integer in [1, 65536]");
  slots_.reserve(static_cast<size_t>(games_in_flight));
  for (int g = 0; g < games_in_flight; ++g) {
    slots_.push_back(std::make_unique<Slot>(game, config_, rng_()));
    start_game(*slots_.back());
  }
  // The one batch of a round holds at most virtual_leaves leaves of every game.
  const size_t max_batch =
      static_cast<size_t>(games_in_flight) * static_cast<size_t>(config_.virtual_leaves);
  batch_.reserve(max_batch);
  policy_.resize(max_batch * static_cast<size_t>(game.num_actions()));
  value_.resize(max_batch);
}

void SelfPlayDriver::start_game(Slot& slot) {
  slot.record = FinishedGame();
  slot.record.positions.reserve(static_cast<size_t>(game_.max_game_length()));
  auto state = game_.new_initial_state();
  play_random_opening(state.get(), &slot.record);
  slot.search.set_root(*state);
  slot.record.resign_disabled =
      config_.resignation_enabled() &&
      std::uniform_real_distribution<float>(0.0f, 1.0f)(rng_) < config_.resign_disabled_fraction;
  slot.searching = false;
  slot.would_resign_player = -1;
}

void SelfPlayDriver::play_random_opening(State* state, FinishedGame* record) {
  if (config_.random_opening_moves == 0) return;
  const int k = std::uniform_int_distribution<int>(0, config_.random_opening_moves)(rng_);
  auto next = state->clone();
  std::vector<Action> keep_going;  // legal moves that do not end the game
  for (int i = 0; i < k; ++i) {
    keep_going.clear();
    for (const Action a : state->legal_actions()) {
      next->copy_from(*state);
      next->apply(a);
      if (!next->is_terminal()) keep_going.push_back(a);
    }
    if (keep_going.empty()) return;
    std::uniform_int_distribution<size_t> pick(0, keep_going.size() - 1);
    const Action a = keep_going[pick(rng_)];
    PositionRecord position;
    position.action = a;
    position.player = state->current_player();
    position.root_value = 0.0f;
    position.full_search = false;  // not a training target
    position.weight_version = weight_version_;
    position.visits = {{a, 1u}};  // the record format wants the played move among the visits
    record->positions.push_back(std::move(position));
    state->apply(a);
  }
}

void SelfPlayDriver::start_search(Slot& slot) {
  // Playout cap randomisation; with full_search_prob = 1 every search is full.
  slot.full_search =
      config_.full_search_prob >= 1.0f ||
      std::uniform_real_distribution<float>(0.0f, 1.0f)(rng_) < config_.full_search_prob;
  slot.search.begin(slot.full_search ? config_.simulations : config_.fast_simulations,
                    /*add_noise=*/slot.full_search);
  slot.search_weight_version = weight_version_;
  slot.searching = true;
}

int SelfPlayDriver::run_round(std::vector<FinishedGame>* finished) {
  batch_.clear();
  for (auto& s : slots_) {
    Slot& slot = *s;
    if (!slot.searching) start_search(slot);
    slot.leaves = slot.search.collect_leaves(config_.virtual_leaves, &batch_);
  }
  const int n = static_cast<int>(batch_.size());
  if (n > 0) evaluator_.evaluate(batch_.data(), n, policy_.data(), value_.data());

  size_t offset = 0;
  for (auto& s : slots_) {
    Slot& slot = *s;
    slot.search.complete_leaves(policy_.data() + offset * static_cast<size_t>(game_.num_actions()),
                                value_.data() + offset);
    offset += static_cast<size_t>(slot.leaves);
    if (slot.search.done() && finish_move(slot)) finish_game(slot, finished);
  }
  assert(offset == batch_.size());
  return n;
}

bool SelfPlayDriver::finish_move(Slot& slot) {
  GameSearch& search = slot.search;
  const State& state = search.root_state();
  const int mover = state.current_player();
  const float root_value = search.root_value();
  slot.searching = false;
  searched_nodes_ += search.tree().size();
  searched_arena_bytes_ += search.tree().arena_bytes();

  if (slot.full_search && config_.resignation_enabled() && root_value < config_.resign_threshold &&
      search.best_child_q() < config_.resign_threshold) {
    if (!slot.record.resign_disabled) {
      slot.record.resigned = true;
      slot.record.returns[mover] = -1.0f;
      slot.record.returns[1 - mover] = 1.0f;
      return true;
    }
    if (slot.would_resign_player < 0) slot.would_resign_player = mover;
  }

  const bool sample = state.move_number() < config_.temperature_moves;
  const Action action = search.choose_action(sample, config_.temperature);
  PositionRecord position;
  position.action = action;
  position.player = mover;
  position.root_value = root_value;
  position.full_search = slot.full_search;
  position.weight_version = slot.search_weight_version;
  search.policy_target(&position.visits);
  slot.record.positions.push_back(std::move(position));
  search.advance(action);
  ++moves_played_;

  const State& next = search.root_state();
  if (!next.is_terminal()) return false;
  slot.record.returns[0] = next.returns(0);
  slot.record.returns[1] = next.returns(1);
  if (slot.would_resign_player >= 0)
    slot.record.would_have_resigned_wrongly = slot.record.returns[slot.would_resign_player] >= 0.0f;
  return true;
}

void SelfPlayDriver::finish_game(Slot& slot, std::vector<FinishedGame>* finished) {
  finished->push_back(std::move(slot.record));
  ++games_finished_;
  start_game(slot);
}

uint64_t SelfPlayDriver::simulations() const {
  uint64_t total = 0;
  for (const auto& s : slots_) total += s->search.simulations();
  return total;
}

}  // namespace rz
