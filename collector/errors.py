"""The collector's errors: one base, so callers can catch everything the collector raises on purpose."""

from collections.abc import Iterable


class CollectorError(Exception):
    """Base of every error the collector raises on purpose."""


class InvalidMacError(CollectorError, ValueError):
    """Text that is not a MAC address; the message quotes it."""

    def __init__(self, value: str):
        shown = value if len(value) <= 40 else value[:37] + "..."   # an agent bug must not flood logs and acks
        super().__init__(f"{shown!r} is not a MAC address (expected e.g. aa:bb:cc:dd:ee:ff)")
        self.value = value


class InvalidObservationError(CollectorError):
    """One observation in a batch is malformed; it is rejected on its own, the batch goes on."""


class InvalidHelloError(CollectorError):
    """An agent's Hello lacks something the collector needs; the message names the field."""


class StoreError(CollectorError):
    """The database failed (cannot be opened, is read-only, disk full, ...)."""


class StoreClosedError(StoreError):
    """The store was used after close()."""


class ListenAddressError(CollectorError):
    """A listen address is not HOST:PORT, or it cannot be bound."""


class QueryError(CollectorError):
    """A `headcount` query could not be answered; `exit_code` is what the command line exits with."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class StandardsError(CollectorError):
    """The district standards files have problems; `problems` lists every one (file, line, field, expected)."""

    def __init__(self, problems: Iterable[object]):
        self.problems = tuple(problems)   # headcount.collector.standards.Problem records
        super().__init__("\n".join(str(problem) for problem in self.problems) or "invalid standards")
