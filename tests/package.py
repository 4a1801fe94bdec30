"""The built package, as tests install it: ``make dist``'s build on a copy of the checkout,
and fresh virtual environments that get wheels offline from ``.venv/wheelhouse`` (the
runtime dependencies' wheels ``make install`` keeps), with no dev extra and no checkout
on the path. uv installs them (about a second; pip takes ten) from a cache under .venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def tracked(*under: str) -> set[str]:
    """The checkout's files (tracked or new, not ignored) under ``under``, as git lists them."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *under],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return {name for name in listed if (ROOT / name).is_file()}


def build_dist(where: Path) -> tuple[Path, Path]:
    """The wheel and sdist ``make dist`` builds (the wheel from the sdist), from a copy of
    the checkout so the build leaves the tree alone."""
    source = where / "source"
    for name in tracked():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = where / "dist"
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)]
    subprocess.run(build, check=True, capture_output=True)
    [wheel], [sdist] = dist.glob("*.whl"), dist.glob("*.tar.gz")
    return wheel, sdist


def offline_install(python: str) -> list[str]:
    """The command that installs requirements into ``python``'s environment, offline."""
    if not WHEELHOUSE.is_dir():
        raise FileNotFoundError(f"{WHEELHOUSE}: `make install` keeps the runtime wheels there")
    uv = str(Path(sys.prefix) / "bin" / "uv")
    return [uv, "pip", "install", "--quiet", "--python", python, "--no-index", "--find-links",
            str(WHEELHOUSE)]  # fmt: skip


def user_env(bin_dir: Path) -> dict[str, str]:
    """This process's environment for a user whose PATH starts with ``bin_dir``."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["UV_CACHE_DIR"] = str(Path(sys.prefix) / "uv-cache")
    return env


def fresh_venv(where: Path, *requirements: str) -> Path:
    """A new virtual environment holding only ``requirements`` and their dependencies;
    its ``bin`` directory."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    if requirements:
        install = [*offline_install(str(where / "bin" / "python")), *requirements]
        subprocess.run(install, check=True, capture_output=True, env=user_env(where / "bin"))
    return where / "bin"
