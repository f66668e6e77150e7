"""Widgets as static HTML: what a widget showed when its lesson ran, for the web book.

A run notebook keeps each widget's state (nbclient saves it in the notebook's
metadata). A web page could replay it with the ipywidgets JavaScript from a CDN,
but the book is built and read offline, so each widget output becomes plain HTML
instead: its boxes, text, controls (drawn, not live) and the figures its Output
areas held. Standard library only.
"""

from __future__ import annotations

import html

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
REFERENCE = "IPY_MODEL_"
NOTE = ("<p class='widget-snapshot-note'><small>A snapshot of the widget as the lesson ran it; "
        "open the lesson in JupyterLab to use it.</small></p>")


def _label(state: dict) -> str:
    text = state.get("description") or ""
    return f"<label style='margin-right:.4em'>{html.escape(text)}</label>" if text else ""


def _chosen(state: dict) -> str:
    labels, index = state.get("_options_labels") or [], state.get("index")
    return labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""


def _output(out: dict) -> str:
    """One nbformat output of an Output widget."""
    data = out.get("data", {})
    if "image/png" in data:
        return f"<img alt='figure' src='data:image/png;base64,{data['image/png'].strip()}'>"
    if "text/html" in data:
        return "".join(data["text/html"])
    if out.get("output_type") == "stream" or "text/plain" in data:
        text = out.get("text") or "".join(data.get("text/plain", ""))
        colour = " style='color:#b00'" if out.get("name") == "stderr" else ""
        return f"<pre{colour}>{html.escape(''.join(text))}</pre>"
    if out.get("output_type") == "error":
        return f"<pre style='color:#b00'>{html.escape(out.get('ename', ''))}: {html.escape(out.get('evalue', ''))}</pre>"
    return ""


def render(model_id: str, models: dict, depth: int = 0) -> str:
    """The HTML for widget `model_id` and its children, from the saved state of every model."""
    model = models.get(model_id)
    if model is None or depth > 30:  # a reference to a model that was not saved, or a cycle
        return ""
    name, state = model.get("model_name", ""), model.get("state", {})
    children = [render(ref.removeprefix(REFERENCE), models, depth + 1) for ref in state.get("children", [])]
    if name in ("VBoxModel", "BoxModel", "GridBoxModel"):
        return f"<div style='display:flex;flex-direction:column;gap:4px'>{''.join(children)}</div>"
    if name == "HBoxModel":
        return f"<div style='display:flex;flex-wrap:wrap;gap:6px;align-items:flex-start'>{''.join(children)}</div>"
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{_label(state)}{state.get('value', '')}</div>"  # the course's own widgets' HTML
    if name == "LabelModel":
        return f"<span>{html.escape(state.get('value', ''))}</span>"
    if name in ("ButtonModel", "ToggleButtonModel"):
        return f"<button disabled>{html.escape(state.get('description', ''))}</button>"
    if name == "ToggleButtonsModel":
        buttons = "".join(f"<button disabled{' aria-pressed=true style=font-weight:bold' if i == state.get('index') else ''}>"
                          f"{html.escape(label)}</button>" for i, label in enumerate(state.get("_options_labels", [])))
        return f"<div>{_label(state)}{buttons}</div>"
    if name in ("DropdownModel", "SelectModel", "RadioButtonsModel"):
        return f"<div>{_label(state)}<select disabled><option>{html.escape(_chosen(state))}</option></select></div>"
    if name in ("SelectionSliderModel", "IntSliderModel", "FloatSliderModel"):
        shown = _chosen(state) if name == "SelectionSliderModel" else str(state.get("value", ""))
        return f"<div>{_label(state)}<b>{html.escape(shown)}</b></div>"
    if name == "TextareaModel":
        return f"<div>{_label(state)}<textarea readonly style='width:100%'>{html.escape(state.get('value', ''))}</textarea></div>"
    if name in ("TextModel", "IntTextModel", "FloatTextModel"):
        return f"<div>{_label(state)}<input readonly value='{html.escape(str(state.get('value', '')))}'></div>"
    if name == "OutputModel":
        outputs = "".join(_output(o) for o in state.get("outputs", []))
        return f"<div style='border:1px solid #ddd;padding:4px;min-width:0;flex:1'>{outputs}</div>"
    return "".join(children)  # a container or control this book does not draw: its children only


def snapshot_widgets(nb: dict) -> int:
    """Replace every widget output of `nb` with its static HTML, in place; returns how many.

    The notebook's widget state is dropped afterwards, so no page loads the widget JavaScript.
    """
    models = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    done = 0
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            view = out.get("data", {}).pop(WIDGET_VIEW, None)
            if view is None:
                continue
            drawn = render(view.get("model_id", ""), models)
            if drawn:
                out["data"]["text/html"] = f"<div class='widget-snapshot'>{drawn}{NOTE}</div>"
                done += 1
    return done
