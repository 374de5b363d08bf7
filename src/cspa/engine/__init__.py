"""Benchmarking engine: statistical methods, columnar over DuckDB relations."""
