"""`vitaphone doctor` checks what the code imports: a missing num2words or pyloudnorm fails it,
and pyproject declares exactly what the code needs (no undeclared import, no dead package)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from vitaphone.cli import doctor
from vitaphone.dependencies import (
    DISTRIBUTION_OF,
    EXTRAS,
    USED_WITHOUT_IMPORT,
    declared_extras,
    imported_modules,
    normalize,
)

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _declared() -> dict[str, str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    lines = list(project["dependencies"])
    for extra in EXTRAS[1:]:
        lines += [f'{req}; extra == "{extra}"' for req in project["optional-dependencies"][extra]]
    return declared_extras(lines)


def test_every_imported_module_is_declared_and_every_declared_package_is_used() -> None:
    declared = _declared()
    imported = {normalize(DISTRIBUTION_OF.get(m, m)): m for m in imported_modules()}
    undeclared = sorted(m for dist, m in imported.items() if dist not in declared)
    assert undeclared == [], f"imported but not in pyproject.toml: {undeclared}"
    needed = set(imported) | {normalize(dist) for dist, _ in USED_WITHOUT_IMPORT.values()}
    dead = sorted(set(declared) - needed)
    assert dead == [], f"declared but nothing imports them: {dead}"
    assert "num2words" in imported and "pyloudnorm" in imported


@pytest.mark.parametrize("module", ["num2words", "pyloudnorm"])
def test_doctor_checks_the_modules_the_pipeline_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    assert (module, module) in doctor._packages()["media"]
    (tmp_path / f"{module}.py").write_text("raise ImportError('broken install')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    assert "import fails" in doctor._import_problem(module)


@pytest.mark.slow  # imports every media package (torch, c2pa, silero...)
@pytest.mark.parametrize("module", ["num2words"])
def test_doctor_fails_an_install_missing_a_module_the_pipeline_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    # A broken install: the module is there but cannot be imported.
    (tmp_path / f"{module}.py").write_text("raise ImportError('broken install')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    check = doctor.check_packages("media", True, "needed to render")
    assert check.status == "missing"
    assert module in check.detail and "import fails" in check.detail
    assert check.fix.endswith("pip install -e '.[media]'")


def test_doctor_no_longer_checks_packages_nothing_imports() -> None:
    checked = {dist for group in doctor._packages().values() for _, dist in group}
    assert "librosa" not in checked and "soundfile" not in checked
