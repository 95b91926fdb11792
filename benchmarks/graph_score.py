"""Scoring predicted persons against known truth, over records (rows).

Pairwise precision, recall and F1 count pairs of rows: a pair is true when both rows are
one real person, predicted when both got one person_id. B-cubed averages, per row, the
share of its predicted cluster that is its real person (precision) and the share of its
real person that is in its predicted cluster (recall). Over-merges are predicted persons
holding rows of more than one real person; under-merges are real persons whose rows got
more than one person_id. Rows without a person (rejected) are left out and counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from resolver.graph.state import GraphState


@dataclass(frozen=True)
class Scores:
    rows: int
    rejected: int
    precision: float
    recall: float
    f1: float
    bcubed_precision: float
    bcubed_recall: float
    largest: int
    over_merged: int
    under_merged: int
    persons_true: int
    persons_predicted: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _pairs(counts: pl.Expr) -> pl.Expr:
    return (counts * (counts - 1) // 2).sum()


def score(truth: pl.Series, predicted: pl.Series) -> Scores:
    """`truth` and `predicted` are row-aligned; a null prediction is a rejected row."""
    frame = pl.DataFrame({"t": truth, "p": predicted})
    scored = frame.drop_nulls("p")
    cells = scored.group_by("t", "p").len("n")
    by_p = cells.group_by("p").agg(pl.col("n").sum().alias("np"), pl.len().alias("kinds"))
    by_t = cells.group_by("t").agg(pl.col("n").sum().alias("nt"), pl.len().alias("parts"))
    tp = cells.select(_pairs(pl.col("n"))).item()
    pred = by_p.select(_pairs(pl.col("np"))).item()
    true = by_t.select(_pairs(pl.col("nt"))).item()
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    total = scored.height or 1
    b3 = cells.join(by_p, on="p").join(by_t, on="t")
    b3p = b3.select((pl.col("n") ** 2 / pl.col("np")).sum()).item() / total
    b3r = b3.select((pl.col("n") ** 2 / pl.col("nt")).sum()).item() / total
    return Scores(
        rows=frame.height,
        rejected=frame.height - scored.height,
        precision=precision,
        recall=recall,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        bcubed_precision=b3p,
        bcubed_recall=b3r,
        largest=int(by_p.get_column("np").max() or 0),
        over_merged=by_p.filter(pl.col("kinds") > 1).height,
        under_merged=by_t.filter(pl.col("parts") > 1).height,
        persons_true=by_t.height,
        persons_predicted=by_p.height,
    )


@dataclass(frozen=True)
class Stability:
    persons: int  # persons before the refresh
    untouched: int  # of those, persons the refresh did not touch
    untouched_kept_id: float  # share of the untouched that kept their pid on all nodes
    all_kept_id: float  # share of all persons whose pid survived the refresh

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _components(raw: np.ndarray, src: np.ndarray, nodes: int) -> pl.DataFrame:
    """Per raw component (label = its smallest node) of the first `nodes` nodes: node and
    edge counts."""
    sizes = pl.DataFrame({"raw": raw[:nodes]}).group_by("raw").len("nodes")
    edges = pl.DataFrame({"raw": raw[src]}).group_by("raw").len("edges")
    return sizes.join(edges, on="raw", how="left").fill_null(0)


def stability(before: GraphState, after: GraphState) -> Stability:
    """How person IDs fared over a refresh (`before` → `after`, one partner's graph).

    A person is untouched when the refresh changed nothing of its raw component: the same
    nodes and the same edges (every linking rule looks no further than that component, so
    nothing can have changed its person). Such a person keeps its ID when every one of its
    nodes still has it. Of all persons, the share whose pid some node still holds."""
    n = before.nodes
    was = _components(before.raw, before.src, n)
    now = _components(after.raw, after.src, after.nodes)
    same = was.join(now, on="raw", suffix="_now").filter(
        (pl.col("nodes") == pl.col("nodes_now")) & (pl.col("edges") == pl.col("edges_now"))
    )
    nodes = pl.DataFrame(
        {"raw": before.raw, "now_raw": after.raw[:n], "pid": before.pid, "now": after.pid[:n]}
    ).filter(pl.col("pid") >= 0)
    per = nodes.group_by("pid").agg(
        pl.col("raw").first(),
        (pl.col("raw") == pl.col("now_raw")).all().alias("stayed"),
        (pl.col("now") == pl.col("pid")).all().alias("kept"),
    )
    untouched = per.filter(pl.col("stayed")).join(same.select("raw"), on="raw", how="semi")
    alive = pl.DataFrame({"pid": after.pid}).filter(pl.col("pid") >= 0).unique()
    survived = per.join(alive, on="pid", how="semi").height
    return Stability(
        persons=per.height,
        untouched=untouched.height,
        untouched_kept_id=untouched.get_column("kept").mean() if untouched.height else 1.0,  # type: ignore[arg-type]
        all_kept_id=survived / max(per.height, 1),
    )
