"""What `resolver graph stats` and `resolver graph explain` show, as data: counts of
persons, identifiers, rules and changes, never an identifier, key or hash.

explain(person) names the kinds and counts of the person's identifiers and, for each
identifier seen beside them that is not theirs, the rule that kept it out: blocklist,
shared (seen with too many), bridge (beside two persons of a higher-priority kind), or
apart (linking it would put two persons' emails, or phones, together: the priority rule,
or a person limit).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import polars as pl

from resolver.graph.components import distinct_counts, mask
from resolver.graph.levels import BLOCKED, BRIDGE, ERASED, LINKED, SHARED
from resolver.graph.link import CODE_NAMES
from resolver.graph.rules import GraphRules
from resolver.graph.state import GraphState
from resolver.kinds import FAMILIES
from resolver.state.graphdb import Generation

SIZES = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 20), (21, 50), (51, None))


def _kind_name(kind: int) -> str:
    return FAMILIES[kind]


def stats(
    state: GraphState, history: list[Generation], rules: GraphRules, names: dict[int, str]
) -> dict[str, Any]:
    """A partner's graph in counts. `names` maps file ids to file names."""
    alive = state.base != ERASED
    person = state.pid[(state.pid >= 0) & alive]
    sizes = distinct_counts(person)[1]
    return {
        "persons": len(sizes),
        "identifiers": {
            _kind_name(k): int(((state.kind == k) & alive).sum()) for k in range(len(FAMILIES))
        },
        "edges": history[-1].edges if history else 0,
        "by_rule": _by_rule(state),
        "person_sizes": _histogram(sizes),
        "largest_person": int(sizes.max()) if len(sizes) else 0,
        "erased": int((~alive).sum()),
        "rules": {"version": rules.version, **asdict(rules)},
        "built_with": state.rules_version,
        "changes": [_change(gen, names) for gen in history],
    }


def _by_rule(state: GraphState) -> dict[str, dict[str, int]]:
    """Identifiers that stop linking, per rule and kind."""
    out: dict[str, dict[str, int]] = {}
    for code in (BLOCKED, SHARED, BRIDGE):
        name = CODE_NAMES[code]
        out[name] = {
            _kind_name(k): int(((state.code == code) & (state.kind == k)).sum())
            for k in range(len(FAMILIES))
        }
    return out


def _histogram(sizes: np.ndarray) -> dict[str, int]:
    out = {}
    for low, high in SIZES:
        label = str(low) if low == high else f"{low}+" if high is None else f"{low}-{high}"
        inside = (sizes >= low) & (sizes <= (high if high is not None else sizes.max(initial=0)))
        out[label] = int(inside.sum())
    return out


def _change(gen: Generation, names: dict[int, str]) -> dict[str, Any]:
    tally = gen.tally
    return {
        "generation": gen.generation,
        "cause": gen.cause,
        "file": names.get(gen.file_id) if gen.file_id is not None else None,
        **{k: int(tally.get(k, 0)) for k in ("nodes_added", "edges_added", "persons_created")},
        **{k: int(tally.get(k, 0)) for k in ("merged", "split", "retired", "over_limits")},
    }


def explain(state: GraphState, pid: int) -> dict[str, Any]:
    """One person: their identifiers by kind, and the links that rules stopped."""
    mine = np.flatnonzero(state.pid == pid)
    own = mask(state.nodes, mine)
    touching = own[state.src] | own[state.dst]
    src, dst = state.src[touching], state.dst[touching]
    other = np.where(own[src], dst, src)
    outside = ~own[other]
    reasons = _reasons(state, other[outside])
    kinds = pl.DataFrame({"kind": state.kind[other[outside]], "why": reasons})
    stopped = kinds.group_by("why", "kind").len().sort("why", "kind")
    return {
        "identifiers": {
            _kind_name(k): int((state.kind[mine] == k).sum()) for k in range(len(FAMILIES))
        },
        "stands_alone": CODE_NAMES[int(state.code[mine[0]])]
        if len(mine) == 1 and state.code[mine[0]] != LINKED
        else None,
        "links_seen": int(touching.sum()),
        "links_stopped": [
            {"rule": why, "kind": _kind_name(int(kind)), "count": int(count)}
            for why, kind, count in stopped.iter_rows()
        ],
    }


def _reasons(state: GraphState, nodes: np.ndarray) -> list[str]:
    code = state.code[nodes]
    names = np.array(["apart"] * len(nodes), dtype=object)
    for value in (BLOCKED, SHARED, BRIDGE, ERASED):
        names[code == value] = CODE_NAMES[value]
    return list(names)
