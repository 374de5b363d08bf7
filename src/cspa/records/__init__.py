"""Record-level returns (SSDA903, the CIN census): loaders, DfE's validation rules as data, the
measures as Ibis expressions that run on DuckDB and on Spark, and a generator of synthetic returns.

A stage between the store and the engine: it imports catalogue, store and errors only. Measures
become observations in the store, so the engine and the reports use them like any other figure.
"""
