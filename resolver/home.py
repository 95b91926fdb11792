"""The Tessera home: one folder holding config, the master key, the inbox and the store.

<home>/config.toml         commented settings (a copy of the defaults at init)
<home>/master.key          32-byte master key, 64 hex chars, mode 0600
<home>/inbox/<partner>/    where partners drop files
<home>/outbox/<partner>/   resolved files and reports for the partner
<home>/quarantine/<partner>/  rejected files with error.json
<home>/work/               files being processed (claimed from the inbox)
<home>/store/              Parquet datasets and their manifest
<home>/state/              SQLite control-plane databases (WAL)
<home>/logs/
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from config import Settings, defaults_text, load_settings
from resolver.keys import KeyRing, write_master_key

_DIRS = ("inbox", "outbox", "quarantine", "work", "store", "state", "logs")


@dataclass(frozen=True)
class Home:
    root: Path
    settings: Settings

    @classmethod
    def open(
        cls, root: str | Path | None = None, overrides: dict[str, object] | None = None
    ) -> Home:
        settings = load_settings(root, overrides)
        return cls(root=settings.home, settings=settings)

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def key_file(self) -> Path:
        return self.root / str(self.settings.get("keys.key_file"))

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def store(self) -> Path:
        return self.root / "store"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def keyring(self) -> KeyRing:
        return KeyRing.load(self.key_file, version=int(self.settings.get("keys.version")))

    def initialize(self) -> list[str]:
        """Create the home (idempotent). Returns what was created, for the user."""
        created: list[str] = []
        if not self.root.exists():
            created.append(str(self.root))
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name in _DIRS:
            folder = self.root / name
            if not folder.exists():
                folder.mkdir(mode=0o700)
                created.append(str(folder))
        config = self.root / "config.toml"
        if not config.exists():
            _write_private(config, _commented(defaults_text()))
            created.append(str(config))
        if write_master_key(self.key_file):
            created.append(str(self.key_file))
        return created


def _commented(defaults: str) -> str:
    """The defaults with every setting commented out, so later default changes still apply."""
    lines = ["# Uncomment a setting to change it; the values shown are the defaults."]
    for line in defaults.splitlines():
        plain = line.strip()
        lines.append(line if not plain or plain.startswith(("#", "[")) else "# " + line)
    return "\n".join(lines) + "\n"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
