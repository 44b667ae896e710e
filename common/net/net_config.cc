#include "common/net/net_config.h"

#include <stdexcept>

namespace rz {

void NetConfig::validate() const {
  // Upper bounds keep a typo (filters=6400) from allocating gigabytes before anyone notices.
  if (blocks < 0 || blocks > 64)
    throw std::invalid_argument("network blocks=" + std::to_string(blocks) +
                                " is invalid: use an integer in [0, 64]");
  if (filters < 1 || filters > 1024)
    throw std::invalid_argument("network filters=" + std::to_string(filters) +
                                " is invalid: use an integer in [1, 1024]");
}

std::string NetConfig::shape_string() const {
  return std::to_string(blocks) + "x" + std::to_string(filters);
}

}  // namespace rz
