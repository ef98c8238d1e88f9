"""The controller: every state change of a rollout, and the loop that makes them by itself.

:class:`Controller` applies one change (start, promote, pause, resume, kill,
rollback, complete, sign-off, readiness) in one store transaction with its audit
entry; :mod:`trustramp.controller.transitions` holds the state machine's rules.
"""

from trustramp.controller.state_changes import CONTROLLER, Change, Controller, ControllerStore
from trustramp.controller.transitions import Transition

__all__ = ["CONTROLLER", "Change", "Controller", "ControllerStore", "Transition"]
