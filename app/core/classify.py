"""Screen classification: from what a pane shows to a `Reading` of the agent's state.

The classifier is pure: one look at a pane (its text, title, current command and whether its
process is dead) goes in, a `Reading` comes out. What each agent CLI looks like is data (the
profile's rules, see `app.core.profiles.ScreenRule`); this module holds the generic reading of
screens those rules rely on: regions of the last lines, footers, and dialogs read the way a
person reads them (the question above a list of options, or options offered on one line).
A screen may hold more than one dialog: each is found, and the reading says which one takes
the keys when the profile knows (``dialog_focus``).

Why one long module: the search for other dialogs reads the screen again with the same rule
matcher, row model and dialog reader; split apart, each part would reach into the others'
private helpers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from app.core.profiles import AgentProfile, RulePhase, ScreenRule
from app.core.status import Evidence, Reading, Status, describe_dialog

#: Programs that mean "the agent is gone and a shell is back in the pane".
SHELLS = frozenset({"bash", "zsh", "sh", "dash", "fish", "ksh", "tcsh", "csh", "nu"})

_BORDER = re.compile(r"^[\s│┃║|]+|[\s│┃║|]+$")
#: tmux's own note under a pane whose process exited (remain-on-exit).
_TMUX_NOTE = re.compile(r"^Pane is dead( \(|$)")
_RULE_ONLY = re.compile(r"^[\s─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘├┤┬┴┼╴╶╹╻▔▁▀▄\-_=*·•]*$")
#: Logo art: lines of block elements and braille patterns only.
_ART = re.compile(r"^[\s\u2580-\u259f\u2800-\u28ff]*$")
#: Rules, dashed rules and box edges: they separate paragraphs and are never a footer or option.
_FURNITURE = re.compile(r"^[\s─━═╌╍┄┅┈┉╭╮╰╯┌┐└┘├┤┬┴┼╴╵╶╷╹╻▔▁▀▄\-_=]*$")
#: Box sides a row may carry on the left and on the right (nested boxes carry several).
_LEFT_SIDES = re.compile(r"^\s*(?:[│┃║]\s?)+")
_RIGHT_SIDES = re.compile(r"(?:\s?[│┃║])+\s*$")
_NUMBERED = re.compile(r"^(\d+)[.)]\s")
#: How many rows a numbered list may leave between two options (blank rows, descriptions).
_GAP_ROWS = 4
#: Columns a TUI may leave free at the right edge when it wraps a label (padding, a scrollbar).
_RIGHT_MARGIN = 4
#: Escape sequences of a ``capture-pane -e`` capture: CSI (colours), OSC (hyperlinks, titles),
#: character-set designations and other two-byte escapes.
_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC, ended by BEL or ST
    r"|\x1b[()*+][0-9A-Za-z]"  # character set designation
    r"|\x1b[0-9=<>@-_]"  # other two-byte escapes
)


@dataclass(frozen=True)
class PaneView:
    """What one look at a pane gives the classifier."""

    text: str
    title: str = ""
    command: str = ""
    dead: bool = False
    dead_status: int | None = None


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (for captures taken with ``-e``)."""
    return _ANSI.sub("", text)


def screen_lines(text: str) -> list[str]:
    """The pane's lines with box borders and trailing blanks removed, blank lines dropped."""
    lines = []
    for raw in text.splitlines():
        line = _BORDER.sub("", raw.replace("\u00a0", " ")).rstrip()
        if line.strip():
            lines.append(line)
    return lines


#: Lines of the screen above a dialog kept as its context.
CONTEXT_LINES = 6


