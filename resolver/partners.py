"""Partners: who drops files into `inbox/<partner>/`, with the default phone region given
at registration. A partner's settings are its `[partners.NAME]` table in config.toml
(region, header aliases) over what it was registered with; `resolve_options` is the one
place a file's options come from, for `serve` and `resolver resolve --partner` alike."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from config import PartnerSettings
from resolver.errors import OptionError
from resolver.home import Home
from resolver.pipeline.job import ResolveOptions
from resolver.pipeline.normalize import check_region
from resolver.state.atomic import private_dir
from resolver.state.control import Control

PARTNER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
OPTOUT = "optout"  # inbox/<partner>/optout/ holds opt-out lists


def check_partner_name(name: str) -> str:
    if not PARTNER_NAME.match(name):
        raise OptionError(
            "a partner name has 1-63 lowercase letters, digits, '-' or '_', starting with a"
            " letter or digit"
        )
    return name


DEFAULT_REGION = "US"


def add_partner(home: Home, name: str, region: str | None = None) -> bool:
    """Register a partner and make its inbox, outbox and quarantine (0700). False when it
    was registered already (its folders are made again if missing) with the region given
    (None: any); an OptionError pointing to `partners update` when with another."""
    check_partner_name(name)
    given = None if region is None else check_region(region)
    home.initialize()
    with Control(home.control_db) as control:
        retired = control.retired_partner(name)
        if retired is not None:
            when = time.strftime("%Y-%m-%d", time.gmtime(retired[1]))
            raise OptionError(
                f"partner {name} was removed on {when}: its person IDs were given out, so"
                " its name is retired; register the partner under another name"
            )
        known = control.partner(name)
        region = given or (known.region if known else DEFAULT_REGION)
        if known is not None and known.region != region:
            raise OptionError(
                f"partner {name} is registered with region {known.region}: change it with"
                f" `resolver partners update {name} --region {region}`"
            )
        _folders(home, name)
        return control.add_partner(name, region)


def update_partner(home: Home, name: str, region: str) -> tuple[str, str]:
    """Change a registered partner's default region; returns the old and the new one."""
    check_partner_name(name)
    region = check_region(region)
    with Control(home.control_db) as control:
        known = control.partner(name)
        if known is None:
            raise OptionError(f"there is no partner {name}: `resolver partners add {name}`")
        control.set_partner_region(name, region)
        _folders(home, name)
        return known.region, region


def _folders(home: Home, name: str) -> None:
    for folder in (home.inbox / name / OPTOUT, home.outbox / name, home.quarantine / name):
        private_dir(folder)


def is_registered(home: Home, name: str) -> bool:
    if not home.control_db.exists():
        return False
    with Control(home.control_db) as control:
        return control.partner(name) is not None


def partner_settings(home: Home, name: str, control: Control | None = None) -> PartnerSettings:
    """config.toml's `[partners.NAME]` over the partner's registration (its region)."""
    conf = home.settings.partner(name)
    if conf.region is not None:
        return conf
    if control is None:
        if not home.control_db.exists():
            return conf
        with Control(home.control_db) as own:
            record = own.partner(name)
    else:
        record = control.partner(name)
    return conf if record is None else replace(conf, region=record.region)


def resolve_options(
    home: Home,
    partner: str | None,
    *,
    region: str | None = None,
    profile: str | None = None,
    tmpdir: Path | None = None,
    control: Control | None = None,
) -> ResolveOptions:
    """A file's options: flags, then the partner's settings, then the home's defaults."""
    conf = partner_settings(home, partner, control) if partner else PartnerSettings()
    return ResolveOptions.from_settings(
        home.settings, conf, region=region, profile=profile, tmpdir=tmpdir
    )
