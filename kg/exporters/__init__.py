"""A model's assessment written in another tool's format (`threatkg export MODEL --format NAME`).

One module per format in this package, found by name (a module whose name starts with `_` is not a
format). Each one has:

    NAME                              the format's name
    export(assessment) -> str         the file's text: the model with its inferred threats and their
                                      states (kg.assessment.Assessment: rated rows, coverage, ...)

An exporter whose format the model was imported from (`assessment.analysis.model.imported`) may
read the source file (`assessment.analysis.model.file`) to keep what ThreatKG does not hold, such
as a diagram's layout."""

import importlib
import pkgutil
from functools import cache
from types import ModuleType


@cache
def formats() -> dict[str, ModuleType]:
    """Format name → its exporter module, in name order."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found[module.NAME] = module
    return dict(sorted(found.items()))