def dialog_context(
    lines: list[str], reading: Reading, keep: int = CONTEXT_LINES
) -> tuple[str, ...]:
    """What the agent said or wants to run as it asked, in at most ``keep`` lines: the lines
    above the dialog, then the dialog's own lines between its question and its options (what
    a dialog titled "Permission required" wants: ``# Shell command`` / ``$ <cmd>``), which are
    kept first. The dialog starts at its question (else its first option), found from the
    bottom of the screen."""
    anchors = [reading.question.splitlines()[0]] if reading.question.strip() else []
    anchors += list(reading.options[:1])
    start = None
    for anchor in anchors:
        needle = anchor.strip()[:40]
        if not needle:
            continue
        start = next((i for i in range(len(lines) - 1, -1, -1) if needle in lines[i]), None)
        if start is not None:
            break
    if start is None:
        return ()

    def kept(part: list[str]) -> list[str]:
        return [
            line.strip()
            for line in part
            if not (_RULE_ONLY.match(line.strip()) or _ART.match(line.strip()))
        ]

    above = kept(lines[:start])
    body: list[str] = []
    first = reading.options[0].strip()[:40] if reading.options else ""
    if reading.question.strip() and first:
        end = next((i for i in range(start + 1, len(lines)) if first in lines[i]), None)
        if end is not None:
            question = _fold(reading.question)
            body = [line for line in kept(lines[start + 1 : end]) if _fold(line) not in question]
    return tuple((above + body)[-keep:])


def last_meaningful_line(lines: list[str], profile: AgentProfile) -> str:
    """The last line a person would call output, skipping prompts, spinners, rules and footers."""
    for line in reversed(lines):
        stripped = line.strip()
        if _RULE_ONLY.match(stripped) or _ART.match(stripped) or _TMUX_NOTE.match(stripped):
            continue
        if any(p.search(stripped) for p in profile.chrome):
            continue
        return stripped[:200]
    return ""


@dataclass(frozen=True)
class _Row:
    """One row of the pane as a dialog reader needs it.

    ``text`` keeps the indentation inside a box (only the box sides are removed) because the
    column an option starts in is what ties a list together; ``room`` is how many columns the
    text had before the row's right edge, to tell a label that wrapped from a description.
    Blank rows are kept: they separate paragraphs.
    """

    text: str
    room: int

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def _rows(text: str) -> list[_Row]:
    raw_lines = [line.replace("\u00a0", " ").rstrip() for line in text.splitlines()]
    width = max((len(line) for line in raw_lines), default=0)
    rows = []
    for raw in raw_lines:
        # Blank exactly when `screen_lines` drops the line, so both views index the same lines.
        if not _BORDER.sub("", raw).strip():
            rows.append(_Row("", width))
            continue
        left = _LEFT_SIDES.match(raw)
        cut = left.end() if left else 0
        right = _RIGHT_SIDES.search(raw, cut)
        end = right.start() if right else len(raw)
        room = (end if right else width) - cut
        rows.append(_Row(raw[cut:end].rstrip(), room))
    return rows


def _region_start(rows: list[_Row], lines: int) -> int:
    """Index of the first row of the region holding the last ``lines`` non-blank rows."""
    if lines <= 0:
        return 0
    seen = 0
    for i in range(len(rows) - 1, -1, -1):
        if not rows[i].blank:
            seen += 1
            if seen == lines:
                return i
    return 0


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
    if rule.footer is not None and not rule.footer.search(_bottom(lines, rule.footer_lines)):
        return None
    return region


def _bottom(lines: list[str], count: int) -> str:
    """The last ``count`` lines that are not rules or box edges: where CLIs put their key hints."""
    found: list[str] = []
    for line in reversed(lines):
        if len(found) >= count:
            break
        if not _FURNITURE.match(line):
            found.append(line)
    return "\n".join(reversed(found))


def _first_group(m: re.Match[str]) -> str:
    for group in m.groups():
        if group is not None:
            return group
    return m.group(0)


def _fold(text: str) -> str:
    """Line breaks and runs of spaces folded into single spaces, as a person reads a wrap."""
    return " ".join(text.split())


def _legacy_extract(rule: ScreenRule, region: list[str]) -> tuple[str, tuple[str, ...]]:
    question = ""
    for pattern in rule.question:
        m = pattern.search("\n".join(region))
        if m:
            question = _first_group(m).strip()
            break
    options: list[str] = []
    if rule.option is not None:
        for line in region:
            m = rule.option.search(line)
            if m:
                label = m.groupdict().get("label") or _first_group(m)
                options.append(label.strip())
    return question, tuple(options)


def _unmarked(rule: ScreenRule, text: str) -> str:
    """The row with its selection glyph blanked, so selected and other options align."""
    if rule.option_marker is None:
        return text
    indent = len(text) - len(text.lstrip())
    m = rule.option_marker.match(text, indent)
    if m is None or m.end() == indent:
        return text
    return text[:indent] + " " * (m.end() - indent) + text[m.end() :]


