"""The exported networks and the TensorBoard files, read by the real Python packages.

Run by check_export.sh and check_tensorboard_run.sh inside ringzero's virtual environment
(launch/python_env.sh), once per test, so that torch is imported once. Each check that is
given its inputs runs; each prints one line; any failure exits 1.

  --reference REF --torchscript PT --onnx ONNX [--game SPEC]
        (a) torch.jit.load'ed PT and (b) ONNX Runtime on ONNX (after onnx.checker) against
        LibTorch's outputs in REF (rz-export-reference), within 1e-4
  --eval-moves FILE --torchscript PT [--play-script ringzero_play.py]
        (c) for a Connect Four model, ringzero_play's column for every position equals
        `ringzero-eval moves --sims 0`'s (FILE: its output), or ties with it, and the script's
        command line prints the same; for tic-tac-toe, the same with docs/export.md's encoding
  --run-dir RUN
        (d) TensorBoard's EventAccumulator reads RUN/tensorboard/{learner,eval}: every
        metrics.csv / eval.csv column is a tag with the CSV's steps and values (for the
        learner: those of the rows that survive its restarts, see lineage());
        --expect-restart: the learner was killed and restarted during the run
"""
import argparse
import csv
import importlib.util
import math
import os
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")  # torch.jit deprecation notices are not our output

failures = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def read_reference(path):
    import numpy as np
    with open(path, "rb") as f:
        count, planes, height, width, actions = np.frombuffer(f.read(40), dtype="<i8")
        obs = np.frombuffer(f.read(4 * count * planes * height * width), dtype="<f4")
        logits = np.frombuffer(f.read(4 * count * actions), dtype="<f4")
        values = np.frombuffer(f.read(4 * count), dtype="<f4")
    return (obs.reshape(count, planes, height, width), logits.reshape(count, actions), values)


def check_models(args):
    import numpy as np
    import onnx
    import onnxruntime
    import torch
    obs, logits, values = read_reference(args.reference)
    n = len(obs)
    model = torch.jit.load(args.torchscript)
    model.eval()
    with torch.no_grad():
        p, v = model(torch.from_numpy(obs.copy()))
    dp, dv = np.abs(p.numpy() - logits).max(), np.abs(v.numpy() - values).max()
    check(dp <= 1e-4 and dv <= 1e-4,
          f"TorchScript in Python = LibTorch on {n} positions (max |diff| logits {dp:.2e}, value {dv:.2e})")
    attrs = {a: getattr(model, a) for a in ("game", "blocks", "filters", "observation_planes",
                                            "observation_height", "observation_width",
                                            "observation_layout_version", "num_actions", "step",
                                            "weight_version")}
    shape_ok = (attrs["observation_planes"], attrs["observation_height"],
                attrs["observation_width"], attrs["num_actions"]) == (*obs.shape[1:], logits.shape[1])
    check(shape_ok and (args.game is None or attrs["game"] == args.game),
          f"TorchScript attributes {attrs}")

    proto = onnx.load(args.onnx)
    try:
        onnx.checker.check_model(proto, full_check=True)
        check(True, f"onnx.checker accepts {os.path.basename(args.onnx)} (opset "
                    f"{proto.opset_import[0].version}, IR {proto.ir_version})")
    except Exception as e:  # the checker's own exception types vary by version
        check(False, f"onnx.checker refuses {args.onnx}: {e}")
    session = onnxruntime.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    names = ([i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()])
    check(names == (["observation"], ["policy_logits", "value"]), f"ONNX inputs/outputs {names}")
    po, vo = session.run(None, {"observation": obs})
    dp, dv = np.abs(po - logits).max(), np.abs(vo - values).max()
    check(dp <= 1e-4 and dv <= 1e-4,
          f"ONNX Runtime = LibTorch on {n} positions (max |diff| logits {dp:.2e}, value {dv:.2e})")
    p1, v1 = session.run(None, {"observation": obs[:1]})  # the batch dimension is dynamic
    check(p1.shape == (1, logits.shape[1]) and v1.shape == (1,) and
          np.abs(p1 - logits[:1]).max() <= 1e-4, "ONNX Runtime with batch 1")
    meta = {m.key: m.value for m in proto.metadata_props}
    check(meta.get("game") == attrs["game"] and meta.get("step") == str(attrs["step"]) and
          meta.get("weight_version") == str(attrs["weight_version"]),
          f"ONNX metadata agrees with the TorchScript attributes ({meta.get('game')}, step "
          f"{meta.get('step')}, weight version {meta.get('weight_version')})")


