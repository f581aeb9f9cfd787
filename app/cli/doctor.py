"""``quarterdeck doctor [KIND ...]``: whether each agent kind's CLI is installed, and what would
keep an agent of it from running as Quarterdeck expects, one line per finding with its fix."""

from __future__ import annotations

import argparse
import sys

from app.cli.shared import ERROR_EXIT, open_fleet
from app.core.errors import NotARepositoryError


def cmd_doctor(args: argparse.Namespace) -> int:
    """``quarterdeck doctor``: exit 1 when a kind asked for (or, with none asked for, the
    default kind) has a problem; notes never fail it."""
    from app.fleet.doctor import Doctor

    try:
        fleet = open_fleet(args.path)
        doctor, default = fleet.doctor(), fleet.settings.default_agent
    except NotARepositoryError:
        doctor = Doctor.outside_repository(sys.executable)
        default = doctor.kinds()[0]
        print("(not in a repository: trust and hooks are not checked)")
    asked = list(args.kinds)
    reports = doctor.check(asked or doctor.kinds())
    for report in reports:
        where = report.path or "not installed"
        version = f"  {report.version}" if report.version else ""
        verdict = "ok" if report.ok else "problems"
        print(f"{report.kind}: {verdict}{version}  ({where})")
        for finding in report.findings:
            print(f"  {finding.line()}")
    failing = [r.kind for r in reports if not r.ok and (r.kind in asked or not asked)]
    counted = failing if asked else [k for k in failing if k == default]
    if failing:
        print(f"problems with: {', '.join(failing)}")
    return ERROR_EXIT if counted else 0
