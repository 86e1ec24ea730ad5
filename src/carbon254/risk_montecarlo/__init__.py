"""Monte Carlo VaR of a stored portfolio as the `risk_var` job kind (importing this registers it)."""

from carbon254.risk_montecarlo.kind import RISK_VAR_JOB, RiskBatch, RiskTask, RiskVarJobRequest

__all__ = ["RISK_VAR_JOB", "RiskBatch", "RiskTask", "RiskVarJobRequest"]
