"""Options shared by several commands."""

import click

from kg.profiles import builtin
from kg.reasoning import ENGINES

reasoner = click.option("--reasoner", type=click.Choice(ENGINES), default="fast", show_default=True,
                        help="fast: OWL 2 RL rules in pyoxigraph; owlrl: the complete reference engine.")


def output_format(*choices, default="table"):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


model_argument = click.argument("model", type=click.Path(dir_okay=False, path_type=str))

store_option = click.option("--store", "store", metavar="URL", default=None,
                            help="Read MODEL as the name of a system in this store (default $THREATKG_STORE; "
                                 "unset: MODEL is a file): an http(s):// SPARQL server URL or a folder.")
store_of_systems = click.option("--store", "store", metavar="URL", default=None,
                                help="The store (default $THREATKG_STORE, else the embedded store in "
                                     "THREATKG_HOME/store): an http(s):// SPARQL server URL, a folder, or memory:.")
catalogs_store = click.option("--store", "store", metavar="URL", default=None,
                              help="Read the catalogs of this store (default $THREATKG_STORE; unset: the installed "
                                   "catalogs): an http(s):// SPARQL server URL or a folder.")


def profile_option(default: str | None = None, required: bool = False,
                   what: str = "The requirement profile", unset: str | None = None, multiple: bool = False):
    """--profile: a built-in profile or a profile YAML file (`unset` says what no profile means;
    `multiple`: repeatable, given as `profile_names`)."""
    given = {} if default is None else {"default": default}   # click 8.5 takes default=None for a value
    return click.option("--profile", "profile_names" if multiple else "profile_name", **given,
                        required=required, multiple=multiple, show_default=default is not None,
                        help=f"{what}: a built-in profile ({', '.join(builtin())}) or the path of a profile "
                             f"YAML file{f' (default: {unset})' if unset else ''}.")
