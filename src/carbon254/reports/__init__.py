"""Reports and charts drawn from domain results (PNG via Matplotlib's Agg backend; no display needed)."""
