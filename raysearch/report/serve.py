"""`raysearch report RUN_DIR --serve`: the report of a sweep that is still running, rebuilt
from the run folder's tables at each request and reloading itself every few seconds, so a
person can watch a long sweep in a browser (on the cluster's head node too: the driver need
not know). Only the standard library's HTTP server; it reads, never writes."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from raysearch.errors import SpecError
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

    return _bind(host, port, Report)


def _bind(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """The server on (host, port); where it cannot listen there (the port taken, a port past
    65535, a host this machine does not have), a SpecError saying what to change."""
    import errno
    import socket

    try:
        return ThreadingHTTPServer((host, port), handler)
    except OverflowError:
        raise SpecError(f"--port {port}: a port is 0-65535 (0: any free one)") from None
    except socket.gaierror as exc:
        raise SpecError(f"--host {host}: not an address of this machine ({exc.strerror}); "
                        f"use 127.0.0.1, or 0.0.0.0 to share the report") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise SpecError(f"--port {port}: {host}:{port} is in use (another report "
                            f"server?); pick another --port, or --port 0 for any free one"
                            ) from None
        raise SpecError(f"--host {host} --port {port}: cannot listen there: "
                        f"{exc.strerror or exc}") from None
