"""Every analytics operation the platform serves, one declaration each (`application.operation`).

Surfaces iterate `OPERATIONS`: a new operation is its domain package, one
module here declaring it, and one entry in this tuple.
"""

from __future__ import annotations

from typing import Any

from carbon254.application.operation import Operation
from carbon254.application.operations.spreads import SPREADS

OPERATIONS: tuple[Operation[Any, Any], ...] = (SPREADS,)

__all__ = ["OPERATIONS", "SPREADS"]
