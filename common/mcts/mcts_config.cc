#include "common/mcts/mcts_config.h"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace rz {
namespace {

void require(bool ok, const char* field, double value, const std::string& allowed) {
  if (!ok)
    throw std::invalid_argument(
        fmt::format("mcts: {}={} is out of range: use {}", field, value, allowed));
}

}  // namespace

void MctsConfig::validate() const {
  // NaN fails every comparison below, so it is refused with the same message.
  require(simulations >= 1 && simulations <= 1000000, "simulations", simulations,
          "an integer in [1, 1000000]");
  require(c_puct > 0.0f && c_puct <= 100.0f, "c_puct", c_puct, "a number in (0, 100]");
  require(dirichlet_alpha > 0.0f && dirichlet_alpha <= 100.0f, "dirichlet_alpha", dirichlet_alpha,
          "a number in (0, 100]");
  require(dirichlet_epsilon >= 0.0f && dirichlet_epsilon <= 1.0f, "dirichlet_epsilon",
          dirichlet_epsilon, "a number in [0, 1] (0 disables root noise)");
  require(fpu_reduction >= 0.0f && fpu_reduction <= 2.0f, "fpu_reduction", fpu_reduction,
          "a number in [0, 2]");
  require(virtual_leaves >= 1 && virtual_leaves <= 256, "virtual_leaves", virtual_leaves,
          "an integer in [1, 256]");
  require(temperature_moves >= 0, "temperature_moves", temperature_moves, "an integer >= 0");
  require(temperature > 0.0f && temperature <= 10.0f, "temperature", temperature,
          "a number in (0, 10]");
  require(full_search_prob >= 0.0f && full_search_prob <= 1.0f, "full_search_prob",
          full_search_prob, "a number in [0, 1] (1 turns playout cap randomisation off)");
  require(fast_simulations >= 0 && fast_simulations <= simulations, "fast_simulations",
          fast_simulations, fmt::format("an integer in [0, simulations={}]", simulations));
  require(full_search_prob >= 1.0f || fast_simulations >= 1, "fast_simulations", fast_simulations,
          "an integer >= 1 when full_search_prob < 1 (fast searches need simulations)");
  require(resign_threshold < 1.0f, "resign_threshold", resign_threshold,
          "a number in [-1, 1) to resign, or below -1 to never resign");
  require(gumbel_considered >= 1 && gumbel_considered <= 8191, "gumbel_considered",
          gumbel_considered, "an integer in [1, 8191]");
  require(gumbel_c_visit >= 0.0f && gumbel_c_visit <= 100000.0f, "gumbel_c_visit",
          gumbel_c_visit, "a number in [0, 100000]");
  require(gumbel_c_scale > 0.0f && gumbel_c_scale <= 1000.0f, "gumbel_c_scale", gumbel_c_scale,
          "a number in (0, 1000]");
  require(random_opening_moves >= 0 && random_opening_moves <= 100000, "random_opening_moves",
          random_opening_moves, "an integer in [0, 100000] (0 turns random openings off)");
  require(resign_disabled_fraction >= 0.0f && resign_disabled_fraction <= 1.0f,
          "resign_disabled_fraction", resign_disabled_fraction, "a number in [0, 1]");
}

}  // namespace rz
