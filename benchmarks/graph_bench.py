"""Speed and memory of the identity graph: an incremental update and a full rebuild.

    python -m benchmarks.graph_bench [--rebuild-edges 100000000] [--base-edges 50000000]
        [--new-edges 10000000] [--seed 5] [--only rebuild|incremental|...]

A seeded synthetic graph stands in for a partner's: persons of 1-3 emails, 0-2 phones and
0-3 MAIDs, each pair of a person's identifiers seen together with probability 0.7, node
ids in a random order (first-seen order mixes persons), plus households (2% of persons
also give another person's phone), typos (0.1% of persons hold an edge to a random
identifier) and blocklisted junk (300 identifiers seen with 0.5% of persons). Graphs are
cached in benchmarks/data/ (generation is not timed).

Each phase runs in its own process under benchmarks/rss.py (wall time, peak RSS), with
the state the service would hold in memory (node keys included):

- **rebuild**: `update.rebuild` over `--rebuild-edges` edges from scratch (no pids yet,
  so every person goes through the pid matching: the heavier case of what `resolver
  graph rebuild` does).
- **components** (the floor, same run): connected components alone over the same edges
  (scipy), which any linking with guardrails builds on.
- **incremental**: `update.apply` of a file with `--new-edges` new edges (80% new
  persons, 20% new identifiers of existing persons, and re-sent known edges) onto a
  graph of `--base-edges`, key lookup included. The graph is loaded as the service
  loads one (rebuilt once beforehand and cached); its key index, made at the first
  lookup after a load, is made before the clock starts and timed on its own.
- **rebuild_instead** (the baseline, same run): a full rebuild of that same final graph,
  which is what a system without incremental updates does per file.

Appends one JSON line per phase to benchmarks/out/graph.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import DATA, OUT, machine, measure
from resolver.graph.components import ID, components
from resolver.graph.levels import BLOCKED, LINKED
from resolver.graph.rules import GraphRules
from resolver.graph.state import ARRAYS, GraphState
from resolver.graph.update import FileNodes, apply, rebuild
from resolver.state.atomic import private_dir

EDGES_PER_PERSON = 4.3  # what the generator below gives, to size a graph by its edges
JUNK = 300


@dataclass
class Synthetic:
    kind: np.ndarray  # uint8 per node
    junk: np.ndarray  # bool per node
    src: np.ndarray  # int32, src < dst, unique
    dst: np.ndarray
    person: np.ndarray  # int32 per node: the true person (-1 for junk)


def synthetic(persons: int, seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    counts = np.stack(
        [
            1 + rng.binomial(2, 0.3, persons),
            rng.binomial(2, 0.5, persons),
            rng.binomial(3, 0.4, persons),
        ]
    )  # emails, phones, maids per person
    per = counts.sum(axis=0)
    nodes = int(per.sum())
    start = np.concatenate([[0], np.cumsum(per)[:-1]])
    # node kinds in person order: emails, then phones, then MAIDs
    kind = np.repeat(np.tile(np.arange(3, dtype=np.uint8), persons), counts.T.ravel())
    owner = np.repeat(np.arange(persons, dtype=ID), per)
    order = rng.permutation(nodes + JUNK).astype(ID)  # node ids in first-seen order
    place = lambda local: order[local]  # noqa: E731
    src, dst = [], []
    for i, j in combinations(range(int(per.max())), 2):
        who = np.flatnonzero(per > j)
        who = who[rng.random(len(who)) < 0.7]
        src.append(place(start[who] + i))
        dst.append(place(start[who] + j))
    noise = _noise(rng, start, kind, order)
    a, b = np.concatenate([*src, noise[0]]), np.concatenate([*dst, noise[1]])
    keep = a != b
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    pairs = np.unique(lo.astype(np.int64) << 32 | hi)
    full_kind = np.zeros(nodes + JUNK, dtype=np.uint8)
    full_kind[order[:nodes]] = kind
    junk = np.zeros(nodes + JUNK, dtype=bool)
    junk[order[nodes:]] = True
    person = np.full(nodes + JUNK, -1, dtype=ID)
    person[order[:nodes]] = owner
    return Synthetic(
        full_kind, junk, (pairs >> 32).astype(ID), (pairs & 0xFFFFFFFF).astype(ID), person
    )


def _noise(
    rng: np.random.Generator, start: np.ndarray, kind: np.ndarray, order: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Edges from some persons' first email: to another person's phone (households), to
    any identifier (typos), to blocklisted junk."""
    persons, nodes = len(start), len(kind)
    src, dst = [], []
    for share, pool in ((0.02, np.flatnonzero(kind == 1)), (0.001, np.arange(nodes))):
        who = np.flatnonzero(rng.random(persons) < share)
        src.append(order[start[who]])
        dst.append(order[rng.choice(pool, len(who))])
    who = np.flatnonzero(rng.random(persons) < 0.005)
    src.append(order[start[who]])
    dst.append(order[nodes + rng.integers(0, JUNK, len(who))])
    return np.concatenate(src), np.concatenate(dst)


