"""`resolver graph stats|rebuild|explain` and `resolver forget`: the identity graph."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import polars as pl

from config.cli import failure
from resolver.cli.render import print_explain, print_graph_stats
from resolver.cli.state import CliState, pass_state
from resolver.errors import OptionError
from resolver.graph.blocklist import blocked, blocklist_keys
from resolver.graph.forget import forget
from resolver.graph.insight import explain, stats
from resolver.graph.partner import Graphs
from resolver.graph.store import Staged
from resolver.graph.update import rebuild
from resolver.home import Home
from resolver.keys import decode_person_ids, pids_of
from resolver.state.atomic import private_dir, write_atomic
from resolver.state.control import Control


def register(main: click.Group) -> None:
    main.add_command(graph)
    main.add_command(forget_command)


def _graphs(home: Home, control: Control) -> Graphs:
    return Graphs(home, control, home.keyring())


def _partners(graphs: Graphs, partner: str | None) -> list[str]:
    known = graphs.db.partners()
    if partner is None:
        return known
    if partner not in known:
        raise OptionError(f"partner {partner!r} has no identity graph yet (no file was committed)")
    return [partner]


@click.group()
def graph() -> None:
    """Each partner's identity graph: persons from identifiers seen together."""


@graph.command("stats")
@click.option("--partner", default=None, help="One partner (default: every partner).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@pass_state
def graph_stats(state: CliState, partner: str | None, as_json: bool) -> None:
    """Persons, identifiers per kind, person sizes, what each rule stopped, and the
    merges and splits of every file (counts only).

    Example: resolver graph stats --partner acme --json"""
    home = state.home()
    with Control(home.control_db) as control:
        graphs = _graphs(home, control)
        names = {rec.id: rec.name for rec in control.files(limit=1_000_000)}
        data = {
            name: stats(
                graphs.store.load(name, keys=False), graphs.db.history(name), graphs.rules, names
            )
            for name in _partners(graphs, partner)
        }
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        print_graph_stats(data)


@graph.command("rebuild")
@click.option("--partner", default=None, help="One partner (default: every partner).")
@pass_state
def graph_rebuild(state: CliState, partner: str | None) -> None:
    """Link every partner's graph again from all its edges under today's rules (a
    person keeps the ID of the old person it holds most of).

    Example: resolver graph rebuild --partner acme"""
    home = state.home()
    with Control(home.control_db) as control:
        graphs = _graphs(home, control)
        for name in _partners(graphs, partner):
            counts = _rebuild(graphs, name)
            click.echo(
                f"{name}: {counts['relinked']:,} identifiers relinked; {counts['merged']:,} merged,"
                f" {counts['split']:,} split ({counts['seconds']:.1f} s)"
            )


def _rebuild(graphs: Graphs, partner: str) -> dict[str, Any]:
    started = time.perf_counter()
    with graphs.store.lock(partner):
        current = graphs.store.load(partner)
        junk = blocked(current.hi, current.lo, blocklist_keys(graphs.keyring.node_hmac_key))
        change = rebuild(current, junk, graphs.rules)
        staged = Staged("rebuild", None, current.nodes, current.edges, pl.DataFrame())
        generation = graphs.store.stage(partner, current, change, staged, graphs.sealer(partner))
        graphs.store.sweep(partner)
    _retired_report(graphs, partner, f"graph-rebuild-{generation.generation}", current, change)
    return change.counts() | {"seconds": time.perf_counter() - started}


def _retired_report(graphs: Graphs, partner: str, stem: str, current: Any, change: Any) -> None:
    retired = graphs.retired(partner, current, change)
    if not retired.is_empty():
        outbox = private_dir(graphs.home.outbox / partner)
        write_atomic(outbox / f"{stem}.retired.csv", retired.write_csv().encode())


@graph.command("explain")
@click.option("--partner", required=True, help="The partner whose person_id this is.")
@click.option("--person", "person_id", required=True, help="A person_id from the partner's outbox.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_state
def graph_explain(state: CliState, partner: str, person_id: str, as_json: bool) -> None:
    """Which kinds of identifiers a person holds, how many, and which rule kept which
    links out (no identifier values).

    Example: resolver graph explain --partner acme --person PERSON_ID"""
    home = state.home()
    ring = home.keyring()
    try:
        key = decode_person_ids(pl.Series([person_id]), ring.partner_id_key(partner))
    except OptionError as error:
        raise failure(f"--person is {error}", 1) from None
    pid = pids_of(key, ring.person_key_key(partner))[0]
    if pid is None:
        raise failure(f"that person_id is not a person of {partner}'s graph", 1)
    with Control(home.control_db) as control:
        graphs = _graphs(home, control)
        _partners(graphs, partner)
        current = graphs.store.load(partner)
    found = explain(current, int(pid))
    if sum(found["identifiers"].values()) == 0:
        raise failure(
            f"that person_id is no longer a person of {partner}'s graph (merged or erased)", 1
        )
    if as_json:
        click.echo(json.dumps(found, indent=2, sort_keys=True))
    else:
        print_explain(person_id, found)


@click.command("forget")
@click.option("--partner", required=True, help="The partner whose request this is.")
@click.argument("request", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def forget_command(state: CliState, partner: str, request: Path) -> None:
    """Erase everyone REQUEST names (a file of emails, phones, MAIDs): from the graph, the
    store and every segment of PARTNER; the next sync deletes them at every destination.
    Their identifiers stay tombstoned: a re-sent old file will not bring them back,
    unless its sidecar says `readmit_forgotten = true`.

    Example: resolver forget --partner acme erase-requests.csv"""
    home = state.home()
    with Control(home.control_db) as control, tempfile.TemporaryDirectory(prefix="tessera-") as tmp:
        graphs = _graphs(home, control)
        _partners(graphs, partner)
        result = forget(graphs, partner, request, Path(tmp))
    report = {**result.__dict__, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    outbox = private_dir(home.outbox / partner)
    name = f"forget-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.report.json"
    write_atomic(outbox / name, json.dumps(report, indent=2, sort_keys=True).encode() + b"\n")
    click.echo(
        f"{partner}: {result.persons:,} person(s) and {result.identifiers_erased:,} identifier(s)"
        f" erased; {sum(result.segments.values()):,} segment membership(s) removed;"
        f" report in {outbox / name}"
    )
