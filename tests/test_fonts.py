"""Chinese in the course's figures renders on a machine with no CJK font of its own: the course
ships one (phi_course/fonts). Each check runs in a fresh interpreter that sees only matplotlib's
bundled fonts, with missing-glyph warnings turned into errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HANZI = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]")

# Hide every font the system has: keep matplotlib's own (DejaVu and friends) only.
NO_SYSTEM_FONTS = """
import warnings
warnings.simplefilter("error")  # "Glyph ... missing from font(s)" becomes an exception
import matplotlib
matplotlib.use("Agg")
from matplotlib import font_manager
font_manager.fontManager.ttflist = [f for f in font_manager.fontManager.ttflist if "mpl-data" in f.fname]
font_manager.fontManager._findfont_cached.cache_clear()
"""


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_SYSTEM_FONTS + code], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT),
                                                      "PHI_COURSE_NO_DOTENV": "1", "OMP_NUM_THREADS": "1",
                                                      "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})


def course_chinese() -> str:
    """Every Chinese character the lessons and the package write (its message catalogs included)."""
    found = set()
    for path in [*ROOT.glob("lessons/**/*.ipynb"), *ROOT.glob("phi_course/**/*.py"), *ROOT.glob("phi_course/**/*.po")]:
        found.update(HANZI.findall(path.read_text(encoding="utf-8")))
    return "".join(sorted(found))


DRAW = """
import json, sys
from phi_course import style
fig, ax = style.axes()
text = json.loads(sys.argv[-1]) if len(sys.argv) > 1 else TEXT
for i in range(0, len(text), 40):
    ax.text(0, i / max(1, len(text)), text[i:i + 40])
fig.savefig("/dev/null", format="png")
print("drawn", len(text))
"""


def test_every_chinese_character_the_course_writes_is_drawn():
    text = course_chinese()
    assert len(text) > 200
    done = run(f"TEXT = {json.dumps(text)}\n" + DRAW)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"drawn {len(text)}" in done.stdout


def test_without_the_shipped_font_the_same_drawing_fails():
    # The check above can fail: with matplotlib's own fonts only (no course style), the boxes come back.
    done = run("import matplotlib.pyplot as plt\nplt.rcParams['font.sans-serif'] = ['DejaVu Sans']\n"
               "fig, ax = plt.subplots()\nax.text(0, 0, '小语言模型')\nfig.savefig('/dev/null', format='png')\n")
    assert done.returncode != 0 and "missing from font" in done.stderr


def test_lesson_10_routing_plot_of_a_chinese_prompt_renders():
    done = run("""
from phi_course.concepts import moe
from phi_course.local import embedded
model, tokenizer = embedded.load("tiny-phi35-moe")
routing = moe.route_tokens(model, tokenizer, "小语言模型的专家路由")
fig = moe.plot_routing(routing, layer=0)
fig.savefig("/dev/null", format="png")
print("ok")
""")
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr[-2000:]


def test_a_learners_common_chinese_renders():
    # A learner may type any common character: the 3,755 of GB2312 level 1 are all there.
    common = "".join(bytes([h, lo]).decode("gb2312") for h in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF)
                     if not (h == 0xD7 and lo > 0xF9))
    done = run(f"TEXT = {json.dumps(common)}\n" + DRAW)
    assert done.returncode == 0, done.stderr[-2000:]
