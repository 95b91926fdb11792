"""The partner inbox: discover complete files, claim each exactly once, and run them.

A file `inbox/<partner>/X` is complete when the partner renamed it from `X.part` (or any
other name: the watch saw the inode as `X.part`, or the file's status changed after its
last write, which a rename does and a write in progress never leaves), or wrote `X.done`
beside it, or, failing all, when its size and mtime have not changed for
`inbox.stable_seconds`. A full listing every interval is the truth (no file-system events
needed). Files in `inbox/<partner>/optout/` are opt-out lists. `X.toml` beside `X` is its
sidecar (segment name, full or incremental); drop it before `X`.

Claiming renames the entry into `work/` before anything opens it, so a partner cannot swap
it for a link afterwards; then only a regular, singly linked file is read. Symlinks, hard
links, FIFOs, sockets, devices, folders and hostile names are refused into quarantine
without being opened. Hidden names (`.x`, as upload tools use) and `X.part` are left alone.
"""

from __future__ import annotations

import os
import stat
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from resolver.home import Home
from resolver.inbox.crash import crash_point
from resolver.partners import OPTOUT
from resolver.state.atomic import DIR_MODE, private_dir
from resolver.state.control import QUARANTINED, Control

_MARKERS = (".done", ".toml", ".part")
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"}


@dataclass(frozen=True)
class Entry:
    partner: str
    path: Path
    kind: str  # "data" | "optout"

    @property
    def name(self) -> str:
        return self.path.name


@dataclass
class Watch:
    """Size and mtime of files without a marker, and the inodes of `.part` files, across
    listings."""

    seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)
    parts: set[tuple[int, int]] = field(default_factory=set)  # in the last listing
    listing: set[tuple[int, int]] = field(default_factory=set)  # in this one so far

    def saw_part(self, info: os.stat_result) -> None:
        self.listing.add((info.st_dev, info.st_ino))

    def listed(self) -> None:
        """A listing is over: its `.part` inodes are the ones the next one looks for."""
        self.parts, self.listing = self.listing, set()

    @staticmethod
    def moved_into_place(info: os.stat_result) -> bool:
        """Renamed after its last write: the status change time (which a rename sets) is
        later than the modification time (which every write sets with it). Not for an
        empty file, which a tool may create, chmod and only then write."""
        return info.st_size > 0 and info.st_ctime_ns > info.st_mtime_ns

    def renamed(self, info: os.stat_result) -> bool:
        """Complete at once: an inode seen as a `.part` file, or moved into place."""
        inode = (info.st_dev, info.st_ino)
        return inode in self.parts or inode in self.listing or self.moved_into_place(info)

    def stable(self, path: Path, info: os.stat_result, wait: float) -> bool:
        now = time.monotonic()
        signature = (info.st_size, info.st_mtime_ns)
        previous = self.seen.get(path)
        if previous is None or previous[:2] != signature:
            self.seen[path] = (*signature, now)
            first_seen = now
        else:
            first_seen = previous[2]
        age = time.time() - info.st_mtime
        return age >= wait and (now - first_seen >= wait or age >= 2 * wait)


def refusal(name: str, info: os.stat_result) -> tuple[str, str] | None:
    """Why an inbox entry is refused (code, message), or None if it may be claimed."""
    if not _name_ok(name):
        return "bad_name", "the file name has control, bidirectional or undecodable characters"
    return inode_refusal(info)


def inode_refusal(info: os.stat_result) -> tuple[str, str] | None:
    """Why an entry that is not one regular, singly linked file is refused (from lstat)."""
    if stat.S_ISLNK(info.st_mode):
        return "not_regular_file", "symbolic links are refused"
    if stat.S_ISDIR(info.st_mode):
        return "not_regular_file", "folders are refused (only optout/ is known)"
    if not stat.S_ISREG(info.st_mode):
        return "not_regular_file", "only regular files are accepted (FIFO, socket or device)"
    if info.st_nlink > 1:
        return "hard_link", "hard-linked files are refused"
    return None


def unregistered_folders(home: Home, partners: set[str]) -> dict[str, int]:
    """Per folder of inbox/ that is not a partner's (display names; hidden ones left
    out), how many entries it holds."""
    found: dict[str, int] = {}
    try:
        names = os.listdir(home.inbox)
    except FileNotFoundError:
        return found
    for name in sorted(names):
        folder = home.inbox / name
        if name in partners or name.startswith(".") or not _own_folder(folder):
            continue
        try:
            found[display_name(name)] = sum(1 for e in os.listdir(folder) if not e.startswith("."))
        except OSError:
            found[display_name(name)] = 0
    return found


