"""Quality of the identity graph on a population with known truth (population.py).

    python -m benchmarks.graph_quality [--persons 20000] [--seed 11] [--json]

Partner "retail" sends three sources (CRM, app, loyalty) of one population, then the
same three of its next generation (new people, new devices and emails, people gone);
partner "travel" samples the same population with two sources of its own. Every file
goes through a real home and `serve`; then each file is resolved again against the
partner's final graph (`resolver resolve`'s path), and every row's person_id is scored
against the true person: pairwise precision, recall and F1, B-cubed, the largest person,
over- and under-merges. Stability (graph_score.stability): of the persons after the first
generation whose raw component the second left alone (same identifiers, same links), the
share that kept their person_id; and of all persons, the share whose person_id survived.
The baseline in the same run is what Tessera did before the
graph: a row's person is its first identifier (email, then phone, then MAID). Appends a
JSON line to benchmarks/out/graph_quality.jsonl.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.common import machine
from benchmarks.graph_score import Scores, score, stability
from benchmarks.population import (
    SOURCES,
    Population,
    Spec,
    population,
    refresh,
    render,
    source_rows,
)
from resolver import Home, Service, add_partner
from resolver.graph.partner import Graphs
from resolver.graph.state import GraphState
from resolver.pipeline.run import resolve_file
from resolver.state.atomic import private_dir, write_atomic
from resolver.state.control import Control

PARTNERS = {"retail": SOURCES, "travel": ("crm", "app")}
FIXED_KEY = "ab" * 32  # a benchmark home's master key (no real data is ever in it)


def _home(root: Path) -> Home:
    home = Home.open(root, {"inbox.stable_seconds": 0.0})
    private_dir(home.root)
    home.key_file.write_text(FIXED_KEY + "\n")
    home.key_file.chmod(0o600)
    home.initialize()
    for partner in PARTNERS:
        add_partner(home, partner, "US")
    return home


def _files(pop: Population, partner: str, generation: int) -> Iterator[tuple[str, pl.DataFrame]]:
    for n, source in enumerate(PARTNERS[partner]):
        seed = 1000 * generation + 100 * (partner == "travel") + n + 1
        rows = source_rows(pop, source, seed)
        if partner != "retail":  # segment names are unique across partners
            named = pl.col("segments").str.replace_all("|", f"|{partner} ", literal=True)
            rows = rows.with_columns((pl.lit(f"{partner} ") + named).alias("segments"))
        yield f"{source}-{generation}.csv", rows


def _send(home: Home, pop: Population, generation: int) -> dict[str, dict[str, pl.DataFrame]]:
    """Drop every partner's files of a generation and serve them; returns the truth. A
    copy of each file as sent is kept in <home>/sent/ (the inbox's is gone once taken)."""
    sent: dict[str, dict[str, pl.DataFrame]] = {}
    for partner in PARTNERS:
        for name, rows in _files(pop, partner, generation):
            data = render(rows, seed=len(name) + generation).write_csv().encode()
            copy = home.root / "sent" / partner / name
            write_atomic(private_dir(copy.parent) / name, data)
            write_atomic(home.inbox / partner / name, data)
            (home.inbox / partner / f"{name}.done").write_bytes(b"")
            sent.setdefault(partner, {})[name] = rows
    service = Service(home)
    try:
        service.run(once=True)
    finally:
        service.close()
    return sent


def _resolved(home: Home, partner: str, name: str, graphs: Graphs) -> pl.Series:
    """The person_id of each row of a sent file, in the partner's final graph."""
    path = home.root / "sent" / partner / name
    state = graphs.store.load(partner)
    resolution = resolve_file(path, partner=partner, keyring=home.keyring(), rules=graphs.rules)
    ids = pl.concat([c.select("person_id") for c in resolution.chunks(base=state)])
    return ids.get_column("person_id")


def _baseline(rows: pl.DataFrame) -> pl.Series:
    """Before the graph: the person is the row's first identifier."""
    first = pl.coalesce(
        pl.lit("e:") + pl.col("email"),
        pl.lit("p:") + pl.col("phone"),
        pl.lit("m:") + pl.col("maid"),
    )
    return rows.select(first).to_series()


def _state(home: Home, partner: str) -> GraphState:
    with Control(home.control_db) as control:
        return Graphs(home, control, home.keyring()).store.load(partner)


def run_quality(persons: int, seed: int, root: Path) -> dict[str, Any]:
    home = _home(root)
    pop = population(replace(Spec(), persons=persons, seed=seed))
    first = _send(home, pop, 0)
    before = _state(home, "retail")
    second = _send(home, refresh(pop, seed + 50), 1)
    after = _state(home, "retail")
    figures: dict[str, Any] = {"persons": persons, "seed": seed}
    with Control(home.control_db) as control:
        graphs = Graphs(home, control, home.keyring())
        for partner in PARTNERS:
            figures[partner] = _score_partner(home, partner, [first, second], graphs)
    figures["stability"] = stability(before, after).as_dict()
    figures["shared_ids_across_partners"] = _shared(home)
    return figures


def _score_partner(
    home: Home, partner: str, sent: list[dict[str, dict[str, pl.DataFrame]]], graphs: Graphs
) -> dict[str, Any]:
    truth, predicted, baseline = [], [], []
    for files in sent:
        for name, rows in files.get(partner, {}).items():
            truth.append(rows.get_column("truth"))
            predicted.append(_resolved(home, partner, name, graphs))
            baseline.append(_baseline(rows))
    t = pl.concat(truth)
    return {
        "graph": score(t, pl.concat(predicted)).as_dict(),
        "first_identifier": score(t, pl.concat(baseline)).as_dict(),
    }


def _shared(home: Home) -> int:
    """person_ids both partners' outboxes hold (must be none)."""
    ids = {}
    for partner in PARTNERS:
        found = [
            pl.read_csv(p).get_column("person_id")
            for p in (home.outbox / partner).glob("*.resolved.csv")
        ]
        ids[partner] = set(pl.concat(found).drop_nulls().to_list())
    return len(ids["retail"] & ids["travel"])


def _table(figures: dict[str, Any]) -> str:
    lines = [f"population: {figures['persons']:,} people, seed {figures['seed']}"]
    for partner in PARTNERS:
        for method in ("graph", "first_identifier"):
            s = Scores(**figures[partner][method])
            lines.append(
                f"{partner:7} {method:17} P={s.precision:.4f} R={s.recall:.4f} F1={s.f1:.4f}"
                f" B3P={s.bcubed_precision:.4f} B3R={s.bcubed_recall:.4f} largest={s.largest}"
                f" over={s.over_merged} under={s.under_merged} rejected={s.rejected}"
            )
    st = figures["stability"]
    lines.append(
        f"refresh: {st['untouched']:,} of {st['persons']:,} persons untouched; kept their ID:"
        f" {st['untouched_kept_id']:.4%} of those, {st['all_kept_id']:.4%} of all"
    )
    lines.append(f"person_ids shared across partners: {figures['shared_ids_across_partners']}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tessera-quality-") as tmp:
        figures = run_quality(args.persons, args.seed, Path(tmp))
    figures |= {"bench": "graph_quality", **machine()}
    out = Path(__file__).parent / "out"
    private_dir(out)
    with (out / "graph_quality.jsonl").open("a") as handle:
        handle.write(json.dumps(figures) + "\n")
    print(json.dumps(figures, indent=2) if args.json else _table(figures))


if __name__ == "__main__":
    main()
