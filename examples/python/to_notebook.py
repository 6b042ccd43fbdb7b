#!/usr/bin/env python3
"""Writes walk_down_the_stack.ipynb from walk_down_the_stack.py, whose cells
are marked `# %%` (code) and `# %% [markdown]` (text, as `# ` comments): the
script is the source, the notebook its copy, and the tests check that the
two agree and execute both.

    python examples/python/to_notebook.py
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "walk_down_the_stack.py")
NOTEBOOK = os.path.join(HERE, "walk_down_the_stack.ipynb")


def cells(source):
    """(kind, text) per cell of a percent-format script."""
    out = []
    for block in source.split("# %%")[1:]:
        header, _, body = block.partition("\n")
        if header.strip() == "[markdown]":
            lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.strip().splitlines()]
            out.append(("markdown", "\n".join(lines)))
        else:
            out.append(("code", body.strip()))
    return out


def notebook(source):
    """The notebook (nbformat 4 JSON, no outputs) of a percent-format script."""
    def cell(i, kind, text):
        c = {"cell_type": kind, "id": f"cell-{i}", "metadata": {}, "source": text.splitlines(keepends=True)}
        if kind == "code":
            c.update(execution_count=None, outputs=[])
        return c

    return {
        "cells": [cell(i, k, t) for i, (k, t) in enumerate(cells(source))],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(source):
    return json.dumps(notebook(source), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    with open(SCRIPT) as f:
        text = render(f.read())
    with open(NOTEBOOK, "w") as f:
        f.write(text)
    sys.exit(0)
