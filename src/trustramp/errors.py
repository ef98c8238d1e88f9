"""One error hierarchy: every error trustramp raises on purpose is a :class:`TrustrampError`.

Each class carries a machine-readable ``code``, so the server can map it to an HTTP
status, the OpenFeature provider to OpenFeature's error codes, and the command
line to an exit code, while the message stays a sentence for people. The classes
keep the built-in base a caller would expect (a bad plan is still a ``ValueError``,
a wrong type a ``TypeError``), so ``except ValueError`` goes on working.
Standard library only.

>>> try:
...     raise TransitionRefusedError("kill", "the rollout is already killed")
... except TrustrampError as error:
...     error.code, str(error)
('transition_refused', 'kill refused: the rollout is already killed')
"""

from __future__ import annotations


class TrustrampError(Exception):
    """Base of trustramp's errors; ``code`` names the kind for machines."""

    code: str = "error"


class InvalidInputError(TrustrampError, ValueError):
    """An argument has the right type but a value trustramp cannot use (names it)."""

    code: str = "invalid_input"


class WrongTypeError(TrustrampError, TypeError):
    """An argument has the wrong type (``confidence=True``, ``gate(None, ...)``)."""

    code: str = "wrong_type"


class NotFoundError(TrustrampError, LookupError):
    """A feature, plan version, review item or key that the store does not hold."""

    code: str = "not_found"


class ClosedError(TrustrampError, RuntimeError):
    """The object was closed: it no longer decides or records."""

    code: str = "closed"


class TransitionRefusedError(TrustrampError):
    """A state change the controller refused; the message says why and what to do.

    ``transition`` is the requested change (``start``, ``kill``, ...), ``why`` the
    sentence, ``missing`` the items still missing (for ``start``: failed checklist
    items, absent signatures, lint errors).
    """

    code: str = "transition_refused"

    def __init__(self, transition: str, why: str, missing: tuple[str, ...] = ()) -> None:
        text = f"{transition} refused: {why}"
        if missing:
            text += "".join(f"\n  - {item}" for item in missing)
        super().__init__(text)
        self.transition = transition
        self.why = why
        self.missing = missing


class UnchangedError(TransitionRefusedError):
    """A transition that would change nothing (killing a killed rollout): reported, not
    audited as a change."""

    code: str = "unchanged"