def _own_folder(path: Path) -> bool:
    """A real folder (not a link) owned by the service's user."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


def display_name(name: str) -> str:
    """A name as text that can be stored and shown anywhere (a terminal, JSON, a log):
    undecodable bytes as \\xNN, and control, format and bidirectional characters (ESC
    and OSC sequences, right-to-left overrides) as \\xNN or \\uNNNN."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(_escaped(ch) if _hidden(ch) else ch for ch in text)


def _hidden(ch: str) -> bool:
    return ch in _BIDI or unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"}


def _escaped(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _name_ok(name: str) -> bool:
    if len(name.encode("utf-8", "surrogateescape")) > 200 or name.startswith("-"):
        return False
    for ch in name:
        if 0xDC80 <= ord(ch) <= 0xDCFF:  # undecodable byte (surrogateescape)
            return False
        if _hidden(ch):
            return False
    return True


class Inbox:
    """Discovery and claiming for every registered partner."""

    def __init__(self, home: Home, control: Control) -> None:
        self.home = home
        self.control = control
        self.watch = Watch()
        self.waiting = 0  # files seen but not yet complete at the last listing
        self.unsafe: list[str] = []  # partners whose inbox folder is not a real, own folder

    def partners(self) -> list[str]:
        return [partner.name for partner in self.control.partners()]

    def listing(self) -> Iterator[tuple[Entry, os.stat_result]]:
        """Every entry of every partner's inbox and opt-out folder. A folder is listed
        only when it is a real folder owned by the service, never through a link: an
        `optout` that is anything else is itself an entry (refused and quarantined), and
        a partner folder that is not one is skipped and named in `unsafe`."""
        self.unsafe = []
        for partner in self.partners():
            folder = self.home.inbox / partner
            if not _own_folder(folder):
                if os.path.lexists(folder):
                    self.unsafe.append(partner)
                continue
            yield from self._entries(partner, folder, "data")
            optout = folder / OPTOUT
            if _own_folder(optout):
                yield from self._entries(partner, optout, OPTOUT)
            elif os.path.lexists(optout):
                yield Entry(partner, optout, "data"), os.lstat(optout)

    def _entries(
        self, partner: str, where: Path, kind: str
    ) -> Iterator[tuple[Entry, os.stat_result]]:
        try:
            names = sorted(os.listdir(where))
        except (FileNotFoundError, NotADirectoryError):
            return
        for name in names:
            if name.startswith(".") or (kind == "data" and name == OPTOUT):
                continue
            try:
                info = os.lstat(where / name)
            except FileNotFoundError:
                continue
            yield Entry(partner, where / name, kind), info

    def unregistered(self) -> dict[str, int]:
        """Folders in the inbox that are no registered partner's, with how many entries
        each holds (never read: `resolver partners add NAME` makes one a partner's)."""
        return unregistered_folders(self.home, set(self.partners()))

    def ready(self) -> list[tuple[Entry, str | None]]:
        """Complete entries in (partner, kind, name) order, with a refusal code or None."""
        wait = self.home.settings.inbox.stable_seconds
        found: list[tuple[Entry, str | None]] = []
        self.waiting = 0
        for entry, info in self.listing():
            refused = refusal(entry.name, info)
            if refused is not None:
                found.append((entry, refused[0]))
                continue
            if entry.name.endswith(".part"):
                self.watch.saw_part(info)
            if entry.name.endswith(_MARKERS):
                continue
            done = entry.path.with_name(entry.name + ".done").exists()
            if done or self.watch.renamed(info) or self.watch.stable(entry.path, info, wait):
                found.append((entry, None))
            else:
                self.waiting += 1
        self.watch.listed()
        return found

    def claim(self, entry: Entry) -> int | None:
        """Rename the entry into work/ and record it as claimed. None if it vanished."""
        try:
            size = os.lstat(entry.path).st_size
        except FileNotFoundError:
            return None
        sidecar = entry.path.with_name(entry.name + ".toml")
        has_sidecar = sidecar.is_file() and not sidecar.is_symlink()
        file_id = self.control.claim(
            entry.partner,
            display_name(entry.name),
            entry.kind,
            os.fsencode(entry.path.relative_to(self.home.inbox)).hex(),
            size,
            "sidecar.toml" if has_sidecar else None,
        )
        crash_point("claim_recorded", entry.name)
        work = private_dir(self.home.work / entry.partner) / str(file_id)
        work.mkdir(mode=DIR_MODE)
        crash_point("claim_workdir", entry.name)
        if has_sidecar:
            os.replace(sidecar, work / "sidecar.toml")
        crash_point("claim_sidecar", entry.name)
        try:
            os.replace(entry.path, work / "src")
        except FileNotFoundError:
            self.control.set_state(file_id, QUARANTINED, error='{"code": "vanished"}')
            return None
        crash_point("claim_file", entry.name)
        entry.path.with_name(entry.name + ".done").unlink(missing_ok=True)
        self.watch.seen.pop(entry.path, None)
        return file_id
