"""report-search: search Chinese work reports by keyword, phrase and meaning.

From Python (a notebook): `Engine` opens an index directory, `Client` talks to `report-search serve`
(report_search/notebook.py).
"""
__all__ = ["Answer", "Client", "Engine", "ReportSearchError"]


def __getattr__(name: str):
    """The notebook API, imported on first use: the CLI (report_search.cli) starts without it."""
    if name in __all__:
        from . import notebook

        return getattr(notebook, name)
    raise AttributeError(f"module 'report_search' has no attribute '{name}'")
