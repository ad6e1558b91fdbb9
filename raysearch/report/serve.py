"""`raysearch report RUN_DIR --serve`: the report of a sweep that is still running, rebuilt
from the run folder's tables at each request and reloading itself every few seconds, so a
person can watch a long sweep in a browser (on the cluster's head node too: the driver need
not know). Only the standard library's HTTP server; it reads, never writes."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from raysearch.report.html import render
from raysearch.results import load


def report_server(run_dir: str, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A server (not yet serving: call `serve_forever`) answering `/` with the live report."""

    class Report(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] not in ("/", "/report.html"):
                self.send_error(404, "the report is at /")
                return
            try:
                body = render(load(run_dir), live=True).encode()
            except Exception as exc:  # a table mid-replace, a folder not yet written
                self.send_error(503, f"cannot read {run_dir} right now: {exc}")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return  # quiet: the terminal is the user's

    return ThreadingHTTPServer((host, port), Report)
