"""Seeds Metrics warehouse tooling: embedded warehouse, synthetic source, loader, dbt runner."""

__version__ = "0.1.0"
