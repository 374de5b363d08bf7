"""``cspa serve`` as users start it, and ``cspa load`` while it runs: the load goes through the
server (which holds the DuckDB file) instead of failing on DuckDB's lock."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.web.conftest import free_port

# one worker runs the module, so its app (a copy of the store) is made once
pytestmark = pytest.mark.xdist_group("web-serve")


def test_serve_then_load_goes_through_the_server(web_copy, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cspa",
            "serve",
            "--db",
            str(web_copy),
            "--port",
            str(port),
            "--insecure-cookies",
            "--no-warm",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                if r.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read()
            assert time.monotonic() < deadline, "cspa serve did not answer /healthz"
            time.sleep(0.5)
        assert r.text.startswith("ok: ")
        note = web_copy.with_name(web_copy.name + ".server.json")
        assert note.exists() and oct(note.stat().st_mode & 0o777) == "0o600"
        csv = tmp_path / "icpc.csv"
        csv.write_text("indicator,area,period,value\n20_ICPC,821,2025-26,13\n", encoding="utf-8")
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "cspa",
                "load",
                str(csv),
                "--db",
                str(web_copy),
                "--vintage",
                "through the server",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr
        assert "holds" in out.stdout and "loading through it" in out.stdout
        assert "Loaded 1 rows from icpc.csv" in out.stdout
        obs = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/areas/821/observations",
            params={"indicator": "20_ICPC", "period": "2025-26"},
        ).json()
        assert [(o["value"], o["vintage"]) for o in obs["items"]] == [(13.0, "through the server")]
        # a small count is shown to the public as the suppression symbol (vocabulary.yaml)
        small = tmp_path / "small.csv"
        small.write_text("indicator,area,period,value\n21_ICPC,821,2025-26,3\n", encoding="utf-8")
        subprocess.run(
            [sys.executable, "-m", "cspa", "load", str(small), "--db", str(web_copy)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        obs = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/areas/821/observations",
            params={"indicator": "21_ICPC", "period": "2025-26"},
        ).json()
        assert [(o["value"], o["status"]) for o in obs["items"]] == [(None, "c")]
        # a bad file is refused by the server, naming row and field, and the command says so
        bad = tmp_path / "bad.csv"
        bad.write_text("indicator,area,period,value\n20_ICPC,821,2025-26,abc\n", encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-m", "cspa", "load", str(bad), "--db", str(web_copy)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert (
            out.returncode == 1 and "refused by the server" in out.stderr and "row 2" in out.stderr
        )
    finally:
        server.terminate()
        server.communicate(timeout=60)
    assert not web_copy.with_name(web_copy.name + ".server.json").exists()
