"""The helper's message catalogs: extract the messages, update the translations, compile them.

    python tools/i18n.py update    # phi_course/locale/phi_course.pot from the code, merged into each .po
    python tools/i18n.py compile   # each .po -> .mo (committed, so installs need no build step)
    python tools/i18n.py check     # exit 1 and list what is missing, untranslated or stale

Messages are the string literals passed to `_()` or `N_()` in phi_course/ (see
phi_course/i18n.py). After changing a message in the code: `update`, translate the
entries the .po now lists as new or fuzzy, then `compile`; tests/test_i18n.py runs
the same checks as `check`. Babel (a JupyterLab dependency, pinned in
requirements-dev.txt) does the extraction and compilation; the course reads the
.mo files with the standard library's gettext.
"""

from __future__ import annotations

import argparse
import gettext
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
VERSION = "0.1.0"
PACKAGE = ROOT / "phi_course"
LOCALE = PACKAGE / "locale"
DOMAIN = "phi_course"
TEMPLATE = LOCALE / f"{DOMAIN}.pot"
LANGUAGES = ("zh",)
KEYWORDS = {"_": None, "N_": None}
# Data and API bodies: English on purpose. Of vision/, only what lesson 09 shows is translated:
# the answer figures (show.py), the score table (evaluate.py) and the limits table (images.py;
# its ImageError messages stay English: the stand-in sends them back as HTTP 400 bodies).
SKIPPED = ("training/", "standin/", "vision/__main__.py", "vision/architecture.py", "vision/draw.py",
           "vision/instruct.py", "vision/pretrain.py", "vision/runtime.py", "vision/tasks.py", "vision/train.py")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return po_path(lang).with_suffix(".mo")


def extract() -> Catalog:
    """Every message marked in the package, with where it is used."""
    template = Catalog(project="phi-course", domain=DOMAIN)
    found = extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS,
                             comment_tags=("i18n:",), strip_comment_tags=True)
    for filename, lineno, message, comments, _context in found:
        if any(filename.replace("\\", "/").startswith(s) for s in SKIPPED):
            continue
        template.add(message, locations=[(f"phi_course/{filename}", lineno)], auto_comments=comments)
    return template


def read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def write(catalog: Catalog, path: Path) -> None:
    catalog.project, catalog.version, catalog.msgid_bugs_address = "phi-course", VERSION, ""
    catalog.copyright_holder, catalog.last_translator, catalog.language_team = "the Phi course", "", ""
    language = f" ({catalog.locale})" if catalog.locale else ""
    catalog.header_comment = f"# The Phi course helper's messages{language}. Made and checked by tools/i18n.py."
    catalog.fuzzy = False
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False)
    path.write_bytes(buffer.getvalue())


def update() -> None:
    template = extract()
    write(template, TEMPLATE)
    for lang in LANGUAGES:
        path = po_path(lang)
        catalog = read(path, lang) if path.exists() else Catalog(locale=lang, domain=DOMAIN)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()  # a message the code no longer uses goes; git keeps its history
        write(catalog, path)


def compile_all() -> None:
    for lang in LANGUAGES:
        with mo_path(lang).open("wb") as f:
            write_mo(f, read(po_path(lang), lang), use_fuzzy=False)


def problems(lang: str) -> list[str]:
    """What stops `lang` from translating every message the code shows (empty: nothing)."""
    found = []
    catalog = read(po_path(lang), lang)
    wanted = {m.id for m in extract() if m.id}
    have = {m.id: m for m in catalog if m.id}
    found += [f"no entry: {m!r}" for m in sorted(wanted - have.keys())]
    found += [f"not used by the code any more: {m!r}" for m in sorted(have.keys() - wanted)]
    for msgid in sorted(wanted & have.keys()):
        entry = have[msgid]
        if not entry.string or entry.fuzzy:
            found.append(f"untranslated{' (fuzzy)' if entry.fuzzy else ''}: {msgid!r}")
    with mo_path(lang).open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid in sorted(wanted & have.keys()):
        if have[msgid].string and not have[msgid].fuzzy and compiled.gettext(msgid) != have[msgid].string:
            found.append(f"the .mo is older than the .po (run `python tools/i18n.py compile`): {msgid!r}")
            break
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["update", "compile", "check"])
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    elif args.command == "compile":
        compile_all()
    else:
        found = [f"{lang}: {p}" for lang in LANGUAGES for p in problems(lang)]
        print(*found, sep="\n")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
