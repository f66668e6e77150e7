"""Build the CJK font the course ships, so Chinese in figures renders on any machine.

    apt-get download fonts-wqy-microhei && dpkg-deb -x fonts-wqy-microhei_*.deb wqy
    python tools/fonts/build_cjk_subset.py wqy/usr/share/fonts/truetype/wqy/wqy-microhei.ttc

WenQuanYi Micro Hei (Apache-2.0; phi_course/fonts/NOTICE) cut down to what a
Chinese learner types and the course writes: the 3,755 most common hanzi
(GB2312 level 1), every CJK character in the lessons, the package (its message
catalogs too) and the data, CJK punctuation and full-width forms. Latin text keeps matplotlib's own font.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "phi_course" / "fonts" / "wqy-microhei-course.ttf"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def gb2312_level1() -> set[str]:
    chars = set()
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                pass  # the gaps at the end of level 1
    return chars


def course_characters() -> set[str]:
    chars = set()
    for pattern in ("lessons/**/*.ipynb", "phi_course/**/*.py", "phi_course/**/*.po", "phi_course/**/*.jsonl",
                    "data/*.jsonl", "*.md"):
        for path in ROOT.glob(pattern):
            chars.update(CJK.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return chars


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="wqy-microhei.ttc from Debian's fonts-wqy-microhei")
    args = parser.parse_args()
    font = TTCollection(str(args.source)).fonts[0]  # the proportional face, not the mono one
    keep = gb2312_level1() | course_characters() | {chr(c) for c in range(0x3000, 0x3040)}
    keep |= {chr(c) for c in range(0xFF01, 0xFF5F)}
    options = subset.Options()
    options.name_IDs = ["*"]  # keep the names, the copyright and licence records included
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(keep)))
    subsetter.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    font.save(str(OUT))
    print(f"{len(keep)} characters -> {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
