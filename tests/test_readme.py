"""README promises: its commands and api_names exist."""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_front_matter_matches_the_pinned_gradio():
    front = README.split("---")[1]
    assert "sdk: gradio" in front and "app_file: app.py" in front
    pinned = re.search(r"^gradio==(\S+)$", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert f"sdk_version: {pinned}" in front


def test_make_targets_in_readme_exist():
    targets = set(re.findall(r"^make (\w+)", README, re.M))
    assert {"run", "test"} <= targets
    for target in targets:
        dry = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_documented_api_names_are_the_apps(client):
    documented = set(re.findall(r'api_name="(/\w+)"', README)) | set(re.findall(r"^### `(/\w+)`", README, re.M))
    served = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert documented and documented == served


def test_readme_and_settings_agree_on_the_number_of_languages():
    from backend.core.settings import load_settings

    said = {int(n) for n in re.findall(r"the app's (\d+) languages", README)}
    assert said == {len(load_settings({}).languages)}
