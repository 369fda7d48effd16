"""The shape the code promises in the README: small modules, small classes, one training loop."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("rnn_core", "dashboard")


def sources():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_module_over_450_lines_and_no_class_over_300():
    long_modules, long_classes = [], []
    for path in sources():
        text = path.read_text()
        if text.count("\n") > 450:
            long_modules.append(str(path.relative_to(ROOT)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 300:
                long_classes.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert long_modules == [] and long_classes == []


def test_the_training_loop_has_no_task_branches():
    text = (ROOT / "rnn_core" / "trainer.py").read_text()
    tree = ast.parse(text)
    [trainer] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Trainer"]
    step = [n for n in ast.walk(trainer) if isinstance(n, ast.FunctionDef) and n.name in ("_step", "step")]
    assert step, "Trainer has no step"
    for fn in step:
        body = ast.get_source_segment(text, fn)
        assert not re.search(r"is_text|\"text\"|'text'|kind ==", body), fn.name


def test_pages_never_import_the_engine():
    for path in [*(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        assert "rnn_core" not in path.read_text(), path.name
