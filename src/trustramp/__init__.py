"""trustramp: roll AI features out to users without crashing their trust."""

from __future__ import annotations

__version__ = "0.1.0"