def _column(text: str) -> int:
    return len(text) - len(text.lstrip())


def _clean_label(rule: ScreenRule, text: str) -> str:
    m = rule.option_label.search(text.strip())
    if m is None:
        return ""
    label = m.groupdict().get("label") or _first_group(m)
    return _fold(label)


def _list_options(rule: ScreenRule, rows: list[_Row], start: int) -> _Options | None:
    """The vertical option list around the last anchor row."""
    assert rule.option_anchor is not None
    anchor = next(
        (
            i
            for i in range(len(rows) - 1, start - 1, -1)
            if not rows[i].blank and rule.option_anchor.search(rows[i].text)
        ),
        None,
    )
    if anchor is None:
        return None
    base = _unmarked(rule, rows[anchor].text)
    col = _column(base)
    numbered = bool(_NUMBERED.match(base.lstrip()))

    def kind(i: int) -> str:
        """The row's part in the list.

        ``option``, ``deeper`` (a description or a wrapped label), ``blank``, ``skip`` (a rule
        inside the list) or ``end``.
        """
        row = rows[i]
        if row.blank:
            return "blank"
        if _FURNITURE.match(row.text):
            return "skip"
        text = _unmarked(rule, row.text)
        c = _column(text)
        if c > col:
            return "deeper"
        if c == col and (not numbered or _NUMBERED.match(text.lstrip())):
            return "option"
        return "end"

    def number(i: int) -> int:
        m = _NUMBERED.match(_unmarked(rule, rows[i].text).lstrip())
        return int(m.group(1)) if m else -1

    def across_gap(i: int, step: int, wanted: int) -> int | None:
        """Past blank rows (and, going up, descriptions), the option numbered ``wanted``."""
        if not numbered:
            return None
        passable = ("blank",) if step > 0 else ("blank", "deeper")
        j = i
        while start <= j < len(rows) and abs(j - i) < _GAP_ROWS and kind(j) in passable:
            j += step
        if start <= j < len(rows) and kind(j) == "option" and number(j) == wanted:
            return j
        return None

    # Grow the block up and down from the anchor: options start in the anchor's column, deeper
    # rows belong to the option above them; a blank row ends an unnumbered list, while a numbered
    # one may space its options out (login and onboarding lists do).
    first = anchor
    i = anchor - 1
    while i >= start:
        k = kind(i)
        if k == "blank":
            j = across_gap(i, -1, number(first) - 1)
            if j is None:
                break
            i = j
            continue
        if k == "end":
            break
        if k == "option":
            first = i
        i -= 1
    last = anchor
    last_number = number(anchor)
    i = anchor + 1
    while i < len(rows):
        k = kind(i)
        if k == "blank":
            j = across_gap(i, 1, last_number + 1)
            if j is None:
                break
            i = j
            continue
        if k == "end":
            break
        if k == "option":
            last_number = number(i)
        last = i
        i += 1

    labels: list[str] = []
    current: list[str] = []
    previous: _Row | None = None  # the row the current label last grew by
    selected = 0
    for i in range(first, last + 1):
        k = kind(i)
        row = rows[i]
        if k == "option":
            if current:
                labels.append(" ".join(current))
            unmarked = _unmarked(rule, row.text)
            if unmarked != row.text:
                selected = len(labels) + 1
            current = [unmarked.strip()]
            previous = row
        elif k == "deeper" and current and previous is not None:
            # A deeper row continues the label only when the label's row was full: the next
            # word would not have fitted (TUIs keep a small margin on the right). Otherwise it
            # is a description under the option.
            word = row.text.split()[0]
            if len(previous.text) + 1 + len(word) > previous.room - _RIGHT_MARGIN:
                current.append(row.text.strip())
                previous = row
            else:
                previous = None
        elif k == "blank":
            previous = None
    if current:
        labels.append(" ".join(current))
    cleaned = [_clean_label(rule, x) for x in labels]
    if not all(cleaned):
        selected = 0  # an option without a label was dropped: the count no longer holds
    return _Options(first, [label for label in cleaned if label], selected, numbered)


