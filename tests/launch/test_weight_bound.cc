// The supervisor sizes the weight slot without LibTorch (launch/segment_sizes.h); this test
// holds that bound against real blobs of the real network, for every game and a range of
// shapes, so an architecture change that outgrows it fails here, not in a run.
#include <catch2/catch.hpp>

#include "common/game.h"
#include "common/net/network.h"
#include "launch/segment_sizes.h"

TEST_CASE("the supervisor's weight-slot bound holds every real blob within a factor of two") {
  for (const std::string spec :
       {"tictactoe", "connect4", "dotsandboxes", "dotsandboxes:rows=4,cols=5"}) {
    const auto game = rz::make_game(spec);
    for (const rz::NetConfig config :
         {rz::NetConfig{1, 8}, rz::NetConfig{4, 64}, rz::NetConfig{6, 96}}) {
      auto net = rz::make_network(*game, config);
      const std::vector<uint8_t> blob = rz::network_to_blob(net, *game, config);
      const uint64_t bound = rz::launch::weight_blob_upper_bound(*game, config);
      INFO(spec << " " << config.shape_string() << ": blob " << blob.size() << " bytes, bound "
                << bound);
      CHECK(blob.size() <= bound);
      CHECK(bound <= 2 * blob.size() + (256u << 10));  // not wastefully large either
    }
  }
}
