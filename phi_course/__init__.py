"""Helpers for the Phi course: settings, catalog, routes, embedded models, stand-ins.

Lessons import what they need from the submodules; this file stays small so
that `import phi_course` is quick.
"""

__version__ = "0.1.0"


def doctor(probe: bool = True):
    """Show which routes are live, which use a stand-in, and why (see phi_course.doctor_report)."""
    from .doctor_report import doctor as _doctor

    return _doctor(probe=probe)
