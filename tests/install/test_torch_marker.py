"""The torch tier stays selectable: tests that need torch carry the `torch` marker.

On a machine without the lock's torch wheel (and on the extra Python versions, which the wheel is not built
for), scripts/test-all runs `pytest -m "not torch"`. A test that imports torch without the marker would fail
there with an ImportError, so this check reads every test module (ast, nothing imported) and requires:
- a test function that imports torch (`import torch...`, `from torch...`, `importorskip("torch")`, any module
  whose dotted name has a `torch` part, such as `s3dlio.torch`) is marked `torch`, or its class or module is;
- a module that imports torch at module level, or in a helper or fixture, has a module-level `pytestmark`
  with the marker, or marks at least one of its tests (the ones that use the helper).
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _test_files() -> list[pathlib.Path]:
    files = sorted(ROOT.glob("packages/*/tests/**/*.py")) + sorted(ROOT.glob("tests/**/*.py"))
    # tests/compat/examples and tests/compat/shims hold data the compat tests run, not test modules
    data = (ROOT / "tests" / "compat" / "examples", ROOT / "tests" / "compat" / "shims")
    return [f for f in files if "node_modules" not in f.parts and not any(f.is_relative_to(d) for d in data)]


def _is_torch_name(name: str | None) -> bool:
    return bool(name) and any(part == "torch" or part.startswith("torch_") or part.endswith("_torch")
                              for part in name.split("."))  # type: ignore[union-attr]


def _imports_torch(node: ast.AST) -> bool:
    """Whether `node` (not descending into nested functions or classes) imports a torch module."""
    for sub in _walk_local(node):
        if isinstance(sub, ast.Import) and any(_is_torch_name(a.name) for a in sub.names):
            return True
        if isinstance(sub, ast.ImportFrom) and (_is_torch_name(sub.module)
                                                or any(_is_torch_name(a.name) for a in sub.names)):
            return True
        if (isinstance(sub, ast.Call) and isinstance(sub.func, (ast.Attribute, ast.Name))
                and (sub.func.attr if isinstance(sub.func, ast.Attribute) else sub.func.id)
                in ("importorskip", "import_module")
                and sub.args and isinstance(sub.args[0], ast.Constant) and _is_torch_name(str(sub.args[0].value))):
            return True
    return False


def _walk_local(node: ast.AST):
    todo = list(ast.iter_child_nodes(node))
    while todo:
        n = todo.pop()
        yield n
        if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(n))


def _has_torch_mark(expr: ast.AST) -> bool:
    """`pytest.mark.torch` (or `mark.torch`) anywhere in a decorator or pytestmark expression."""
    return any(isinstance(n, ast.Attribute) and n.attr == "torch" and isinstance(n.value, ast.Attribute)
               and n.value.attr == "mark" for n in ast.walk(expr))


def _module_marked(tree: ast.Module) -> bool:
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in targets) and _has_torch_mark(stmt):
            return True
    return False


def problems_in(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    if _module_marked(tree):
        return []
    problems: list[str] = []
    marked_tests = 0
    elsewhere: list[str] = []  # module level, helpers, fixtures
    if _imports_torch(tree):
        elsewhere.append("module level")

    def visit(body: list[ast.stmt], class_marked: bool, prefix: str) -> None:
        nonlocal marked_tests
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, class_marked or any(_has_torch_mark(d) for d in node.decorator_list),
                      f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                marked = class_marked or any(_has_torch_mark(d) for d in node.decorator_list)
                is_test = node.name.startswith("test")
                marked_tests += is_test and marked
                if _imports_torch(node) or any(_imports_torch(n) for n in ast.walk(node)
                                               if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n is not node):
                    if is_test and not marked:
                        problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {prefix}{node.name} imports torch "
                                        "but is not marked @pytest.mark.torch")
                    elif not is_test:
                        elsewhere.append(f"{prefix}{node.name} (line {node.lineno})")

    visit(tree.body, False, "")
    if elsewhere and not marked_tests:
        problems.append(f"{path.relative_to(ROOT)}: imports torch in {', '.join(elsewhere)} but no test of the "
                        "module is marked @pytest.mark.torch (or set pytestmark = pytest.mark.torch)")
    return problems


def test_tests_that_need_torch_are_marked() -> None:
    files = _test_files()
    assert len(files) > 10
    problems = [p for f in files for p in problems_in(f)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_unmarked_torch_tests(tmp_path: pathlib.Path) -> None:
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        bad = tmp_path / "test_bad.py"
        bad.write_text("import pytest\n\ndef test_a():\n    import torch.utils.data\n\n"
                       "def test_b():\n    pytest.importorskip('torch')\n")
        assert len(problems_in(bad)) == 2
        helper = tmp_path / "test_helper.py"
        helper.write_text("def _loader():\n    from s3dlio.torch import S3IterableDataset\n\ndef test_a():\n    _loader()\n")
        assert len(problems_in(helper)) == 1
        good = tmp_path / "test_good.py"
        good.write_text("import pytest\n\ndef _loader():\n    import torch\n\n@pytest.mark.torch\ndef test_a():\n"
                        "    _loader()\n\ndef test_plain():\n    assert 'torch'\n")
        assert problems_in(good) == []
        module = tmp_path / "test_module.py"
        module.write_text("import pytest\nimport torch\npytestmark = [pytest.mark.torch]\n\ndef test_a():\n    torch.ones(1)\n")
        assert problems_in(module) == []
    finally:
        ROOT = saved
