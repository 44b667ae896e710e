// The registry of games: one line per game. RZ_GAME(name, factory) declares
//   std::unique_ptr<rz::Game> factory(rz::GameParams& params);
// defined in the game's own file in this folder (see docs/games.md).
RZ_GAME("tictactoe", make_tictactoe)
RZ_GAME("connect4", make_connect4)
RZ_GAME("dotsandboxes", make_dots_and_boxes)
