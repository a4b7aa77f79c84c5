"""Exceptions raised by devicephys; the CLI turns them into one line and exit code 2."""


class SpecError(ValueError):
    """Invalid input: names the field, the value, the rule and the fix."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class ConvergenceError(RuntimeError):
    """A solver failed to converge; says what to change and where partial results went."""

    def __init__(self, message: str, *, saved: str | None = None):
        if saved:
            message = f"{message} (state reached so far saved to {saved})"
        super().__init__(message)
        self.saved = saved


class StageUnavailableError(RuntimeError):
    """A pipeline stage whose engine (DOLFINx, MEEP, ngspice, ...) is not installed."""
