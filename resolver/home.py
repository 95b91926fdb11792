"""The Tessera home: one folder holding config, the master key, the inbox and the store.

<home>/config.toml         commented settings (a copy of the defaults at init)
<home>/master.key          32-byte master key, 64 hex chars, mode 0600
<home>/inbox/<partner>/    where partners drop files
<home>/outbox/<partner>/   resolved files and reports for the partner
<home>/quarantine/<partner>/  rejected files with error.json
<home>/work/               files being processed (claimed from the inbox)
<home>/store/              Parquet datasets (their manifest is the control database)
<home>/state/              SQLite control-plane databases (WAL)
<home>/logs/
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from config import Settings, defaults_text, load_settings
from resolver.errors import NoHome
from resolver.keys import MASTER_KEY_ENV, KeyRing, write_master_key
from resolver.state.atomic import DIR_MODE, create_exclusive, private_dir

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

    @property
    def exists(self) -> bool:
        """Whether the home was made (`initialize` writes its config.toml)."""
        return (self.root / "config.toml").is_file()

    def existing(self) -> Home:
        """This home, or NoHome when it was never made: a command that reads a home
        never makes one by accident (and then shows empty tables)."""
        if not self.exists:
            raise NoHome(self.root)
        return self

    @property
    def key_file(self) -> Path:
        return self.root / self.settings.keys.key_file

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

    @property
    def control_db(self) -> Path:
        """The resolver's control database (partners, files, segments)."""
        return self.state / "resolver.db"

    @property
    def has_key(self) -> bool:
        return self.key_file.exists() or bool(os.environ.get(MASTER_KEY_ENV))

    def keyring(self) -> KeyRing:
        return KeyRing.load(self.key_file, version=self.settings.keys.version)

    def initialize(self) -> list[str]:
        """Create the home (idempotent). Returns what was created, for the user."""
        created = [] if self.root.exists() else [str(self.root)]
        private_dir(self.root)
        for name in _DIRS:
            folder = self.root / name
            if not folder.exists():
                folder.mkdir(mode=DIR_MODE)
                created.append(str(folder))
        config = self.root / "config.toml"
        if create_exclusive(config, _commented(defaults_text()).encode("utf-8")):
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
