// Reading files of Connect Four positions, one per line: `<moves> [<score>] [anything...]`,
// the format of Pons' benchmark sets in ../shared/data/connect4 (see its README). The moves
// are 1-based column digits from the empty board.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace rz {

struct PositionLine {
  int line_number = 0;       // 1-based, for error messages
  std::string moves;         // first field, validated as a legal open position
  std::optional<int> score;  // second field when present and an integer
};

// Reads every non-empty line. Throws SolverError (one line, naming the file and line number)
// for an unreadable file, a malformed or illegal move sequence, or, when `require_score`, a
// missing or non-integer second field.
std::vector<PositionLine> read_position_file(const std::string& path, bool require_score);

}  // namespace rz
