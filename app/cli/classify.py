"""``quarterdeck classify``: how a saved screen reads, with no repository or tmux needed."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.core.errors import UsageError


def _read_text(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read the {what} {path!r}: {exc.strerror or exc}") from exc


def cmd_classify(args: argparse.Namespace) -> int:
    """``quarterdeck classify``: what the classifier reads on a saved screen, and by which rule."""
    from app.core.classify import PaneView, classify, strip_ansi
    from app.infra.settings import load_settings

    profiles = load_settings(Path(args.path)).profiles
    profile = profiles.get(args.kind)
    if profile is None:
        raise UsageError(
            f"unknown agent kind {args.kind!r}; known kinds: {', '.join(sorted(profiles))}"
        )
    meta: dict[str, object] = {}
    if args.meta is not None:
        try:
            loaded = json.loads(_read_text(args.meta, "meta file"))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{args.meta}: not valid JSON: {exc}") from exc
        if not isinstance(loaded, dict):
            raise UsageError(f"{args.meta}: expected a JSON object")
        meta = loaded
    text = strip_ansi(_read_text(args.screen, "screen file"))
    title = args.title if args.title is not None else str(meta.get("pane_title") or "")
    command = (
        args.pane_command
        if args.pane_command is not None
        else str(meta.get("pane_current_command") or "")
    )
    raw_status = str(meta.get("pane_dead_status") or "").strip()
    dead_status = args.dead_status
    if dead_status is None and raw_status.lstrip("-").isdigit():
        dead_status = int(raw_status)
    dead = args.dead or args.dead_status is not None or str(meta.get("pane_dead")) in ("1", "True")
    reading = classify(
        profile,
        PaneView(text, title, command, dead=dead, dead_status=dead_status if dead else None),
    )
    kind = reading.kind.value if reading.kind else None
    rule = reading.evidence.detail
    if reading.evidence.source != "screen":
        rule = f"{reading.evidence.source}: {rule}"
    if args.json:
        print(
            json.dumps(
                {
                    "agent": profile.kind,
                    "status": reading.status.value,
                    "kind": kind,
                    "question": reading.question,
                    "options": list(reading.options),
                    "context": list(reading.context),
                    "evidence": str(reading.evidence),
                    "rule": rule,
                    "summary": reading.summary,
                    "others": list(reading.others),
                    "focused": reading.focused,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    print(f"status:   {reading.status.value}" + (f" ({kind})" if kind else ""))
    if reading.question:
        print(f"question: {reading.question}")
    if reading.options:
        print("options:")
        for number, option in enumerate(reading.options, 1):
            print(f"  {number}. {option}")
    if reading.context:
        print("context:")
        for line in reading.context:
            print(f"  {line}")
    for other in reading.others:
        print(f"also open: {other}")
    if reading.others and not reading.focused:
        print("focus:    not known which dialog takes the keys")
    print(f"rule:     {rule}")
    print(f"summary:  {reading.summary}")
    return 0
