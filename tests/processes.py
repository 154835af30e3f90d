"""Real ``policybot serve`` processes for the tests that need them (``tests/e2e``,
``tests/fault``): start one, wait until it is healthy, wait for what it does, stop it."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

START_TIMEOUT = 120.0
WAIT = 20.0


async def until(found: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``found`` until it returns something truthy; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(0.05)


@dataclass
class Instance:
    """One ``policybot serve`` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


async def wait_healthy(session: aiohttp.ClientSession, instance: Instance) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if instance.process.poll() is not None:
            raise AssertionError(f"{instance.name} exited:\n{instance.tail()}")
        try:
            async with session.get(instance.url + "/healthz") as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{instance.name} did not become healthy:\n{instance.tail()}")
