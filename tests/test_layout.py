"""The layout holds: every module imports on its own, and project modules form no cycle."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "flows", "workers")


def modules() -> dict[str, Path]:
    """Every project module by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Project modules `name` imports anywhere in its code (functions too), outside
    `if TYPE_CHECKING:` blocks: an import inside a function still makes a cycle."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def project(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            targets: list[str] = []
            if isinstance(child, ast.Import):
                targets = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(parts + ([child.module] if child.module else []))
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in child.names
                ]
            for target in targets:
                module = project(target)
                if module and module != name:
                    found.add(module)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), and self-loops."""
    known = modules()
    graph = {name: imports(name, path, known) for name, path in known.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in graph:
        if v not in index:
            connect(v)
    return groups


def test_no_import_cycles_among_project_modules() -> None:
    assert cycles() == []


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    known = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    known["a"].write_text("def f():\n    from b import g\n")
    known["b"].write_text("import a\n")
    assert imports("a", known["a"], known) == {"b"}
    assert imports("b", known["b"], known) == {"a"}


def test_every_module_imports_on_its_own() -> None:
    # One interpreter loads the third-party libraries once, then each project module is
    # imported in a forked child that has imported no project module yet.
    script = textwrap.dedent(
        """
        import importlib, os, sys
        import flask, flask_wtf, redis, rq, twilio.rest, yaml, wordfreq, rapidfuzz  # noqa: F401
        import phonenumbers, holidays, textstat, hl7, fhir.resources.R4B.appointment  # noqa: F401
        failed = []
        for name in sys.argv[1:]:
            pid = os.fork()
            if pid == 0:
                try:
                    importlib.import_module(name)
                except BaseException as exc:
                    print(f"{name}: {type(exc).__name__}: {exc}", flush=True)
                    os._exit(1)
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            if status:
                failed.append(name)
        print("FAILED", failed)
        sys.exit(1 if failed else 0)
        """
    )
    names = sorted(modules())
    assert "bot.store.client" in names and "workers.send" in names
    done = subprocess.run(
        [sys.executable, "-c", script, *names],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr


KEYS_MODULE = ROOT / "bot" / "store" / "keys.py"
BARE_KEYS = ("optouts", "outbox", "campaigns", "nurses")  # key names with no colon


def strings(tree: ast.AST) -> list[ast.Constant | ast.JoinedStr]:
    """String literals and f-strings, not counting the literal parts inside f-strings."""
    parts = {
        id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    return [
        node for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        or (
            isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in parts
        )
    ]


def key_patterns() -> tuple[set[str], tuple[str, ...]]:
    """From bot/store/keys.py: the exact key names, and the prefixes a key literal starts with."""
    exact: set[str] = set(BARE_KEYS)
    prefixes: set[str] = set()
    for node in strings(ast.parse(KEYS_MODULE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and ":" in node.value:
            if " " not in node.value:  # a key, not a docstring
                exact.add(node.value)
                prefixes.add(node.value if node.value.endswith(":") else node.value + ":")
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                prefixes.add(head.value)
    return exact, tuple(sorted(prefixes))


def key_literals(path: Path, exact: set[str], prefixes: tuple[str, ...]) -> list[str]:
    """String literals in `path` that spell a Redis key keys.py names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # A bare name ("optouts") is a key where it is handed to a call or named, not where it
    # is a word in JSON or a sender's name.
    keyish = {
        id(value)
        for node in ast.walk(tree)
        for value in (
            [*node.args, *(k.value for k in node.keywords)] if isinstance(node, ast.Call)
            else [node.value] if isinstance(node, ast.Assign | ast.AnnAssign) else []
        )
    }
    found = []
    for node in strings(tree):
        text: str | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            head = node.values[0]
            if isinstance(head, ast.Constant) and isinstance(head.value, str):
                text = head.value
        bare = text is not None and ":" not in text
        if text and ((text in exact and (not bare or id(node) in keyish))
                     or text.startswith(prefixes)):
            found.append(f"{path.name}:{node.lineno}: {text!r}")
    return found


def test_every_redis_key_is_spelled_only_in_keys_py() -> None:
    exact, prefixes = key_patterns()
    assert "conv:" in prefixes and "optouts" in exact and "alerts:open" in exact
    found = [
        hit
        for package in ("bot", "workers")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != KEYS_MODULE
        for hit in key_literals(path, exact, prefixes)
    ]
    assert found == []


def test_the_key_check_sees_a_raw_key(tmp_path: Path) -> None:
    exact, prefixes = key_patterns()
    module = tmp_path / "m.py"
    module.write_text('def f(r, n):\n    return r.get(f"conv:{n}"), r.hget("optouts", n)\n')
    assert len(key_literals(module, exact, prefixes)) == 2
