"""What every store raises when it cannot do its job."""

from kg.errors import InputError, Problem


class StoreError(InputError):
    """The store cannot be reached or refused a request: a clear message, exit 2, no traceback."""

    def __init__(self, where: str, message: str):
        super().__init__(Problem(where, message))
