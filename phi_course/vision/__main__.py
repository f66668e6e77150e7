"""`python -m phi_course.vision train [--out DIR] | eval [--per-task N] [--path DIR]`.

Introduced in lessons/09_phi_vision.ipynb. Trains and scores tiny-phi35-vision;
`make models` and `make eval-models` run these after the text models.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m phi_course.vision")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train tiny-phi35-vision (about ten minutes on one CPU core)")
    train.add_argument("--out", type=Path, default=None, help="model folder (default phi_course/models/tiny-phi35-vision)")
    train.add_argument("--threads", type=int, default=None, help="torch threads (default 1)")
    train.add_argument("--encoder-steps", type=int, default=None)
    train.add_argument("--instruct-steps", type=int, default=None)
    train.add_argument("--quick", action="store_true", help="a few steps only, to check the pipeline")
    ev = commands.add_parser("eval", help="score it on freshly drawn pictures, per task family")
    ev.add_argument("--per-task", type=int, default=None, help="questions per task and language (default 50)")
    ev.add_argument("--path", type=Path, default=None, help="a model folder other than the shipped one")
    ev.add_argument("--misses", type=int, default=0, help="show this many wrong answers per task")
    args = parser.parse_args(argv)

    if args.command == "train":
        from dataclasses import replace

        from phi_course.vision.train import Recipe
        from phi_course.vision.train import train as run

        recipe = Recipe().quick() if args.quick else Recipe()
        changes = {k: v for k, v in {"threads": args.threads, "encoder_steps": args.encoder_steps,
                                     "instruct_steps": args.instruct_steps}.items() if v is not None}
        result = run(out=args.out, recipe=replace(recipe, **changes))
        print(f"{result.name}: {result.parameters / 1e6:.2f}M parameters, {result.seconds:.0f} s "
              f"(encoder {result.encoder_seconds:.0f} s, answers {result.instruct_seconds:.0f} s), "
              f"losses {result.encoder_loss:.3f} / {result.instruct_loss:.3f}")
    else:
        from phi_course.tables import Table
        from phi_course.vision.evaluate import PER_TASK, by_family, evaluate, save, table_rows
        from phi_course.vision.runtime import load_from, model_path

        started = time.perf_counter()
        model, processor = load_from(args.path)
        per_task = args.per_task or PER_TASK
        scores = evaluate(model, processor, per_task=per_task)
        print("wrote", save(scores, args.path or model_path(), per_task))
        print(Table(table_rows(scores), title=f"tiny-phi35-vision on unseen pictures "
                                              f"({time.perf_counter() - started:.0f} s)"))
        for score in scores.values():
            for miss in score.misses[:args.misses]:
                print(f"  {score.name} [{miss['lang']}] {miss['question']!r}: expected "
                      f"{miss['expected']!r}, got {miss['got']!r}")
        if any(f.share < 0.8 for f in by_family(scores).values()):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
