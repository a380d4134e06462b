"""`threatkg serve`: the web UI, JSON API and SPARQL endpoint under waitress (a production WSGI
server; never Flask's development server or debug mode)."""

import click

from kg.catalogs.installed import current, not_installed_message
from kg.cli import main
from kg.store import store_url


@main.command()
@click.argument("models", nargs=-1, type=click.Path(dir_okay=False, path_type=str))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 exposes the server to the network).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--threads", default=16, show_default=True, type=click.IntRange(1, 64),
              help="Worker threads (a SPARQL query or an upload holds one while its child runs).")
@click.option("--store", "store", metavar="URL", default=None,
              help="Serve every system of this store (default $THREATKG_STORE; unset: only the MODEL files, "
                   "in memory): an http(s):// SPARQL server URL or a folder. MODEL files are added to it.")
def serve(models, host, port, threads, store):
    """Serve MODEL files (YAML or Turtle; several at once) in a browser: diagram, threats and why,
    catalogs, search, SPARQL console; more can be uploaded at /upload."""
    from waitress import create_server

    from kg.web import create_app
    url = store_url(store)
    if current() is None and url is None:
        click.echo(f"note: STRIDE only, {not_installed_message()}", err=True)
    app = create_app(list(models), {"STORE": url})
    server = create_server(app, host=host, port=port, threads=threads, ident="threatkg")
    systems = ", ".join(app.extensions["registry"].systems()) or "none yet (upload one)"
    click.echo(f"serving {systems} at http://{_url_host(host)}:{server.effective_port}/ (Ctrl+C stops)", err=True)
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
