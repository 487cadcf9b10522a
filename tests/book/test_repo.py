"""Repository hygiene: committed chapters, dependency lists, figures and manifest, CI script."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml

from dbcode.book import pipeline

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ROOT / "figures"
# Files in figures/ that are not figures.
FIGURES_IGNORED = {"manifest.json", "tolerances.json", ".gitkeep", "README.md"}


def normalise(requirement: str) -> str:
    """Distribution name of a requirement: lower case, '-' for '_' and '.', no extras."""
    name = re.split(r"[\s\[<>=!~;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------- chapters
def book_files():
    return sorted(
        p
        for p in (ROOT / "book").rglob("*")
        if p.suffix in (".md", ".ipynb") and ".ipynb_checkpoints" not in p.parts
    )


def test_toc_files_exist():
    chapters = pipeline.collect_chapters(ROOT)  # raises with the missing names
    assert chapters[0].relpath == Path("book/intro.md")


def test_committed_ipynb_have_no_outputs():
    for path in (p for p in book_files() if p.suffix == ".ipynb"):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{path.name} cell {i} has outputs: strip them"
                assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize(
    "path", [p for p in book_files() if pipeline.is_notebook(p)], ids=lambda p: p.name
)
def test_chapter_notebook_has_parameters_cell(path):
    nb = jupytext.read(path)
    cells = [
        c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])
    ]
    assert len(cells) == 1, f"{path.name}: exactly one code cell must be tagged 'parameters'"
    source = cells[0].source
    assert re.search(r"^scale\s*=\s*['\"]ci['\"]", source, re.M), (
        f'{path.name}: the parameters cell must set scale = "ci"'
    )
    assert re.search(r"^seed\s*=\s*\d+", source, re.M), f"{path.name}: parameters cell lacks seed"
    if path.suffix == ".md":
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


def test_book_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert config["only_build_toc_files"] is True
    for bib in config["bibtex_bibfiles"]:
        assert (ROOT / bib).is_file()
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert toc["format"] == "jb-book" and toc["root"] == "book/intro"


def test_bibliography_keys_unique_and_cited_keys_exist():
    bib = (ROOT / "book" / "references.bib").read_text()
    keys = re.findall(r"^@\w+\{([^,]+),", bib, re.M)
    assert len(keys) == len(set(keys)), "duplicate bibtex keys"
    cited = set()
    for path in book_files():
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            cited.update(k.strip() for k in group.split(","))
    assert cited <= set(keys), f"cited but not in references.bib: {sorted(cited - set(keys))}"


# --------------------------------------------------------------------------- dependencies
def pyproject_requirements(extras: tuple[str, ...]) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {normalise(r) for r in project["dependencies"]}
    optional = project["optional-dependencies"]
    todo = list(extras)
    seen = set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in optional[extra]:
            if normalise(req) == "dbcode":  # self reference, e.g. dbcode[book,test]
                todo += re.search(r"\[(.*)\]", req).group(1).split(",")
            else:
                names.add(normalise(req))
    return names


# The conda environment has every extra; CI installs the book and test extras.
CONDA_EXTRAS = ("book", "test", "dev")
CI_EXTRAS = ("book", "test")


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = set()
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            conda.add(normalise(dep.replace(" ", "")))
    conda -= {"python", "pip"}
    expected = pyproject_requirements(CONDA_EXTRAS)
    assert conda == expected, (
        f"only in environment.yml: {sorted(conda - expected)}; "
        f"only in pyproject.toml: {sorted(expected - conda)}"
    )


def test_lock_file_pins_every_dependency():
    pinned = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"lock.txt: {line!r} is not pinned with =="
            pinned[normalise(name)] = version
    missing = pyproject_requirements(CI_EXTRAS) - set(pinned)
    assert not missing, f"not pinned in requirements/lock.txt: {sorted(missing)}"


# --------------------------------------------------------------------------- figures
def test_figures_and_manifest_agree():
    manifest_path = FIGURES / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    on_disk = (
        {
            p.name
            for p in FIGURES.iterdir()
            if p.is_file() and p.name not in FIGURES_IGNORED and not p.name.startswith(".")
        }
        if FIGURES.is_dir()
        else set()
    )
    listed = set()
    for fig_id, entry in manifest.items():
        assert entry.get("fig_id") == fig_id
        for key in (
            "chapter",
            "scale",
            "seeds",
            "params",
            "data_source",
            "key_numbers",
            "files",
            "created",
            "dbcode_version",
            "smallest_text",
            "covered_by_legends",
        ):
            assert key in entry, f"manifest entry {fig_id} lacks {key!r}"
        listed.update(entry["files"])
    assert not on_disk - listed, f"figures without manifest entry: {sorted(on_disk - listed)}"
    assert not listed - on_disk, f"manifest entries without file: {sorted(listed - on_disk)}"


# --------------------------------------------------------------------------- CI
def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", readme, re.S)
    for block in blocks:
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("make test"):
                return command
    raise AssertionError("README.md shows no `make test` command in a code block")


def test_ci_runs_the_readme_test_command():
    command = readme_test_command()
    ci = (ROOT / ".ci" / "run").read_text()
    lines = [line.strip() for line in ci.splitlines()]
    assert command in lines, f".ci/run must run the README's test command {command!r} verbatim"
    assert "set -euo pipefail" in ci


def test_ci_script_is_valid_bash():
    subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")], check=True)


def test_makefile_targets():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "book", "test", "chapter", "paper", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile lacks target {target}"


def test_the_api_page_documents_every_module():
    """``book/api.md`` has an ``automodule`` of every module of the package (regenerate
    it when a module is added: one section per layer, one per module)."""
    text = (ROOT / "book" / "api.md").read_text()
    documented = set(re.findall(r"\.\. automodule:: ([\w.]+)", text))
    modules = {
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "dbcode").rglob("*.py")
        if "__pycache__" not in p.parts and p.name != "__main__.py" and p.parent.name != "dbcode"
    }
    assert sorted(modules - documented) == [] and sorted(documented - modules) == []
