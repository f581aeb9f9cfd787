"""The pinned agent CLIs (``versions.toml``): reading the pins, finding what is installed in the
cache, installing what is missing or different, and asking the registries for the newest."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

VERSIONS_FILE = Path(__file__).with_name("versions.toml")
DEFAULT_CACHE = Path.home() / ".cache" / "quarterdeck-conformance"
REGISTRIES = ("npm", "pypi")


class SetupError(Exception):
    """Something the suite needs is missing and could not be installed; the message says what."""


@dataclass(frozen=True)
class Pin:
    """One CLI: where it comes from, which version, and its executable inside the install."""

    cli: str
    registry: str
    package: str
    version: str
    bin: str

    @property
    def spec(self) -> str:
        """What the registry's own client installs: ``pkg@1.2.3`` or ``pkg==1.2.3``."""
        return (
            f"{self.package}@{self.version}"
            if self.registry == "npm"
            else f"{self.package}=={self.version}"
        )


def parse_pins(text: str, where: str = "versions.toml") -> list[Pin]:
    """Every ``[cli]`` table of a versions file, in file order; a mistake names its place."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SetupError(f"{where}: not valid TOML: {exc}") from exc
    pins = []
    for cli, table in data.items():
        if not isinstance(table, dict):
            raise SetupError(f"{where}: [{cli}] must be a table")
        missing = [k for k in ("registry", "package", "version", "bin") if k not in table]
        if missing:
            raise SetupError(f"{where}: [{cli}] is missing {', '.join(missing)}")
        unknown = set(table) - {"registry", "package", "version", "bin"}
        if unknown:
            raise SetupError(f"{where}: [{cli}] has unknown key(s) {', '.join(sorted(unknown))}")
        if table["registry"] not in REGISTRIES:
            raise SetupError(
                f"{where}: [{cli}] registry {table['registry']!r} is not one of npm, pypi"
            )
        version = str(table["version"])
        if not re.fullmatch(r"\d+(?:\.\d+)*(?:[-.+]?[0-9A-Za-z.]+)?", version):
            raise SetupError(f"{where}: [{cli}] version {version!r} is not an exact version")
        pins.append(
            Pin(cli, str(table["registry"]), str(table["package"]), version, str(table["bin"]))
        )
    return pins


def load_pins(path: Path = VERSIONS_FILE) -> list[Pin]:
    return parse_pins(path.read_text(encoding="utf-8"), str(path))


def install_dir(cache: Path, pin: Pin) -> Path:
    """npm packages share ``<cache>/npm``; a PyPI package gets a venv ``<cache>/<cli>``."""
    return cache / "npm" if pin.registry == "npm" else cache / pin.cli


def executable(cache: Path, pin: Pin) -> Path:
    return install_dir(cache, pin) / pin.bin


def installed_version(cache: Path, pin: Pin) -> str | None:
    """The version of ``pin.package`` installed in the cache, or None."""
    where = install_dir(cache, pin)
    if pin.registry == "npm":
        manifest = where / "node_modules" / pin.package / "package.json"
        try:
            return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError):
            return None
    dist = pin.package.replace("-", "_").lower()
    for info in sorted(where.glob("lib/python*/site-packages/*.dist-info")):
        name, _, version = info.name.removesuffix(".dist-info").rpartition("-")
        if name.lower().replace("-", "_") == dist:
            return version
    return None


def _run(argv: list[str], log: Path, what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        done = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
        raise SetupError(f"installing {what} failed (exit {done.returncode}); log {log}:\n{tail}")


def ensure_installed(cache: Path, pin: Pin) -> str:
    """Install ``pin`` into the cache unless that version is there; returns what is installed."""
    if installed_version(cache, pin) == pin.version and executable(cache, pin).exists():
        return pin.version
    where = install_dir(cache, pin)
    where.mkdir(parents=True, exist_ok=True)
    if pin.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise SetupError(
                "npm is not installed: the conformance suite installs Claude Code, Codex, "
                "Gemini CLI and opencode with it. Install Node.js and npm (Debian/Ubuntu: "
                "'sudo apt-get install nodejs npm'; ./scripts/conformance does it when run as "
                "root) and run again."
            )
        if not (where / "package.json").exists():
            (where / "package.json").write_text('{"name": "quarterdeck-conformance"}\n')
        _run(
            [npm, "install", "--prefix", str(where), "--no-audit", "--no-fund", pin.spec],
            cache / "npm.log",
            pin.spec,
        )
    else:
        python = where / "bin" / "python"
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(where)], cache / f"{pin.cli}.log", "a venv")
        _run(
            [str(python), "-m", "pip", "install", "--disable-pip-version-check", pin.spec],
            cache / f"{pin.cli}.log",
            pin.spec,
        )
    got = installed_version(cache, pin)
    exe = executable(cache, pin)
    if got != pin.version or not exe.exists():
        state = "exists" if exe.exists() else "is missing"
        raise SetupError(
            f"{pin.spec}: after installing, the cache has {got or 'nothing'}; {exe} {state}"
        )
    return got


def newest_version(pin: Pin) -> str:
    """The newest version the package's registry serves, asked through its own client."""
    if pin.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise SetupError("npm is not installed: cannot ask the npm registry")
        done = subprocess.run(
            [npm, "view", pin.package, "version"], capture_output=True, text=True, check=False
        )
        version = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    else:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "index", "versions", pin.package],
            capture_output=True,
            text=True,
            check=False,
        )
        found = re.search(rf"{re.escape(pin.package)} \(([^)]+)\)", done.stdout)
        version = found.group(1) if found else ""
    if done.returncode != 0 or not version:
        raise SetupError(
            f"could not learn the newest {pin.package}: {(done.stderr or done.stdout).strip()}"
        )
    return version


def latest_pins(pins: list[Pin]) -> list[Pin]:
    return [replace(p, version=newest_version(p)) for p in pins]
