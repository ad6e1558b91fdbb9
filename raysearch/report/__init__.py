"""What a person reads after a sweep: the terminal summary and `report.html`."""

from raysearch.report.html import REPORT_FILE, render, write_report
from raysearch.report.summary import summary

__all__ = ["summary", "write_report", "render", "REPORT_FILE"]
