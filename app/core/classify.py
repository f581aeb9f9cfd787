"""Screen classification: from what a pane shows to a `Reading` of the agent's state."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.core.profiles import AgentProfile, ScreenRule
from app.core.status import Evidence, Reading, Status

#: Programs that mean "the agent is gone and a shell is back in the pane".
SHELLS = frozenset({"bash", "zsh", "sh", "dash", "fish", "ksh", "tcsh", "csh", "nu"})

_BORDER = re.compile(r"^[\s│┃║|]+|[\s│┃║|]+$")
#: tmux's own note under a pane whose process exited (remain-on-exit).
_TMUX_NOTE = re.compile(r"^Pane is dead( \(|$)")
_RULE_ONLY = re.compile(r"^[\s─━═╭╮╰╯┌┐└┘├┤┬┴┼╴╶▔▁\-_=*·•]*$")


@dataclass(frozen=True)
class PaneView:
    """What one look at a pane gives the classifier."""

    text: str
    title: str = ""
    command: str = ""
    dead: bool = False
    dead_status: int | None = None


def screen_lines(text: str) -> list[str]:
    """The pane's lines with box borders and trailing blanks removed, blank lines dropped."""
    lines = []
    for raw in text.splitlines():
        line = _BORDER.sub("", raw.replace("\u00a0", " ")).rstrip()
        if line.strip():
            lines.append(line)
    return lines


def last_meaningful_line(lines: list[str], profile: AgentProfile) -> str:
    """The last line a person would call output, skipping prompts, spinners, rules and footers."""
    for line in reversed(lines):
        stripped = line.strip()
        if _RULE_ONLY.match(stripped) or _TMUX_NOTE.match(stripped):
            continue
        if any(p.search(stripped) for p in profile.chrome):
            continue
        return stripped[:200]
    return ""


def _match(rule: ScreenRule, lines: list[str], title: str) -> list[str] | None:
    region = lines[-rule.lines :] if rule.lines > 0 else lines
    text = "\n".join(region)
    if rule.title is not None and not rule.title.search(title):
        return None
    after = 0
    if rule.screen is not None:
        matches = list(rule.screen.finditer(text))
        if not matches:
            return None
        after = matches[-1].end()
    # `absent` looks below the last match only: a dialog that was answered has output or a
    # fresh prompt under it.
    if rule.absent is not None and rule.absent.search(text, after):
        return None
    return region


def _extract(rule: ScreenRule, region: list[str]) -> tuple[str, tuple[str, ...]]:
    question = ""
    if rule.question is not None:
        m = rule.question.search("\n".join(region))
        if m:
            question = (m.group(1) if m.groups() else m.group(0)).strip()
    options: list[str] = []
    if rule.option is not None:
        for line in region:
            m = rule.option.search(line)
            if m:
                label = m.groupdict().get("label") or (m.group(1) if m.groups() else m.group(0))
                options.append(label.strip())
    return question, tuple(options)


def classify(profile: AgentProfile, pane: PaneView) -> Reading:
    """Read an agent's state from one look at its pane.

    Pane facts that prove a state (the process is dead, a shell is back) win over the screen;
    then the profile's rules in order; then the profile's default (an honest ``unknown``).
    """
    lines = screen_lines(pane.text)
    summary = last_meaningful_line(lines, profile)
    if pane.dead:
        if pane.dead_status not in (None, 0):
            return Reading(
                Status.FAILED,
                Evidence("pane", f"process exited with status {pane.dead_status}"),
                summary=summary,
            )
        return Reading(Status.EXITED, Evidence("pane", "process exited"), summary=summary)
    if profile.shell_means_exited and pane.command in SHELLS:
        return Reading(
            Status.EXITED, Evidence("pane", f"shell {pane.command!r} is back"), summary=summary
        )
    for rule in profile.rules:
        region = _match(rule, lines, pane.title.strip())
        if region is None:
            continue
        question, options = _extract(rule, region)
        return Reading(
            rule.status,
            Evidence("screen", f"{profile.kind}: {rule.name}"),
            kind=rule.kind,
            question=question,
            options=options,
            # For an agent that waits, what it asks is the line that matters.
            summary=question or summary,
        )
    return Reading(
        profile.default_status,
        Evidence("screen", f"{profile.kind}: no rule matched"),
        summary=summary,
    )
