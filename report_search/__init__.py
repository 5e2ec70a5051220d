"""report-search: search Chinese work reports by keyword, phrase and meaning.

From Python (a notebook): `Engine` opens an index directory, `Client` talks to `report-search serve`
(report_search/notebook.py).
"""
from .notebook import Answer, Client, Engine, ReportSearchError

__all__ = ["Answer", "Client", "Engine", "ReportSearchError"]
