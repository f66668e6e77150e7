"""`python -m phi_course.training dataset | train [--only NAME] [--out DIR] | tools [--out DIR] | all [--jobs N] | eval`.

Introduced in lessons/11_build_a_tiny_slm.ipynb. `make models` runs `all` (every model, text and vision, in parallel),
`make eval-models` runs `eval`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# OpenMP's threads spin while they wait for each other. On an otherwise idle machine that is
# what makes two threads fast (measured here: 12.7 training steps/s spinning, 7.8 with
# OMP_WAIT_POLICY=PASSIVE); on a busy one, set OMP_WAIT_POLICY=PASSIVE yourself, or the
# spinning threads burn their time slices and training slows down many times over.


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phi_course.training")
    commands = parser.add_subparsers(dest="command", required=True)
    data = commands.add_parser("dataset", help="write data/qa.jsonl and data/texts.jsonl")
    data.add_argument("--out", type=Path, default=None, help="folder for the JSONL files")
    train = commands.add_parser("train", help="train the embedded models")
    train.add_argument("--only", default=None, help="train one model, e.g. tiny-phi35-mini")
    train.add_argument("--out", type=Path, default=None, help="models folder (default phi_course/models)")
    train.add_argument("--threads", type=int, default=None, help="torch threads (default 2)")
    tools = commands.add_parser("tools", help="train tiny-phi35-mini's tool-calling adapter (train does it too)")
    tools.add_argument("--out", type=Path, default=None, help="models folder (default phi_course/models)")
    tools.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    every = commands.add_parser("all", help="train every embedded model, text and vision (make models)")
    every.add_argument("--jobs", type=int, default=2, help="models trained at once, one thread each")
    every.add_argument("--out", type=Path, default=None, help="models folder (default phi_course/models)")
    ev = commands.add_parser("eval", help="score the embedded models on the dataset")
    ev.add_argument("--only", default=None, help="evaluate one model")
    ev.add_argument("--limit", type=int, default=None, help="at most this many questions per language")
    ev.add_argument("--one-phrasing", action="store_true", help="ask each fact once, not in every phrasing")
    ev.add_argument("--models", type=Path, default=None, help="models folder (default: the shipped models)")
    args = parser.parse_args(argv)

    if args.command == "dataset":
        from phi_course.training.dataset import DATA_DIR, summary, write_dataset

        paths = write_dataset(args.out or DATA_DIR)
        print(", ".join(f"{k}={v}" for k, v in summary().items()))
        for path in paths.values():
            print("wrote", path)
    elif args.command == "train":
        from phi_course.training.train import train_all

        start = time.perf_counter()
        for r in train_all(only=args.only, out=args.out, threads=args.threads):
            print(f"{r.name}: {r.parameters / 1e6:.2f}M parameters, {r.seconds:.0f} s, "
                  f"pre-train loss {r.pretrain_loss:.3f}, instruct loss {r.sft_loss:.3f}")
        print(f"total {time.perf_counter() - start:.0f} s")
    elif args.command == "tools":
        from phi_course.training.tool_adapter import train_adapter

        record = train_adapter(args.out, threads=args.threads)
        print(f"{record['base']} tools adapter: {record['trainable_parameters']:,} parameters, "
              f"{record['seconds']:.0f} s, last-epoch loss {record['last_epoch_loss']:.3f}")
    elif args.command == "all":
        from phi_course.training.parallel import run_all

        return run_all(args.jobs, args.out)
    else:
        from phi_course.training.evaluate import print_table

        print_table(only=args.only, limit=args.limit, one_phrasing=args.one_phrasing, models_path=args.models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
