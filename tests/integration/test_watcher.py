"""The one watcher against a real folder tree: owners' folders and files, the ignore rules, the
folders exempt from them, and when a watch counts as covering an owner."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from app.infra.watcher import Watched, Watcher
from tests.helpers import wait_for


def test_changes_reach_their_owners_and_ignored_folders_stay_quiet(tmp_path: Path) -> None:
    root = Path(os.path.realpath(tmp_path))
    one, two, gitdir = root / "wt" / "one", root / "wt" / "two", root / "git"
    for folder in (one, two, gitdir / "refs" / "heads", one / "__pycache__"):
        folder.mkdir(parents=True)
    ref = gitdir / "refs" / "heads" / "main"
    seen: list[set[str]] = []
    lock = threading.Lock()

    def changed(owners: set[str]) -> None:
        with lock:
            seen.append(set(owners))

    def reported() -> set[str]:
        with lock:
            return set().union(*seen) if seen else set()

    def clear() -> None:
        with lock:
            seen.clear()

    watcher = Watcher(changed, unfiltered=str(gitdir))
    watcher.set_watched(
        {
            "one": Watched(folders=(str(one),), files=(str(ref),)),
            "two": Watched(folders=(str(two),), files=(str(ref),)),
        }
    )
    assert not watcher.covers("one")  # not running yet
    stop = threading.Event()
    watcher.start(stop)
    try:
        wait_for(lambda: watcher.covers("one") and watcher.covers("two"), what="the watch")
        assert not watcher.covers("nobody")
        # Once set up, every owner is looked at once.
        wait_for(lambda: reported() == {"one", "two"}, what="the first look")
        clear()
        (one / "a.txt").write_text("a\n")
        wait_for(lambda: reported() == {"one"}, what="one's change")
        clear()
        (one / "__pycache__" / "x.pyc").write_bytes(b"\0")  # ignored
        (two / "b.txt").write_text("b\n")
        wait_for(lambda: "two" in reported(), what="two's change")
        assert reported() == {"two"}
        clear()
        ref.write_text("0" * 40 + "\n")  # a file both watch, in a folder the rules exempt
        wait_for(lambda: reported() == {"one", "two"}, what="the ref")
        # Owners come and go inside the same folders: no new watch.
        starts = watcher.restarts
        watcher.set_watched({"one": Watched(folders=(str(one),), files=(str(ref),))})
        assert watcher.covers("one") and not watcher.covers("two")
        clear()
        (two / "c.txt").write_text("c\n")  # no longer anyone's
        (one / "d.txt").write_text("d\n")
        wait_for(lambda: "one" in reported(), what="one's change after two left")
        assert reported() == {"one"}
        assert watcher.restarts == starts and watcher.covers("one")
    finally:
        watcher.close()
    assert not watcher.running and not watcher.covers("one")
