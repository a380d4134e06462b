"""User-facing errors and the CLI's exit codes."""

from dataclasses import dataclass

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_GATE = 3          # `threatkg diff --fail-on`: a condition held (the output is printed anyway)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the format allows."""

    file: str
    message: str
    line: int | None = None
    element: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.element}: {self.message}" if self.element else f"{where}: {self.message}"


class InputError(Exception):
    """Bad input: reported as problems, exit code 2, never a traceback."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
