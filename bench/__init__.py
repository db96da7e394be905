"""Benchmarks: one script per area (`python bench/<area>.py`), each printing a table."""