def _inline_options(rule: ScreenRule, rows: list[_Row], start: int) -> _Options | None:
    """Options offered on one line (``first`` is the row after the match's first row)."""
    assert rule.options_line is not None
    texts = [row.text for row in rows[start:]]
    text = "\n".join(texts)
    matches = list(rule.options_line.finditer(text))
    if not matches:
        return None
    m = matches[-1]
    labels = []
    for part in rule.options_split.split(_first_group(m)):
        label = rule.option_strip.sub("", part) if rule.option_strip is not None else part
        if label.strip():
            labels.append(_fold(label))
    # The question may stand on the same row as the options (Aider): search up to that row.
    end = start + text.count("\n", 0, m.start()) + 1
    return _Options(end, labels)


def _paragraphs(rule: ScreenRule, rows: list[_Row], start: int, end: int) -> list[tuple[int, str]]:
    """The paragraphs above ``end`` with their first row, nearest first, up to
    ``question_stop`` or ``start``."""
    paragraphs: list[tuple[int, str]] = []
    current: list[str] = []
    for i in range(end - 1, start - 1, -1):
        row = rows[i]
        if rule.question_stop is not None and rule.question_stop.search(row.text):
            break
        if row.blank or _FURNITURE.match(row.text):
            if current:
                paragraphs.append((i + 1, "\n".join(reversed(current))))
            current = []
            continue
        current.append(row.text.strip())
        top = i
    if current:
        paragraphs.append((top, "\n".join(reversed(current))))
    return paragraphs


def _find_question(rule: ScreenRule, rows: list[_Row], start: int, end: int) -> tuple[str, int]:
    """The question, for each pattern in turn from the nearest paragraph above ``end`` it
    matches, and the first row of that paragraph (``end`` when none matched)."""
    paragraphs = _paragraphs(rule, rows, start, end)
    for pattern in rule.question:
        for top, paragraph in paragraphs:
            m = pattern.search(paragraph)
            if m:
                return _fold(_first_group(m)), top
    return "", end


@dataclass(frozen=True)
class _Options:
    """The options a dialog reader found: the row they start at, their labels, the one the
    selection glyph is on (1-based, 0 unknown) and whether the list is numbered."""

    first: int
    labels: list[str]
    selected: int = 0
    numbered: bool = True


@dataclass(frozen=True)
class _Dialog:
    """What a dialog reader found: question, options, and the first row the dialog takes."""

    question: str
    options: tuple[str, ...]
    top: int
    selected: int = 0
    numbered: bool = True


def _extract(rule: ScreenRule, rows: list[_Row]) -> _Dialog:
    start = _region_start(rows, rule.lines)
    end = len(rows)
    found = None
    if rule.option_anchor is not None:
        found = _list_options(rule, rows, start)
    if found is None and rule.options_line is not None:
        found = _inline_options(rule, rows, start)
    if found is None:
        question, top = _find_question(rule, rows, start, end)
        return _Dialog(question, (), top)
    question, top = _find_question(rule, rows, start, found.first)
    return _Dialog(
        question, tuple(found.labels), min(top, found.first), found.selected, found.numbered
    )


def _applies(rule: ScreenRule, question: str, options: tuple[str, ...]) -> bool:
    if rule.asks is not None and not rule.asks.search(question):
        return False
    return rule.offers is None or any(rule.offers.search(option) for option in options)


def _read_rules(
    profile: AgentProfile, phase: RulePhase, pane: PaneView, lines: list[str], summary: str
) -> tuple[Reading, int | None] | None:
    """The reading of the first rule of ``phase`` that matches, with the first row of the
    dialog it read (None when the rule reads no dialog's options), or None."""
    rows: list[_Row] | None = None
    title = pane.title.strip()
    for rule in profile.rules:
        if rule.phase is not phase:
            continue
        region = _match(rule, lines, title)
        if region is None:
            continue
        top: int | None = None
        selected, how = 0, rule.answer
        if rule.reads_dialog:
            if rows is None:
                rows = _rows(pane.text)
            dialog = _extract(rule, rows)
            question, options = dialog.question, dialog.options
            # Where the dialog starts, for the search of other dialogs above it: only a list
            # with its selection glyph (when the CLI draws one) is an open dialog.
            # A rule that reads the last line alone reads a line-based prompt: what is above
            # it is scrollback, answered.
            marked = rule.option_marker is None or dialog.selected > 0
            top = dialog.top if options and marked and rule.lines != 1 else None
            selected = dialog.selected
            if not dialog.numbered and not how and profile.answer == "digit":
                how = "arrows"  # no number to press: move the selection instead
        else:
            question, options = _legacy_extract(rule, region)
        if not _applies(rule, question, options):
            continue
        detail = rule.read_detail("\n".join(region))  # an error or a retry: its line
        reading = Reading(
            rule.status,
            Evidence("screen", f"{profile.kind}: {rule.name}"),
            kind=rule.kind,
            question=question,
            options=options,
            summary=question or detail or summary,  # for a wait, what it asks matters most
            detail=detail,
            selected=selected,
            answer=how,
            others=(rule.hides,) if rule.hides else (),
            focused=not rule.hides,
        )
        return reading, top
    return None