def cached(persons: int, seed: int) -> Path:
    path = DATA / f"graph-{persons}-{seed}.npz"
    if not path.exists():
        private_dir(DATA)
        g = synthetic(persons, seed)
        with tempfile.NamedTemporaryFile(dir=DATA, suffix=".npz", delete=False) as handle:
            np.savez(handle, kind=g.kind, junk=g.junk, src=g.src, dst=g.dst, person=g.person)
        Path(handle.name).rename(path)
    return path


def cached_state(persons: int, seed: int) -> Path:
    """The base graph after its rebuild (persons and pids given), as the service would
    load it: made once, in the parent process, so the measured process starts as a
    service does after loading a graph, not after a rebuild of its own."""
    path = DATA / f"graph-state-{persons}-{seed}.npz"
    if not path.exists():
        state = _state(np.load(cached(persons, seed)), seed)
        rebuild(state, state.base == BLOCKED, GraphRules())
        arrays = {name: getattr(state, name) for name in ARRAYS}
        with tempfile.NamedTemporaryFile(dir=DATA, suffix=".npz", delete=False) as handle:
            np.savez(handle, next_pid=np.array(state.next_pid), **arrays)
        Path(handle.name).rename(path)
    return path


def _loaded(path: Path) -> GraphState:
    data = np.load(path)
    state = GraphState(**{name: data[name] for name in ARRAYS})
    state.next_pid = int(data["next_pid"])
    return state


def _state(data: Any, seed: int) -> GraphState:
    """The in-memory state the service holds for a graph (random node keys)."""
    rng = np.random.default_rng(seed)
    n = len(data["kind"])
    junk = data["junk"]
    base = np.where(junk, BLOCKED, LINKED).astype(np.uint8)
    return GraphState(
        hi=rng.integers(0, 2**63, n, dtype=np.uint64),
        lo=rng.integers(0, 2**63, n, dtype=np.uint64),
        kind=data["kind"],
        base=base,
        code=base.copy(),
        raw=np.arange(n, dtype=ID),
        pid=np.full(n, -1, dtype=np.int64),
        mtype=np.zeros(n, dtype=np.uint8),
        src=data["src"],
        dst=data["dst"],
    )


