"""Sphinx settings for the course's web book (tools/book/build.py writes the pages and runs Sphinx)."""

project = "Phi small language models: the course"
author = "the course's authors"
extensions = ["myst_nb"]
html_theme = "sphinx_book_theme"
html_title = project
html_theme_options = {"show_toc_level": 2}

# The notebooks arrive with their outputs; the book never runs them (build.py explains why).
nb_execution_mode = "off"
# Widgets arrive as static HTML (snapshot.py), so no page needs the ipywidgets JavaScript.
nb_ipywidgets_js = {}
# Lessons link one another as .ipynb files; those become links between pages.
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
exclude_patterns = ["**/.ipynb_checkpoints"]
