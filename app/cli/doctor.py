"""``quarterdeck doctor [KIND ...]``: whether each agent kind's CLI is installed, and what would
keep an agent of it from running as Quarterdeck expects, one line per finding with its fix."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from app.cli.shared import ERROR_EXIT, open_fleet
from app.core.errors import NotARepositoryError, StateError


def cmd_doctor(args: argparse.Namespace) -> int:
    """``quarterdeck doctor``: exit 1 when a kind asked for (or, with none asked for, the
    default kind) has a problem; notes never fail it."""
    from app.fleet.doctor import Doctor

    if args.repair:
        return repair(args.path)
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


def repair(path: str) -> int:
    """``quarterdeck doctor --repair``: a damaged state database is set aside (kept beside it)
    and rebuilt with the records it still holds; agents without a record are taken back from
    their worktrees, cards and windows. Says what it did, one line each."""
    from app.fleet.recovery import set_aside
    from app.infra.git import Repository
    from app.infra.store import Store, state_db

    db = state_db(Repository.discover(Path(path).resolve()))
    try:
        fleet = open_fleet(path)
    except StateError:
        aside, salvaged = set_aside(db)
        print(f"set the damaged state database aside as {aside}")
        store = Store(db)
        for agent in salvaged:
            store.insert(agent)
        store.close()
        if salvaged:
            print(f"kept the {len(salvaged)} agent record(s) it still held")
        fleet = open_fleet(path)
    else:
        print(f"the state database {db} is sound")
    survey = fleet.take_back()
    for found in survey.found:
        print(f"took back {found.line()}")
    for branch in survey.branches:
        print(f"branch {branch} has no agent and no worktree: left as it is")
    count = len(fleet.agents())
    print(f"{count} agent{'' if count == 1 else 's'} recorded")
    return 0
