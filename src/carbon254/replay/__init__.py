"""A local stand-in for the ISOs' web servers: real files under each ISO's URL layout, plus faults.

Tests and demos point a connector at it (`CARBON254_<ISO>_URL`) and get real
sockets on 127.0.0.1, so retries, timeouts and truncated bodies are exercised
exactly as against the ISO.
"""

from carbon254.replay.server import Fault, FaultKind, ReplayRequest, ReplayServer, Reply, Route

__all__ = ["Fault", "FaultKind", "ReplayRequest", "ReplayServer", "Reply", "Route"]
