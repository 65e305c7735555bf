"""The ``pressure-graph`` command."""

from __future__ import annotations

import ipaddress
import json
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


def case_files() -> list[Path]:
    """The bundled Lipetsk case, shipped inside the package."""
    folder = resources.files("graph_service") / "case_data"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".csv"))


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--dry-run", is_flag=True, help="Check and count; write nothing.")
@click.option("--skip-invalid", is_flag=True, help="Write the good rows, skip the reported ones.")
@click.option("--report", type=click.Path(path_type=Path), help="Also write problems to this CSV.")
def load(
    files: tuple[Path, ...], store: str, dry_run: bool, skip_invalid: bool, report: Path | None
) -> None:
    """Load spreadsheets (CSV, XLSX, XLS, ODS) in the template format.

    Every row is checked first; if any is bad, nothing is written.

    Example: pressure-graph load institutions.csv relationships.csv --dry-run
    """
    from loaders.load import load_files

    with opened(store) as s:
        try:
            result = load_files(list(files), s, dry_run=dry_run, skip_invalid=skip_invalid)
        except LoadRejected as e:
            if report:
                report.write_text(problems_csv(e.problems), encoding="utf-8")
            click.echo(f"{len(e.problems)} problem(s); nothing was written:", err=True)
            click.echo(format_problems(e.problems), err=True)
            if report:
                click.echo(f"All problems are listed in {report}", err=True)
            sys.exit(1)
        if report:
            report.write_text(problems_csv(result.skipped), encoding="utf-8")
        for problem in result.skipped:
            click.echo(f"skipped: {problem}", err=True)
        counts = result.counts()
        click.echo(
            f"{result.rows_read} rows read: "
            + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing")
        )
        if dry_run:
            click.echo("Dry run: nothing was written.")
        else:
            click.echo(_summary_line(result.summary) + f" Store: {s.url}")


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
    """Write blank spreadsheets with the expected headers and an example row.

    TARGET is an .xlsx workbook, or a folder for CSV files.

    Example: pressure-graph template my-data.xlsx
    """
    from loaders.template import write_template

    for path in write_template(target):
        click.echo(f"wrote {path}")


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


def _serve(store: Store, host: str, port: int) -> None:
    import uvicorn

    from graph_service.app import create_app

    click.echo(f"Serving {store.url} at http://{host}:{port}/graphql (GraphiQL in a browser)")
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


@main.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(store: str, host: str, port: int) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql, health at /healthz).

    Example: pressure-graph serve --store sqlite:///./pressure-graph.db --port 8000
    """
    _check_host(host)
    with opened(store) as s:
        _serve(s, host, port)


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
