#!/usr/bin/env python3
"""Play a Connect Four position with an exported ringzero network (docs/export.md).

    python3 ringzero_play.py MODEL MOVES

MODEL is a TorchScript file written by `ringzero-export --format torchscript` from a
Connect Four checkpoint; MOVES is the position as the columns played so far, 1-7 from the
left, first player first (Pascal Pons' notation: "4453"; "" or "-" is the empty board).
Prints one line, `column C value V`: the raw policy's choice among the legal columns (the
highest logit; ties go to the lowest column, as `ringzero-eval moves --sims 0` breaks them)
and the network's value for the player to move, in (-1, 1).

The functions are importable: encode() is the observation encoding, choose() a batch.
Needs only PyTorch.
"""
import sys

import torch

WIDTH, HEIGHT = 7, 6


def parse_moves(moves):
    """The list of 0-based columns of a move string; raises ValueError on a bad move."""
    if moves in ("", "-"):
        return []
    columns = []
    heights = [0] * WIDTH
    for k, ch in enumerate(moves):
        if ch not in "1234567":
            raise ValueError(f"move {k + 1} of '{moves}' is '{ch}', not a column 1-7")
        c = int(ch) - 1
        if heights[c] == HEIGHT:
            raise ValueError(f"move {k + 1} of '{moves}' plays into full column {ch}")
        heights[c] += 1
        columns.append(c)
    return columns


def has_four(columns):
    """True when the last move of `columns` completed four in a row (the game is over)."""
    if not columns:
        return False
    grid, heights = {}, [0] * WIDTH
    for k, c in enumerate(columns):
        grid[(c, heights[c])] = k % 2
        heights[c] += 1
    c = columns[-1]
    r, me = heights[c] - 1, (len(columns) - 1) % 2
    for dc, dr in ((1, 0), (0, 1), (1, 1), (1, -1)):
        run = 1
        for sign in (1, -1):
            x, y = c + sign * dc, r + sign * dr
            while grid.get((x, y)) == me:
                run, x, y = run + 1, x + sign * dc, y + sign * dr
        if run >= 4:
            return True
    return False


def encode(columns):
    """The observation of the position after `columns` and its legal columns.

    Plane 0 holds the stones of the player to move, plane 1 the opponent's; row 0 is the
    TOP row of the board, column 0 the leftmost (shape [2, 6, 7], float32).
    """
    obs = torch.zeros(2, HEIGHT, WIDTH)
    heights = [0] * WIDTH
    mover = len(columns) % 2  # 0: the first player is to move
    for k, c in enumerate(columns):
        row = HEIGHT - 1 - heights[c]  # the stone falls to the lowest free cell
        heights[c] += 1
        obs[0 if k % 2 == mover else 1, row, c] = 1.0
    legal = [c for c in range(WIDTH) if heights[c] < HEIGHT]
    return obs, legal


def choose(model, positions):
    """(column 0-6, value, logits) for each position (a list of column lists), in one batch."""
    encoded = [encode(p) for p in positions]
    with torch.no_grad():
        logits, values = model(torch.stack([obs for obs, _ in encoded]))
    out = []
    for (_, legal), row, value in zip(encoded, logits, values):
        best = max(legal, key=lambda c: (row[c].item(), -c))  # ties: the lowest column
        out.append((best, value.item(), row.tolist()))
    return out


def main(argv):
    if len(argv) != 3:
        print("usage: ringzero_play.py MODEL MOVES  (MOVES: columns 1-7, e.g. 4453)", file=sys.stderr)
        return 2
    model = torch.jit.load(argv[1])
    model.eval()
    if model.game != "connect4" or model.observation_layout_version != 1:
        print(f"ringzero_play.py: {argv[1]} is a {model.game} network (observation layout "
              f"{model.observation_layout_version}); export a connect4 checkpoint", file=sys.stderr)
        return 1
    try:
        columns = parse_moves(argv[2])
    except ValueError as e:
        print(f"ringzero_play.py: {e}", file=sys.stderr)
        return 1
    _, legal = encode(columns)
    if not legal or has_four(columns):
        print(f"ringzero_play.py: '{argv[2]}' is a finished game: no move left", file=sys.stderr)
        return 1
    column, value, _ = choose(model, [columns])[0]
    print(f"column {column + 1} value {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
