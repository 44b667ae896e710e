// The shape of the policy/value network: how many residual blocks, how many filters.
//
// Torch-free on purpose: the configuration layer, the actor and blob-inspection tools read
// and print it without pulling in LibTorch. The architecture itself (common/net/network.h)
// is fixed; only these two numbers vary, and both travel inside every weight blob so that a
// blob always says which network it belongs to.
#pragma once

#include <string>

namespace rz {

struct NetConfig {
  int blocks = 4;    // residual blocks after the stem
  int filters = 64;  // channels of every 3x3 convolution

  // Throws std::invalid_argument with a one-line message naming the bad field.
  void validate() const;
  // "4x64": blocks x filters, as error messages and logs print it.
  std::string shape_string() const;
};

inline bool operator==(const NetConfig& a, const NetConfig& b) {
  return a.blocks == b.blocks && a.filters == b.filters;
}
inline bool operator!=(const NetConfig& a, const NetConfig& b) {
  return !(a == b);
}

}  // namespace rz