def file_for(base: Any, persons: int, seed: int) -> tuple[FileNodes, np.ndarray]:
    """A file over a base graph: new persons (from a second synthetic population), new
    identifiers of existing persons, and edges the graph already has (re-sent rows)."""
    rng = np.random.default_rng(seed)
    fresh = synthetic(persons, seed + 1)
    n_base, n_new = len(base["kind"]), len(fresh.kind)
    # positions into the file's keys: the new graph's nodes, then base nodes it names
    growers = rng.choice(n_base, persons // 4, replace=False).astype(ID)
    growers = growers[~base["junk"][growers]]
    gained = rng.choice(n_new, len(growers), replace=False).astype(ID)  # a new identifier each
    resent = rng.choice(len(base["src"]), persons // 4, replace=False)
    named = np.unique(np.concatenate([growers, base["src"][resent], base["dst"][resent]]))
    at = lambda ids: (n_new + np.searchsorted(named, ids)).astype(ID)  # noqa: E731
    a = np.concatenate([fresh.src, at(growers), at(base["src"][resent])])
    b = np.concatenate([fresh.dst, gained, at(base["dst"][resent])])
    keys = np.random.default_rng(seed + 2)
    hi = np.concatenate(
        [keys.integers(0, 2**63, n_new, dtype=np.uint64), np.zeros(len(named), np.uint64)]
    )
    lo = np.concatenate(
        [keys.integers(0, 2**63, n_new, dtype=np.uint64), np.zeros(len(named), np.uint64)]
    )
    kind = np.concatenate([fresh.kind, base["kind"][named]])
    junk = np.concatenate([fresh.junk, base["junk"][named]])
    return FileNodes(hi, lo, kind, junk, a, b), named


def _child(phase: str, args: argparse.Namespace, result: Path) -> None:
    rules = GraphRules()
    out: dict[str, Any] = {}
    if phase in ("rebuild", "components"):
        data = np.load(cached(_persons(args.rebuild_edges), args.seed))
        if phase == "components":
            t = time.perf_counter()
            components(len(data["kind"]), data["src"], data["dst"])
            out["seconds"] = time.perf_counter() - t
        else:
            state = _state(data, args.seed)
            junk = state.base == BLOCKED
            t = time.perf_counter()
            change = rebuild(state, junk, rules)
            out["seconds"] = time.perf_counter() - t
            out["persons"] = change.persons_created
            out["state_mib"] = _state_mib(state)
        out["nodes"], out["edges"] = len(data["kind"]), len(data["src"])
    else:
        out |= _incremental(phase, args, rules)
    result.write_text(json.dumps(out))


def _incremental(phase: str, args: argparse.Namespace, rules: GraphRules) -> dict[str, Any]:
    """A file onto a loaded graph; then, for rebuild_instead, a rebuild of the result."""
    out: dict[str, Any] = {}
    data = np.load(cached(_persons(args.base_edges), args.seed))
    state = _loaded(cached_state(_persons(args.base_edges), args.seed))
    state.reserve()  # as the service holds a graph it loaded (GraphStore.load)
    t = time.perf_counter()  # and its key index, made at its first file's lookup
    state.lookup(np.empty(0, np.uint64), np.empty(0, np.uint64))
    out["index_seconds"] = time.perf_counter() - t
    file, named = file_for(data, _persons(args.new_edges), args.seed + 7)
    file.hi[-len(named) :], file.lo[-len(named) :] = state.hi[named], state.lo[named]
    edges = state.edges
    t = time.perf_counter()
    change = apply(state, file, rules)
    out["apply_seconds"] = time.perf_counter() - t
    out["new_edges"], out["relinked"] = state.edges - edges, change.relinked
    out["file_edges"], out["nodes_added"] = len(file.a), change.nodes_added
    out["nodes"], out["edges"] = state.nodes, state.edges
    if phase == "rebuild_instead":
        t = time.perf_counter()
        rebuild(state, state.base == BLOCKED, rules)
        out["seconds"] = time.perf_counter() - t
    else:
        out["seconds"] = out["apply_seconds"]
        out["state_mib"] = _state_mib(state)
    return out


def _state_mib(state: GraphState) -> float:
    arrays = [state.hi, state.lo, state.kind, state.base, state.code, state.raw, state.pid]
    arrays += [state.mtype, state.src, state.dst, state._index[0]]  # the key index too
    return sum(a.nbytes for a in arrays) / 2**20


def _persons(edges: int) -> int:
    return int(edges / EDGES_PER_PERSON)


PHASES = ("components", "rebuild", "incremental", "rebuild_instead")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rebuild-edges", type=int, default=100_000_000)
    parser.add_argument("--base-edges", type=int, default=50_000_000)
    parser.add_argument("--new-edges", type=int, default=10_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--only", choices=PHASES, action="append")
    parser.add_argument("--child", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args, args.result)
        return
    _prepare(args)
    private_dir(OUT)
    for phase in args.only or PHASES:
        with tempfile.TemporaryDirectory() as tmp:
            result = Path(tmp) / "result.json"
            argv = [sys.executable, "-m", "benchmarks.graph_bench", "--child", phase]
            argv += ["--result", str(result), "--seed", str(args.seed)]
            argv += ["--rebuild-edges", str(args.rebuild_edges)]
            argv += ["--base-edges", str(args.base_edges), "--new-edges", str(args.new_edges)]
            m = measure(phase, 0, argv)
            figures = {"phase": phase, **json.loads(result.read_text())}
        figures |= {
            "process_seconds": m.seconds,
            "peak_mib": m.peak_mib,
            "bench": "graph",
            **machine(),
        }
        with (OUT / "graph.jsonl").open("a") as handle:
            handle.write(json.dumps(figures) + "\n")
        print(_line(figures), flush=True)


def _prepare(args: argparse.Namespace) -> None:
    """Generate (and rebuild) outside the measured processes."""
    for phase in args.only or PHASES:
        edges = args.rebuild_edges if phase in ("rebuild", "components") else args.base_edges
        cached(_persons(edges), args.seed)
        if phase in ("incremental", "rebuild_instead"):
            cached_state(_persons(edges), args.seed)


def _line(f: dict[str, Any]) -> str:
    size = f"{f['nodes']:,} nodes, {f['edges']:,} edges"
    head = f"{f['phase']:16} {f['seconds']:7.2f} s  peak {f['peak_mib'] / 1024:5.2f} GiB  ({size})"
    if f["phase"] == "incremental":
        rate = f["new_edges"] / f["seconds"]
        head += (
            f"; {f['new_edges']:,} new edges, {rate:,.0f} edges/s, {f['relinked']:,} nodes relinked"
            f"; key index and scratch positions made in {f['index_seconds']:.2f} s (once a load)"
        )
    if f["phase"] == "rebuild":
        rate = f["edges"] / f["seconds"]
        head += f"; {f['persons']:,} persons, {rate:,.0f} edges/s"
    return head


if __name__ == "__main__":
    main()