#: The most dialogs looked for on one screen.
_MAX_DIALOGS = 4


def _dialogs_above(profile: AgentProfile, pane: PaneView, top: int) -> list[Reading]:
    """The dialogs open above the row ``top`` (the first row of the dialog found), nearest
    first: the screen cut there is read again by the profile's rules, and every dialog with
    a choice (two options or more) found counts — a line of scrollback that looks like one
    selected option (a prompt echoed after ``❯``) is no dialog."""
    found: list[Reading] = []
    text_lines = pane.text.splitlines()
    while top > 0 and len(found) < _MAX_DIALOGS - 1:
        upper = PaneView("\n".join(text_lines[:top]), pane.title, pane.command)
        lines = screen_lines(upper.text)
        result = _read_rules(profile, RulePhase.RUNNING, upper, lines, "")
        if result is None:
            break
        reading, next_top = result
        if (
            reading.status is not Status.NEEDS_INPUT
            or next_top is None
            or next_top >= top
            or len(reading.options) < 2
        ):
            break
        found.append(replace(reading, context=dialog_context(lines, reading)))
        top = next_top
    return found


def _with_others(profile: AgentProfile, pane: PaneView, reading: Reading, top: int) -> Reading:
    """The reading of a screen's dialog, told of the other dialogs open on the same screen:
    the one that takes the keys (the profile's ``dialog_focus``) is shown first; when the
    profile cannot tell, the lowest is shown, not known to be focused."""
    above = _dialogs_above(profile, pane, top)
    if not above:
        return reading
    dialogs = [reading, *above]  # bottom first
    if profile.dialog_focus == "top":
        dialogs.reverse()
    shown, rest = dialogs[0], dialogs[1:]
    others = tuple(describe_dialog(d.kind, d.question, d.options) for d in rest)
    return replace(shown, others=others, focused=bool(profile.dialog_focus))


def classify(profile: AgentProfile, pane: PaneView) -> Reading:
    """Read an agent's state from one look at its pane.

    Pane facts that prove a state (the process is dead, a shell is back) win over the screen,
    though the profile's ``exited``-phase rules may read that end as a failure (a start-up error
    on the screen); then the profile's rules in order; then the profile's default (an honest
    ``unknown``).
    """
    lines = screen_lines(pane.text)
    summary = last_meaningful_line(lines, profile)
    gone: Evidence | None = None
    if pane.dead:
        if pane.dead_status not in (None, 0):
            return Reading(
                Status.FAILED,
                Evidence("pane", f"process exited with status {pane.dead_status}"),
                summary=summary,
            )
        gone = Evidence("pane", "process exited")
    elif profile.shell_means_exited and pane.command in SHELLS:
        gone = Evidence("pane", f"shell {pane.command!r} is back")
    if gone is not None:
        ending = _read_rules(profile, RulePhase.EXITED, pane, lines, summary)
        if ending is not None:
            return ending[0]
        return Reading(Status.EXITED, gone, summary=summary)
    found = _read_rules(profile, RulePhase.RUNNING, pane, lines, summary)
    if found is not None:
        reading, top = found
        if reading.status is Status.NEEDS_INPUT:
            reading = replace(reading, context=dialog_context(lines, reading))
            if top is not None:
                reading = _with_others(profile, pane, reading, top)
        return reading
    return Reading(
        profile.default_status,
        Evidence("screen", f"{profile.kind}: no rule matched"),
        summary=summary,
    )
