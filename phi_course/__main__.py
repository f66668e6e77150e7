"""Command line: `python -m phi_course doctor`."""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="phi_course", description="Helpers for the Phi course.")
    sub = parser.add_subparsers(dest="command", required=True)
    doc = sub.add_parser("doctor", help="show which routes and engines work here, and why not")
    doc.add_argument("--no-probe", action="store_true", help="do not contact any service")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        from .doctor_report import doctor

        print(doctor(probe=not args.no_probe))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
