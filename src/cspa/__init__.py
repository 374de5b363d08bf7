"""cspa: children's services performance assessment for English local authorities.

Data flows one way: ``catalogue`` (definitions as data) -> ``store`` (validated DuckDB) ->
``engine`` (every comparison, columnar) -> ``assessment`` (grades, letters) -> ``outputs``
(HTML, PDF, Excel, JSON). Nothing heavy is imported here.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
