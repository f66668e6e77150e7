"""Command line: `python -m phi_course doctor`, `python -m phi_course routes [--probe]`
and `python -m phi_course loadtest URL --learners N --model M`."""

from __future__ import annotations

import argparse

from phi_course.i18n import _


def main(argv: list[str] | None = None) -> int:
    # --help speaks the course language (PHI_COURSE_LANG=zh, or run from lessons/zh/)
    parser = argparse.ArgumentParser(prog="phi_course", description=_("Helpers for the Phi course."))
    sub = parser.add_subparsers(dest="command", required=True)
    doc = sub.add_parser("doctor", help=_("show which routes and engines work here, and why not"))
    doc.add_argument("--no-probe", action="store_true", help=_("do not contact any service"))
    table = sub.add_parser("routes", help=_("print the route table: every route and Phi id, its status and source"))
    table.add_argument("--route", default=None, help=_("only this route (github, azure, nim, ollama, ...)"))
    table.add_argument("--probe", action="store_true",
                       help=_("also ask each service you have a key for what it lists, and print the differences"))
    # loadtest parses its own options (its module holds them), so they pass through untouched.
    sub.add_parser("loadtest", add_help=False,
                   help=_("simulate a class chatting with an OpenAI-compatible server; --help for options"))
    args, rest = parser.parse_known_args(argv)
    if args.command == "loadtest":
        from phi_course import loadtest

        return loadtest.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "doctor":
        from phi_course.route_check import doctor

        print(doctor(probe=not args.no_probe))
    elif args.command == "routes":
        from phi_course import route_table

        print(route_table.status_table(args.route))
        if args.probe:
            from phi_course.route_check import probe_routes

            print()
            print(probe_routes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
