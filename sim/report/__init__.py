"""Charts and reports, drawn from stored results only (never a live model)."""
