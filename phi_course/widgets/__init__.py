"""The course's widgets: thin ipywidgets wiring over functions tests call directly.

    from phi_course.widgets import CompareWidget, ChatBox, FamilyExplorer, MemoryCalculator

Each takes its numbers from a module that needs no front end (phi_course.compare,
phi_course.chat, phi_course.concepts.family, phi_course.concepts.memory), shows
them, and keeps what it last showed in `value`.
"""

from phi_course.widgets.chatbox import ChatBox
from phi_course.widgets.compare import CompareWidget
from phi_course.widgets.family import FamilyExplorer
from phi_course.widgets.memory import MemoryCalculator

__all__ = ["ChatBox", "CompareWidget", "FamilyExplorer", "MemoryCalculator"]
