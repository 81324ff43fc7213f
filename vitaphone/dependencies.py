"""Which third-party packages Vitaphone needs, derived from what its code imports.

`vitaphone doctor` checks exactly these (so a dependency the code imports cannot be missed, and
one nothing imports is not checked), grouped by the pyproject extra that declares each. The
source is parsed, not imported (milliseconds, nothing heavy loads); imports inside functions
count too, since that is where heavy ones live.
"""

from __future__ import annotations

import ast
import re
import sys
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
EXTRAS = ("core", "media", "server", "bots")
# Import names whose distribution is named differently (used when the package is not installed,
# so its metadata cannot say).
DISTRIBUTION_OF = {
    "PIL": "pillow", "cv2": "opencv-python-headless", "webrtcvad": "webrtcvad-wheels",
    "ai_edge_litert": "ai-edge-litert", "c2pa": "c2pa-python", "discord": "discord.py",
    "telegram": "python-telegram-bot", "pydantic_settings": "pydantic-settings",
    "silero_vad": "silero-vad", "sqlalchemy": "sqlalchemy",
}
# Needed but never imported by our code: import name -> (distribution, why).
USED_WITHOUT_IMPORT = {
    "aiosqlite": ("aiosqlite", "SQLAlchemy's SQLite driver (sqlite+aiosqlite:// URLs)"),
    "asyncpg": ("asyncpg", "SQLAlchemy's PostgreSQL driver (postgresql+asyncpg:// URLs)"),
    "pkg_resources": ("setuptools", "pyworld imports it; setuptools 81 removed it"),
}


def normalize(name: str) -> str:
    """PEP 503 name: 'Discord.py' -> 'discord-py'."""
    return re.sub(r"[-_.]+", "-", name).lower()


@lru_cache(maxsize=1)
def imported_modules(package_dir: Path = PACKAGE_DIR) -> dict[str, tuple[str, ...]]:
    """Top-level third-party modules imported anywhere under `package_dir` -> the files."""
    found: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("vitaphone", "__future__"):
                    found.setdefault(top, set()).add(str(path.relative_to(package_dir.parent)))
    return {module: tuple(sorted(files)) for module, files in sorted(found.items())}


@lru_cache(maxsize=1)
def _installed() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()  # scans every installed package: once


def distribution_of(module: str) -> str:
    """The (normalised) distribution that provides import name `module`."""
    installed = _installed().get(module)
    if installed:
        return normalize(installed[0])
    return normalize(DISTRIBUTION_OF.get(module, module))


def declared_extras(requirements: list[str] | None = None) -> dict[str, str]:
    """Declared distribution (normalised) -> the first of EXTRAS that declares it ("core" for
    unconditional dependencies), from the installed metadata (or `requirements` lines)."""
    if requirements is None:
        from importlib.metadata import PackageNotFoundError, requires

        try:
            requirements = requires("vitaphone") or []
        except PackageNotFoundError:  # running from a source tree that was never installed
            requirements = []
    out: dict[str, str] = {}
    for line in requirements:
        name = normalize(re.split(r"[\s\[<>=!~;]", line.strip(), maxsplit=1)[0])
        extra = re.search(r"""extra\s*==\s*["']([^"']+)""", line)
        group = extra.group(1) if extra else "core"
        if group in EXTRAS and (name not in out or EXTRAS.index(group) < EXTRAS.index(out[name])):
            out[name] = group
    return out


def modules_by_extra() -> dict[str, list[tuple[str, str]]]:
    """{extra: [(import name, distribution), ...]} for every module the code imports. A module
    no extra declares is listed under "undeclared" (doctor reports it; a test forbids it)."""
    declared = declared_extras()
    groups: dict[str, list[tuple[str, str]]] = {}
    for module in imported_modules():
        dist = distribution_of(module)
        groups.setdefault(declared.get(dist, "undeclared"), []).append((module, dist))
    return groups
