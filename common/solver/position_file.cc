#include "common/solver/position_file.h"

#include <fstream>
#include <sstream>

#include "common/solver/connect4_solver.h"
#include "common/text_parse.h"

namespace rz {

std::vector<PositionLine> read_position_file(const std::string& path, bool require_score) {
  std::ifstream in(path);
  if (!in) throw SolverError("cannot read positions file '" + path + "': check the path");
  std::vector<PositionLine> out;
  std::string text;
  int line_number = 0;
  while (std::getline(in, text)) {
    ++line_number;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    std::istringstream fields(text);
    PositionLine line;
    line.line_number = line_number;
    if (!(fields >> line.moves)) continue;  // blank line
    const std::string where = path + ":" + std::to_string(line_number) + ": ";
    try {
      parse_connect4_moves(line.moves);
    } catch (const SolverError& e) {
      throw SolverError(where + e.what());
    }
    std::string score_text;
    int score = 0;
    if (fields >> score_text && parse_int(score_text, &score)) line.score = score;
    if (require_score && !line.score)
      throw SolverError(where + "expected '<moves> <score>' with an integer score");
    out.push_back(std::move(line));
  }
  if (in.bad()) throw SolverError("error reading positions file '" + path + "'");
  return out;
}

}  // namespace rz
