"""The ``pressure-graph`` command."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from graph_service.errors import PressureGraphError
from graph_service.storage import DEFAULT_STORE_URL, Store, WriteSummary, open_store
from loaders.problems import LoadRejected, format_problems, problems_csv
from schema import ModelError

F = TypeVar("F", bound=Callable[..., Any])
DEMO_STORE_URL = "sqlite:///./pressure-graph-demo.db"


def store_option(f: F) -> F:
    return click.option(
        "--store",
        envvar="PRESSURE_GRAPH_STORE",
        default=DEFAULT_STORE_URL,
        show_default=True,
        help="sqlite:///path.db or a Bolt URL (bolt://, neo4j://, +s, +ssc); "
        "env PRESSURE_GRAPH_STORE.",
    )(f)


@contextmanager
def opened(url: str) -> Iterator[Store]:
    try:
        store = open_store(url)
    except PressureGraphError as e:
        raise click.ClickException(str(e)) from None
    try:
        yield store
    except (PressureGraphError, ModelError) as e:
        raise click.ClickException(str(e)) from None
    finally:
        store.close()


@click.group()
@click.version_option(package_name="pressure-graph")
def main() -> None:
    """Graph analytics for administrative pressure networks.

    Quick start: pressure-graph demo
    """
    # The Neo4j driver logs its own failures (e.g. "Unable to retrieve routing information"
    # for neo4j:// URLs) before raising; with no handler configured Python prints them on
    # stderr, above the one-line error the store already gives for the same failure.
    logging.getLogger("neo4j").addHandler(logging.NullHandler())


def case_files() -> list[Path]:
    """The bundled Lipetsk case, shipped inside the package."""
    folder = resources.files("graph_service") / "case_data"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A YAML file saying how to read sheets that do not follow the template (see examples/).",
)
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Write the good rows; skip exactly the rows reported as bad.",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    help="Also write every problem to this CSV (file, sheet, row, column, value, reason).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show a progress line (default: only on a terminal).",
)
@click.option(
    "--write-ahead/--no-write-ahead",
    default=None,
    help="Write into the embedded store in a second process while checking, committing "
    "only if every row is good (default: for input of 8 MB or more).",
)
def load(
    files: tuple[Path, ...],
    store: str,
    mapping: Path | None,
    dry_run: bool,
    skip_invalid: bool,
    report: Path | None,
    progress: bool | None,
    write_ahead: bool | None,
) -> None:
    """Load spreadsheets (CSV, XLSX, XLS, ODS): every sheet, matched to a node kind by
    its name (institutions, persons, relationships, …) or by a --mapping file.

    Every row is checked first; if any is bad, nothing is written (unless --skip-invalid).
    Loading the same files again changes nothing.

    Example: pressure-graph load institutions.csv relationships.csv --dry-run
    """
    from loaders.load import load_files
    from loaders.mapping import MappingError
    from loaders.problems import LoadError
    from loaders.progress import ProgressLine

    line = ProgressLine(force=bool(progress)) if progress is not False else None
    with opened(store) as s:
        try:
            result = load_files(
                list(files),
                s,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                mapping=mapping,
                progress=line,
                background=write_ahead,
            )
        except LoadRejected as e:
            if line:
                line.finish()
            if report:
                report.write_text(problems_csv(e.problems), encoding="utf-8")
            click.echo(f"{len(e.problems)} problem(s); nothing was written:", err=True)
            click.echo(format_problems(e.problems), err=True)
            click.echo(
                f"All problems are listed in {report}"
                if report
                else "Fix them, add --report problems.csv for the full list, or "
                "--skip-invalid to load the other rows.",
                err=True,
            )
            sys.exit(1)
        except (MappingError, LoadError) as e:
            raise click.ClickException(str(e)) from None
        if line:
            line.finish()
        if report:
            report.write_text(problems_csv(result.skipped), encoding="utf-8")
        if result.skipped:
            click.echo(f"Skipped {len(result.skipped)} problem(s):", err=True)
            click.echo(format_problems(result.skipped), err=True)
        click.echo(_load_summary(result, dry_run))
        rate = result.rows_read / result.check_seconds if result.check_seconds else 0.0
        click.echo(
            f"{result.rows_read:,} rows read, checked in {result.check_seconds:.1f}s "
            f"({rate:,.0f} rows/s)"
            + (
                ""
                if dry_run
                else f" while writing, committed in {result.write_seconds:.1f}s"
                if result.written_ahead
                else f", written in {result.write_seconds:.1f}s"
            )
            + "."
        )
        if dry_run:
            click.echo("Dry run: nothing was written.")
        elif result.summary is not None:
            click.echo(_summary_line(result.summary) + f" Store: {s.url}")
        else:
            click.echo("Nothing to write.")


def _load_summary(result: Any, dry_run: bool) -> str:
    """A table: per kind / type, created, updated, unchanged, skipped."""
    summary = result.summary
    names = sorted(
        set(result.records)
        | set(result.skipped_rows)
        | (
            set(summary.created) | set(summary.updated) | set(summary.unchanged)
            if summary
            else set()
        )
    )
    if not names:
        return "Nothing found to load."
    if dry_run or summary is None:
        header = f"{'':<24}{'rows':>10}{'skipped rows':>14}"
        lines = [header]
        for name in names:
            lines.append(
                f"{name:<24}{result.records.get(name, 0):>10,}"
                f"{result.skipped_rows.get(name, 0):>14,}"
            )
    else:
        header = f"{'':<24}{'created':>10}{'updated':>10}{'unchanged':>11}{'skipped rows':>14}"
        lines = [header]
        for name in names:
            lines.append(
                f"{name:<24}{summary.created.get(name, 0):>10,}{summary.updated.get(name, 0):>10,}"
                f"{summary.unchanged.get(name, 0):>11,}{result.skipped_rows.get(name, 0):>14,}"
            )
    for sheet in result.skipped_sheets:
        lines.append(f"skipped whole sheet: {sheet}")
    return "\n".join(lines)


def _summary_line(summary: WriteSummary) -> str:
    def total(d: dict[str, int]) -> int:
        return sum(d.values())

    return (
        f"Created {total(summary.created)}, updated {total(summary.updated)}, "
        f"unchanged {total(summary.unchanged)}; graph version {summary.version}."
    )


@main.command()
@click.argument("target", type=click.Path(path_type=Path))
def template(target: Path) -> None:
    """Write blank spreadsheets: every sheet with its headers, an example row and
    drop-down lists for enumerated columns.

    TARGET is an .xlsx workbook, or a folder for CSV files.

    Example: pressure-graph template my-data.xlsx
    """
    from loaders.template import write_template

    for path in write_template(target):
        click.echo(f"wrote {path}")


@main.command()
@click.argument("out_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--regions",
    default=3,
    show_default=True,
    type=click.IntRange(1, 200),
    help="How many regions (each with municipalities, institutions and staff).",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="The same seed writes the same files."
)
@click.option(
    "--institutions",
    default=40,
    show_default=True,
    type=click.IntRange(1),
    help="Institutions per region.",
)
@click.option(
    "--staff",
    default=25,
    show_default=True,
    type=click.IntRange(0),
    help="Average staff listed per institution.",
)
def synth(out_dir: Path, regions: int, seed: int, institutions: int, staff: int) -> None:
    """Write a synthetic national-scale network as CSV in the template format.

    Everything in it is invented and labelled so: one Source node says it is synthetic,
    and every row cites it.

    Example: pressure-graph synth --regions 10 --seed 7 synthetic/
    """
    from loaders.synth import write_synthetic

    counts = write_synthetic(
        out_dir,
        regions=regions,
        seed=seed,
        institutions_per_region=institutions,
        staff_per_institution=staff,
    )
    for name, n in counts.items():
        click.echo(f"wrote {out_dir / name}: {n:,} rows")


@main.command()
@click.argument("graphql")
@store_option
@click.option("--variables", default=None, help="Variables as a JSON object.")
def query(graphql: str, store: str, variables: str | None) -> None:
    """Run one GraphQL query and print the JSON result.

    Exits with status 1 when the result has errors.

    Example: pressure-graph query '{ stats { nodeCount relationshipCount } }'
    """
    from graph_service.api.context import Context
    from graph_service.api.schema import schema

    try:
        values = json.loads(variables) if variables else None
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not JSON: {e}", param_hint="--variables") from None
    with opened(store) as s:
        result = schema.execute_sync(
            graphql, variable_values=values, context_value=Context(store=s)
        )
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [e.formatted for e in result.errors]
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    if result.errors:
        sys.exit(1)


def _check_host(host: str) -> None:
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise click.ClickException(
            f"refusing to bind {host}: API tokens are not configured, so the service only "
            "listens on loopback (127.0.0.1). Put a reverse proxy with authentication in front."
        )


def _serve(store: Store, host: str, port: int, cors_origins: tuple[str, ...] = ()) -> None:
    import uvicorn

    from graph_service.app import create_app

    click.echo(
        f"Serving {store.url} at http://{host}:{port}/ (the explorer; GraphiQL at /graphql)"
    )
    if cors_origins:
        click.echo(f"CORS: allowing {', '.join(cors_origins)}")
    uvicorn.run(create_app(store, cors_origins), host=host, port=port, log_level="warning")


def _cors_origins(
    ctx: click.Context, param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    """Origins from repeated --cors-origin, or else PRESSURE_GRAPH_CORS_ORIGINS (commas)."""
    items = value or tuple(os.environ.get("PRESSURE_GRAPH_CORS_ORIGINS", "").split(","))
    origins = tuple(o.strip().rstrip("/") for o in items if o.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise click.BadParameter(
                f"{origin!r}: write an origin as scheme://host[:port], e.g. "
                "http://localhost:5173, or * for any",
                param_hint="--cors-origin",
            )
    return origins


@main.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    callback=_cors_origins,
    help="Let pages from this origin call the API from a browser (repeatable; * for any). "
    "Default: none, or env PRESSURE_GRAPH_CORS_ORIGINS (comma-separated).",
)
def serve(store: str, host: str, port: int, cors_origins: tuple[str, ...]) -> None:
    """Serve the explorer at /, the GraphQL API at /graphql (GraphiQL in a browser),
    exports at /export/{format} and health at /healthz.

    Example: pressure-graph serve --store sqlite:///./pressure-graph.db --port 8000
    """
    _check_host(host)
    with opened(store) as s:
        _serve(s, host, port, cors_origins)


@main.command()
@store_option
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice(["gexf", "graphml", "cytoscape", "ftm"]),
    help="gexf and graphml for Gephi and networkx, cytoscape for Cytoscape.js, "
    "ftm for FollowTheMoney entities (JSON lines; needs the ftm extra).",
)
@click.option(
    "--projection",
    default=None,
    help='Export only a projection, as JSON with the fields of the GraphQL ProjectionInput: '
    'nodeKinds, relTypes, region, dateFrom, dateTo, minEvidence, e.g. '
    '\'{"nodeKinds": ["Authority", "Institution"], "relTypes": ["SUBORDINATE_TO"]}\'.',
)
@click.option(
    "--centrality",
    default="",
    help="Include centrality scores (comma-separated: degree, pagerank, betweenness, …) "
    "as node attributes centrality_<measure>, computed on the projection.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default="-",
    show_default=True,
    help="Where to write; - for standard output.",
)
def export(store: str, fmt: str, projection: str | None, centrality: str, output: Path) -> None:
    """Export the graph (or a projection) as GEXF, GraphML, Cytoscape.js JSON or
    FollowTheMoney entities, streamed page by page from the store.

    Text that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a
    carriage return) gets a leading apostrophe in GEXF and GraphML.

    Example: pressure-graph export --format gexf -o network.gexf
    """
    from graph_service.exports import (
        ExportSource,
        centrality_scores,
        export_format,
        projection_spec,
    )

    try:
        writer = export_format(fmt)
    except ImportError as e:
        raise click.ClickException(
            f"{e}. The ftm format needs the ftm extra: pip install 'pressure-graph[ftm]'"
        ) from None
    with opened(store) as s:
        spec = projection_spec(projection)
        measures = [m for m in centrality.split(",") if m.strip()]
        source = ExportSource(s, spec, centrality_scores(s, spec, measures))
        if str(output) == "-":
            for chunk in writer.write(source):
                click.echo(chunk, nl=False)
            return
        # Write beside the target and rename at the end: a failed export leaves no
        # truncated file behind that looks complete.
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                for chunk in writer.write(source):
                    out.write(chunk)
            partial.replace(output)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(f"wrote {output}", err=True)


@main.command(name="import-ftm")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@store_option
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
def import_ftm(file: Path, store: str, dry_run: bool) -> None:
    """Load FollowTheMoney entities (JSON lines), such as a file from
    `export --format ftm`: its nodes and relationships come back exactly. Entities from
    other FtM sources are mapped to the closest kinds; what has no place is counted.

    Every entity is checked first; nothing is written if one is bad.

    Example: pressure-graph import-ftm network.ftm.jsonl --store sqlite:///./copy.db
    """
    try:
        from graph_service.exports.ftm import read_entities
    except ImportError as e:
        raise click.ClickException(
            f"{e}. FtM import needs the ftm extra: pip install 'pressure-graph[ftm]'"
        ) from None
    with click.open_file(str(file), "r", encoding="utf-8") as f:
        try:
            result = read_entities(f, name=str(file))
        except PressureGraphError as e:
            raise click.ClickException(str(e)) from None
    click.echo(
        f"{len(result.nodes):,} nodes and {len(result.relationships):,} relationships read"
        + (f"; {result.skipped:,} entities had no place in the model" if result.skipped else "")
        + "."
    )
    if dry_run:
        click.echo("Dry run: nothing was written.")
        return
    with opened(store) as s:
        summary = s.upsert(result.nodes, result.relationships)
        click.echo(_summary_line(summary) + f" Store: {s.url}")


@main.command()
@click.option(
    "--store",
    default=DEMO_STORE_URL,
    show_default=True,
    help="Where to put the demo graph (its contents are replaced).",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Load the case and stop.")
def demo(store: str, host: str, port: int, no_serve: bool) -> None:
    """Load the bundled Lipetsk case into a fresh store, then serve it.

    Example: pressure-graph demo --port 8000
    """
    from loaders.load import load_files

    _check_host(host)
    with opened(store) as s:
        s.clear()
        result = load_files(case_files(), s)
        click.echo(f"Loaded the Lipetsk case: {_summary_line(result.summary)}")
        if not no_serve:
            _serve(s, host, port)


if __name__ == "__main__":
    main()
