"""The `threatkg` command: a click group; each command group lives in its own module, imported only
when one of its commands runs (or help lists them all)."""

import importlib
import os
import sys

import click

from kg import __version__
from kg.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, InputError

# command name → the module that defines it
COMMANDS = {"validate": "model_commands", "threats": "model_commands", "query": "model_commands",
            "export": "model_commands", "coverage": "coverage_commands", "report": "report_commands",
            "explain": "explain_commands", "map": "mapping_commands", "enrich": "enrich_commands",
            "serve": "serve", "systems": "systems_commands", "catalogs": "catalogs", "diff": "diff_commands",
            "import": "import_commands"}


class _Group(click.Group):
    """Loads a command's module on first use; turns bad input into exit 2 and anything else into
    exit 1, never a traceback."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, cmd_name):
        if cmd_name in COMMANDS:
            importlib.import_module(f"kg.cli.{COMMANDS[cmd_name]}")
        return super().get_command(ctx, cmd_name)

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
