"""Strip outputs and stray metadata from notebooks, or check that they are clean.

    python tools/nbclean.py lessons          # clean in place
    python tools/nbclean.py --check lessons  # exit 1 and list the dirty ones
    python tools/nbclean.py --stdin          # a git clean filter: notebook in, clean notebook out

`make install` registers `--stdin` as the git filter `nbclean` (.gitattributes
applies it to the lessons), so a lesson that JupyterLab opened, ran and saved
still shows as unchanged in git: outputs, widget state and the local kernel's
name stay on your disk and out of commits. Standard library only, so git can
run it with any Python.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
KEPT_CELL_METADATA = {"tags"}  # e.g. raises-exception; everything else is editor noise


def clean(nb: dict) -> dict:
    """The notebook with no outputs, no execution counts and a normal kernelspec."""
    for cell in nb.get("cells", []):
        cell["metadata"] = {k: v for k, v in cell.get("metadata", {}).items() if k in KEPT_CELL_METADATA}
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nb["metadata"] = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    return nb


def render(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that need cleaning")
    parser.add_argument("--stdin", action="store_true", help="read one notebook on stdin, write it clean to stdout")
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    if args.stdin:
        text = sys.stdin.read()
        try:
            sys.stdout.write(render(clean(json.loads(text))))
        except ValueError:  # not a notebook (half-written, or a merge conflict): leave it as it is
            sys.stdout.write(text)
        return 0
    if not args.paths:
        parser.error("give the notebooks or folders to clean (or --stdin)")
    files = sorted(p for path in args.paths for p in ([path] if path.is_file() else path.rglob("*.ipynb"))
                   if ".ipynb_checkpoints" not in p.parts)
    dirty = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        cleaned = render(clean(json.loads(text)))
        if cleaned != text:
            dirty.append(path)
            if not args.check:
                path.write_text(cleaned, encoding="utf-8")
    if args.check and dirty:
        print("These notebooks carry outputs or stray metadata; run `make strip`:", *dirty, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
