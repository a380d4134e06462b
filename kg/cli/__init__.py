"""The `threatkg` command: a click group; each command group lives in its own module."""

import os
import sys

import click

from kg import __version__
from kg.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError


class _Group(click.Group):
    """Turns bad input into exit 2 and anything else into exit 1, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as err:
            for problem in err.problems:
                click.echo(str(problem), err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(EXIT_INTERNAL)
        except Exception as err:  # the last line of defence: report, don't dump a traceback
            if os.environ.get("THREATKG_DEBUG"):
                raise
            click.echo(f"internal error: {type(err).__name__}: {err} "
                       "(set THREATKG_DEBUG=1 for a traceback)", err=True)
            sys.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="threatkg")
def main():
    """ThreatKG: threats each component inherits, and why, from an RDF knowledge graph."""


def _register():
    from kg.cli import (catalogs, coverage_commands, enrich_commands, explain_commands,  # noqa: F401
                        mapping_commands, model_commands, report_commands, serve,
                        systems_commands)  # (each adds commands)


_register()
