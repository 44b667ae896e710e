#include "learner/version_floor.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "common/checkpoint_file.h"
#include "common/durable_file.h"

namespace rz {

WeightVersionFloor::WeightVersionFloor(const std::string& run_dir)
    : path_(checkpoint_dir(run_dir) + "/weight_version") {
  std::ifstream in(path_);
  if (!in) return;  // no version reserved yet
  std::stringstream text;
  text << in.rdbuf();
  std::string digits = text.str();
  while (!digits.empty() && std::isspace(static_cast<unsigned char>(digits.back())))
    digits.pop_back();
  const bool ok = !digits.empty() && digits.size() <= 18 &&
                  digits.find_first_not_of("0123456789") == std::string::npos;
  if (!ok)
    throw std::runtime_error(fmt::format(
        "{} does not hold a weight version: write the highest version the run has published "
        "into it (the evaluator's eval.csv and metrics.csv show it), or a larger number",
        path_));
  reserved_ = std::stoull(digits);
}

uint64_t WeightVersionFloor::next_version(uint64_t slot_latest, uint64_t known) const {
  if (slot_latest > 0) return std::max(slot_latest, known) + 1;
  return std::max(reserved_, known) + 1;
}

void WeightVersionFloor::cover(uint64_t version) {
  if (version <= reserved_) return;
  const uint64_t reserve = version + kReserveAhead;
  write_file_durably(path_, fmt::format("{}\n", reserve));
  reserved_ = reserve;
}

}  // namespace rz
