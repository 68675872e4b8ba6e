"""Colours and graphviz attributes of diagrams: one restrained colour per primitive family.

Fills are pale so that black text stays readable in print and on screen; borders are a darker tone of the fill.
"""

from __future__ import annotations

FONT = "Helvetica,Arial,sans-serif"

#: family -> (fill, border); the families are those of `archdsl.primitives` (`Primitive.family`)
FAMILY_COLOURS: dict[str, tuple[str, str]] = {
    "conv": ("#dce8f5", "#5d7ea3"),
    "norm": ("#e2f0dc", "#6c9460"),
    "act": ("#fbefd6", "#b08a3e"),
    "pool": ("#ebe2f2", "#8a6ca3"),
    "linear": ("#f6dfdc", "#a8665e"),
    "reshape": ("#ececec", "#8c8c8c"),
    "regularize": ("#ffffff", "#a0a0a0"),
}
UNKNOWN_FAMILY = ("#ffffff", "#707070")

BLOCK = ("#f4efe4", "#8f7f5f")  # a collapsed block call
MUTED_TEXT = "#5a5a5a"
TEXT = "#1a1a1a"
EDGE = "#555555"
EDGE_LABEL = "#3a3a3a"

GRAPH_ATTRS = {
    "rankdir": "TB",
    "newrank": "true",
    "compound": "true",
    "nodesep": "0.22",
    "ranksep": "0.28",
    "fontname": FONT,
    "fontsize": "11",
    "labelloc": "t",
    "labeljust": "c",
}
NODE_ATTRS = {
    "shape": "box",
    "style": "rounded,filled",
    "fontname": FONT,
    "fontsize": "10",
    "height": "0.3",
    "margin": "0.09,0.04",
    "penwidth": "0.8",
}
EDGE_ATTRS = {
    "fontname": FONT,
    "fontsize": "8",
    "fontcolor": EDGE_LABEL,
    "color": EDGE,
    "arrowsize": "0.55",
    "penwidth": "0.8",
}


def op_attrs(family: str, inference_identity: bool) -> dict[str, str]:
    fill, border = FAMILY_COLOURS.get(family, UNKNOWN_FAMILY)
    attrs = {"fillcolor": fill, "color": border}
    if inference_identity:  # dropout and drop_path do nothing at inference: draw them faded
        attrs.update(style="rounded,dashed", fontcolor=MUTED_TEXT)
    return attrs


CHAIN_BORDER = "#6f6f6f"


def chain_attrs() -> dict[str, str]:
    """An op with the norms and activations after it: the label is a table of coloured cells."""
    return {"shape": "plain", "style": ""}


def block_attrs() -> dict[str, str]:
    fill, border = BLOCK
    return {"fillcolor": fill, "color": border, "penwidth": "1.1"}


def merge_attrs(symbol: str) -> dict[str, str]:
    """A merge drawn as its combinator's symbol: one character in a small circle, a word in a small box."""
    if len(symbol) > 1:
        return {"shape": "box", "style": "rounded,filled", "fillcolor": "#ffffff", "color": "#606060",
                "fontsize": "8", "height": "0.2", "margin": "0.05,0.01"}
    return {"shape": "circle", "style": "filled", "fillcolor": "#ffffff", "color": "#606060", "fontsize": "10",
            "width": "0.24", "height": "0.24", "fixedsize": "true", "margin": "0"}


def param_attrs() -> dict[str, str]:
    """A learnable tensor (`param`): a small note-shaped node, pale, beside the op that uses it."""
    return {"shape": "note", "style": "filled", "fillcolor": "#fdf6e3", "color": "#b0a080", "height": "0.2",
            "margin": "0.05,0.02"}


def training_only(attrs: dict[str, str]) -> dict[str, str]:
    """The attributes of a node or cluster that only training mode runs (auxiliary heads): dashed. A chain's
    table label draws its own frame (`labels.chain_label`)."""
    if attrs.get("shape") == "plain":
        return attrs
    styles = attrs.get("style", NODE_ATTRS["style"]).split(",")
    return attrs if "dashed" in styles else {**attrs, "style": ",".join([*filter(None, styles), "dashed"])}


def terminal_attrs() -> dict[str, str]:
    """The input and output of the network."""
    return {"shape": "box", "style": "rounded", "color": "#909090", "fontcolor": "#303030"}


# Clusters inherit the attributes of the clusters around them, so each kind sets all of its own.
# Cluster titles go at the bottom, as captions: edges fanning into a cluster would run through a title on
# top, while the edge leaving a cluster is single and stops at its border (see `dot._edge_lines`).
CLUSTER_TITLE = {"labelloc": "b"}


def block_cluster_attrs() -> dict[str, str]:
    fill, border = BLOCK
    return {**CLUSTER_TITLE, "style": "rounded,filled", "fillcolor": "#fbf9f4", "color": border, "penwidth": "0.9",
            "fontcolor": TEXT, "fontname": FONT, "fontsize": "9", "margin": "8"}


def group_cluster_attrs() -> dict[str, str]:
    """A labelled `{ ... }` group: it names a submodule but is no block, so it is drawn lightly."""
    return {**CLUSTER_TITLE, "style": "rounded,dashed", "color": "#a8a8a8", "fontname": FONT, "fontsize": "9",
            "fontcolor": MUTED_TEXT, "margin": "8"}


def repeat_cluster_attrs() -> dict[str, str]:
    """One drawn copy of a unit that repeats `xN` times."""
    return {**CLUSTER_TITLE, "style": "rounded,filled", "fillcolor": "#f6f6f6", "color": "#7a7a7a", "penwidth": "1.2",
            "fontcolor": TEXT, "fontname": FONT, "fontsize": "9", "margin": "8"}
