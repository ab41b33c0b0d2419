"""Run a notebook kept as a script the way Jupyter runs it: cell by cell (cells start at a line
`# ---- ...`) in one namespace, showing the value of a cell's last expression (`display`, which prints).

Usage: python run_notebook.py SCRIPT
"""

from __future__ import annotations

import ast
import sys


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cells: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith("# ---- ") or not cells:
            cells.append("")
        cells[-1] += line
    namespace: dict[str, object] = {"__name__": "__main__"}
    for cell in cells:
        tree = ast.parse(cell, path)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:
            tree.body.pop()
        exec(compile(tree, path, "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), path, "eval"), namespace)
            if value is not None:
                print(repr(value))


if __name__ == "__main__":
    main(sys.argv[1])
