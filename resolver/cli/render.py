"""What the `resolver` commands print: tables and progress (counts only, never values)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from config.tables import console, print_table
from resolver.pipeline.report import ResolveReport
from resolver.state.control import STATES


def report_table(report: ResolveReport, title: str) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, Any]] = [
        ("file", report.file),
        ("profile", report.profile),
        ("region", report.region),
        ("rows", f"{report.rows:,}"),
    ]
    if report.partner is not None:
        rows += [
            ("resolved rows", f"{report.resolved:,}"),
            ("rejected rows", f"{report.rejected:,}"),
            ("distinct persons", f"{report.distinct_persons:,}"),
        ]
    for family, count in report.valid.items():
        rows.append((f"valid {family}", f"{count:,}"))
    for family, reasons in report.invalid.items():
        for reason, count in sorted(reasons.items()):
            rows.append((f"{family}: {reason}", f"{count:,}"))
    for reason, count in sorted(report.reject_reasons.items()):
        rows.append((f"rejected: {reason}", f"{count:,}"))
    if report.ignored_columns:
        rows.append(("ignored columns", ", ".join(report.ignored_columns)))
    rows += [("seconds", f"{report.seconds:.2f}"), ("rows/s", f"{report.rows_per_second:,.0f}")]
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def print_status(data: dict[str, Any]) -> None:
    out = console()
    files = [[name, f"{data['files'].get(name, 0):,}"] for name in STATES]
    print_table("Files", ("state", "files"), files, right=("files",), out=out)
    recent = data["recent"]
    out.print(
        f"Recent throughput: {recent['rows']:,} rows in {recent['files']} files,"
        f" {recent['rows_per_second']:,.0f} rows/s"
    )
    if data["quarantined"]:
        headers = ("id", "partner", "file", "code", "line", "column", "when", "message")
        rows = [
            [
                q["file_id"],
                q["partner"],
                q["file"],
                q.get("code"),
                q.get("line") or "",
                q.get("column") or "",
                q["when"],
                q.get("message") or "",
            ]
            for q in data["quarantined"]
        ]
        print_table("Quarantine", headers, rows, out=out)
    if data["unregistered"]:
        strays = [[u["folder"], u["files"]] for u in data["unregistered"]]
        out.print("Inbox folders of no registered partner, not read (`resolver partners add`):")
        print_table(None, ("folder", "files"), strays, right=("files",), out=out)
    segments = [
        [s["name"], s["partner"], s["version"], f"{s['members']:,}", s["copy_of"] or ""]
        for s in data["segments"]
    ]
    columns = ("segment", "partner", "version", "members", "copy of")
    print_table("Segments", columns, segments, right=("version", "members"), out=out)


def print_graph_stats(data: dict[str, Any]) -> None:
    console = Console()
    for partner, found in data.items():
        console.print(_graph_summary(partner, found))
        sizes = Table("identifiers", "persons", title="Person sizes")
        for label, count in found["person_sizes"].items():
            sizes.add_row(label, f"{count:,}")
        console.print(sizes)
        console.print(_graph_changes(found["changes"]))


def _graph_summary(partner: str, found: dict[str, Any]) -> Table:
    table = Table("measure", "value", title=f"Identity graph: {partner}")
    table.add_row("persons", f"{found['persons']:,}")
    for kind, count in found["identifiers"].items():
        table.add_row(f"{kind} identifiers", f"{count:,}")
    table.add_row("links (edges)", f"{found['edges']:,}")
    table.add_row("largest person (identifiers)", f"{found['largest_person']:,}")
    for rule, kinds in found["by_rule"].items():
        for kind, count in kinds.items():
            if count:
                table.add_row(f"stopped linking: {rule} ({kind})", f"{count:,}")
    table.add_row("erased identifiers", f"{found['erased']:,}")
    table.add_row("rules", f"{found['rules']['version']} (built with {found['built_with']})")
    return table


def _graph_changes(changes: list[dict[str, Any]]) -> Table:
    columns = ("gen", "cause", "file", "new ids", "new links", "new persons")
    table = Table(*columns, "merged", "split", "retired", title="Changes")
    for c in changes:
        counts = ("nodes_added", "edges_added", "persons_created", "merged", "split", "retired")
        table.add_row(
            str(c["generation"]), c["cause"], c["file"] or "", *(f"{c[k]:,}" for k in counts)
        )
    return table


def print_explain(person_id: str, found: dict[str, Any]) -> None:
    console = Console()
    table = Table("kind", "identifiers", title=f"Person {person_id}")
    for kind, count in found["identifiers"].items():
        table.add_row(kind, f"{count:,}")
    console.print(table)
    if found["stands_alone"]:
        console.print(f"This identifier stands alone: rule {found['stands_alone']}.")
    stopped = Table("rule", "kind", "links", title=f"Links seen: {found['links_seen']:,}; stopped")
    for row in found["links_stopped"]:
        stopped.add_row(row["rule"], row["kind"], f"{row['count']:,}")
    console.print(stopped)
