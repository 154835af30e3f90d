"""The dependencies: every one pinned in ``requirements.lock`` (what ``make`` installs), each
pin inside its range in ``pyproject.toml``, and no range that admits a release with a known
advisory (aiohttp before 3.12.14, pypdf before 6)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
#: A release with a known advisory, and the first release past it, for each floor to check.
ADVISORIES = {
    "aiohttp": (Version("3.12.13"), Version("3.12.14")),
    "pypdf": (Version("5.9.0"), Version("6.0")),
}


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in [*project["dependencies"], *extras]]


def pinned() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[canonicalize_name(name.split("[")[0])] = Version(version.split(";")[0].strip())
    return pins


def test_every_dependency_is_pinned_inside_its_range() -> None:
    pins = pinned()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not pinned in requirements.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{requirement.name}=={pins[name]} is outside {requirement.specifier}"
        )


def test_no_range_admits_a_release_with_a_known_advisory() -> None:
    ranges = {canonicalize_name(r.name): r.specifier for r in declared()}
    for name, (affected, fixed) in ADVISORIES.items():
        assert not ranges[name].contains(affected), f"{name}'s range allows {affected}"
        assert pinned()[name] >= fixed