def tictactoe_position(moves):
    """Tic-tac-toe as docs/export.md encodes it: plane 0 the mover's marks, plane 1 the
    opponent's, cell k (1-9 in the move string) at row (k-1)//3, column (k-1)%3."""
    import torch
    obs = torch.zeros(2, 3, 3)
    mover = len(moves) % 2
    for k, ch in enumerate(moves):
        cell = int(ch) - 1
        obs[0 if k % 2 == mover else 1, cell // 3, cell % 3] = 1.0
    legal = [a for a in range(9) if obs[0].flatten()[a] == 0 and obs[1].flatten()[a] == 0]
    return obs, legal


def check_play(args):
    """The exported model, fed by a Python encoder, chooses ringzero-eval's moves."""
    import torch
    model = torch.jit.load(args.torchscript)
    model.eval()
    with open(args.eval_moves) as f:
        expected = [line.split() for line in f if line.strip()]
    if model.game == "connect4":
        spec = importlib.util.spec_from_file_location("ringzero_play", args.play_script)
        play = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(play)
        chosen = play.choose(model, [play.parse_moves(m) for m, _ in expected])
        who = "ringzero_play.py"
    elif model.game == "tictactoe":
        encoded = [tictactoe_position(m) for m, _ in expected]
        with torch.no_grad():
            logits, values = model(torch.stack([obs for obs, _ in encoded]))
        chosen = [(max(legal, key=lambda a: (row[a].item(), -a)), v.item(), row.tolist())
                  for (_, legal), row, v in zip(encoded, logits, values)]
        who = "the docs' tic-tac-toe encoding"
    else:
        check(False, f"no Python encoder here for {model.game}")
        return
    agree = ties = 0
    disagreements = []
    for (moves, eval_move), (move, _, logits) in zip(expected, chosen):
        e = int(eval_move) - 1
        if move == e:
            agree += 1
        elif abs(logits[move] - logits[e]) <= 1e-4 * max(1.0, abs(logits[e])):
            ties += 1  # equal up to float rounding: either is the raw policy's choice
        else:
            disagreements.append(f"{moves}: python {move + 1} eval {e + 1}")
    check(not disagreements and agree + ties == len(expected) and len(expected) >= args.min_positions,
          f"{who} + {model.game} TorchScript agrees with ringzero-eval moves --sims 0 on {agree} "
          f"of {len(expected)} positions, ties on {ties}" +
          (f"; differs: {disagreements[:5]}" if disagreements else ""))
    if model.game != "connect4":
        return
    # The command line itself, on the first position: one line, the same column.
    moves, eval_column = expected[0]
    r = subprocess.run([sys.executable, "-W", "ignore", args.play_script, args.torchscript, moves],
                       capture_output=True, text=True, timeout=120)
    words = r.stdout.split()
    ok = (r.returncode == 0 and r.stdout.count("\n") == 1 and len(words) == 4 and
          words[0] == "column" and words[2] == "value" and
          int(words[1]) == chosen[0][0] + 1 and -1 < float(words[3]) < 1 and
          abs(float(words[3]) - chosen[0][1]) < 1e-3)
    check(ok, f"ringzero_play.py {os.path.basename(args.torchscript)} {moves} printed "
              f"{r.stdout.strip()!r} {r.stderr.strip()[-200:]!r}")


def csv_rows(path):
    """[(step, {column: value})] for every complete row, non-empty finite fields only."""
    with open(path) as f:
        rows = list(csv.reader(f))
    header, out = rows[0], []
    for row in rows[1:]:
        if len(row) != len(header):
            continue
        values = {}
        for name, field in zip(header, row):
            if name in ("time", "step") or field == "":
                continue
            if math.isfinite(float(field)):
                values[name] = float(field)
        out.append((int(row[header.index("step")]), values))
    return out


def lineage(directory, rows):
    """The rows TensorBoard should show: the CSV rows are the event files' scalar events in
    order; each file's SessionLog START at step S drops the earlier rows at or past S."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    kept, used, starts = [], 0, []
    for name in sorted(os.listdir(directory)):
        events = list(EventFileLoader(os.path.join(directory, name)).Load())
        for e in events:
            if e.HasField("session_log") and e.session_log.status == 1:
                starts.append(e.step)
                kept = [r for r in kept if r[0] < e.step]
        n = sum(1 for e in events if e.HasField("summary"))
        kept += rows[used:used + n]
        used += n
    return kept, starts, used


def check_tensorboard(args):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    for role, csv_name, extra in (("learner", "metrics.csv", {"learning_rate"}),
                                  ("eval", "eval.csv", set())):
        directory = os.path.join(args.run_dir, "tensorboard", role)
        acc = EventAccumulator(directory, size_guidance={"scalars": 0})
        acc.Reload()
        tags = set(acc.Tags()["scalars"])
        rows = csv_rows(os.path.join(args.run_dir, csv_name))
        columns = set().union(*(values.keys() for _, values in rows)) if rows else set()
        missing = (columns | extra) - tags
        check(columns and not missing,
              f"TensorBoard reads {len(tags)} tags from tensorboard/{role} "
              f"({len(columns)} columns of {csv_name} with values" +
              (f"; missing {sorted(missing)})" if missing else ")"))
        files = len(os.listdir(directory))
        if role == "learner":
            rows, starts, events = lineage(directory, rows)
            check(len(starts) == files and events == len(csv_rows(os.path.join(args.run_dir, csv_name))),
                  f"tensorboard/{role}: {files} file(s) (one per learner start, resumed at steps "
                  f"{starts}), {events} events for {events} rows of {csv_name}")
        mismatches, points = [], 0
        for name in sorted(columns):
            if name not in tags:
                continue
            series = [(step, values[name]) for step, values in rows if name in values]
            events = [(e.step, e.value) for e in acc.Scalars(name)]
            points += len(events)
            if [s for s, _ in events] != [s for s, _ in series]:
                mismatches.append(f"{name}: steps {[s for s, _ in events][-8:]} vs csv "
                                  f"{[s for s, _ in series][-8:]}")
                continue
            for (step, got), (_, want) in zip(events, series):
                # The CSV rounds (to 6, 4, 3, 2 decimals, Elo to 1); TensorBoard keeps float32.
                if abs(got - want) > 0.051 + 1e-6 * abs(want):
                    mismatches.append(f"{name} at step {step}: {got} vs csv {want}")
                    break
        check(not mismatches and points > 0,
              f"tensorboard/{role}: {points} points, steps and values equal {csv_name}'s" +
              (" (after the restarts' purge)" if role == "learner" and files > 1 else "") +
              (f"; {mismatches[:4]}" if mismatches else ""))
        modes = sorted({oct(os.stat(os.path.join(directory, f)).st_mode & 0o777)
                        for f in os.listdir(directory)})
        check(modes == ["0o600"] and (os.stat(directory).st_mode & 0o777) == 0o700,
              f"tensorboard/{role} files {modes}, directory private")
    if args.expect_restart:
        starts = lineage(os.path.join(args.run_dir, "tensorboard", "learner"), [])[1]
        check(len(starts) >= 2, f"the killed learner's restart began a new event file ({len(starts)} starts)")


def main():
    parser = argparse.ArgumentParser()
    for option in ("reference", "torchscript", "onnx", "game", "eval-moves", "play-script",
                   "run-dir"):
        parser.add_argument("--" + option)
    parser.add_argument("--min-positions", type=int, default=500)
    parser.add_argument("--expect-restart", action="store_true")
    args = parser.parse_args()
    if args.reference:
        check_models(args)
    if args.eval_moves:
        check_play(args)
    if args.run_dir:
        check_tensorboard(args)
    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
