"""Helpers for the Phi course: settings, catalog, routes, embedded models, stand-ins.

Lessons import what they need from the submodules; this file stays small so
that `import phi_course` is quick.
"""

__all__ = ["doctor"]

__version__ = "0.1.0"


# The one call every lesson and the embedded models' answers teach, so it lives here; the work is
# in phi_course.route_check.
def doctor(probe: bool = True):
    """Show which routes are live, which use a stand-in, and why (see phi_course.route_check)."""
    from phi_course.route_check import doctor as _doctor

    return _doctor(probe=probe)
