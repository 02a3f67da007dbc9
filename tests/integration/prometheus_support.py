"""A real Prometheus for the observability tests (importable as `prometheus_support`).

`running_prometheus(workdir, target_port)` starts the packaged `prometheus` binary on a free
loopback port, scraping one target (127.0.0.1:target_port) every second, with its TSDB in
`workdir`; it waits (bounded) until /-/ready answers and stops the server afterwards.
`Prometheus.wait_for(query, condition)` polls the HTTP API until a PromQL query's result holds.
A missing binary is a failure, never a skip.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integration_support import free_port_pair

from tradewire.devstack.processes import log_tail

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
SCRAPE_INTERVAL = "1s"

Result = list[dict[str, Any]]


@dataclass(frozen=True)
class Prometheus:
    """A Prometheus server started by `running_prometheus`."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def query(self, expression: str) -> Result:
        """The result of an instant PromQL query through /api/v1/query (AssertionError if refused)."""
        address = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expression})
        with urllib.request.urlopen(address, timeout=10) as response:
            answer = json.loads(response.read())
        assert "success" == answer["status"], answer
        result: Result = answer["data"]["result"]
        return result

    def wait_for(
        self, expression: str, condition: Callable[[Result], bool], timeout: float, what: str = "data"
    ) -> Result:
        """Poll `expression` until `condition(result)` holds; fail after `timeout` s naming the last result."""
        deadline = time.monotonic() + timeout
        result = self.query(expression)
        while not condition(result):
            assert self.process.poll() is None, f"Prometheus exited:\n{log_tail(self.log)}"
            assert time.monotonic() < deadline, (
                f"timed out after {timeout} s waiting for {what} from {expression!r}; last result: {result}"
            )
            time.sleep(0.2)
            result = self.query(expression)
        return result

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a bounded wait; stopping twice is harmless."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


def scrape_config(target_port: int) -> str:
    """prometheus.yml: scrape 127.0.0.1:target_port/metrics every second."""
    return json.dumps(
        {
            "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": SCRAPE_INTERVAL},
            "scrape_configs": [
                {"job_name": "tradewire-test", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}
            ],
        },
        indent=2,
    )  # JSON is YAML


@contextmanager
def running_prometheus(workdir: Path, target_port: int) -> Iterator[Prometheus]:
    """Start Prometheus on 127.0.0.1 scraping 127.0.0.1:`target_port`, wait until ready, yield it, stop it."""
    executable = shutil.which("prometheus")
    assert executable is not None, "prometheus not installed: run scripts/ensure-tools.sh"
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "prometheus.yml"
    config.write_text(scrape_config(target_port))
    port = free_port_pair()
    log = workdir / "prometheus.log"
    command = [
        executable,
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--storage.tsdb.path={workdir / 'data'}",
        "--log.level=info",
    ]
    with log.open("ab") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=workdir)
    server = Prometheus(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        server.stop()


def _wait_until_ready(server: Prometheus) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"Prometheus exited with {server.process.returncode}:\n{log_tail(server.log)}")
        try:
            with urllib.request.urlopen(server.url + "/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"Prometheus was not ready within {READY_TIMEOUT_SECONDS:g} s:\n{log_tail(server.log)}")
