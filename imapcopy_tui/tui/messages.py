"""Messages the screens send up to the app, which owns the flow from screen to screen."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from textual.message import Message

from imapcopy_tui.config.presets import Preset
from imapcopy_tui.engine.account import Account
from imapcopy_tui.engine.session import Compression, ConnectStep


@dataclass
class ServiceChosen(Message):
    """The user picked a provider for one side."""

    side: str
    preset: Preset


@dataclass
class SettingsEntered(Message):
    """The settings form of one side is valid: test this account."""

    side: str
    preset: Preset
    account: Account


@dataclass
class ConnectionVerified(Message):
    """The connection test of one side passed: go on."""

    side: str
    preset: Preset
    account: Account


@dataclass
class ConnectStepReached(Message):
    """A step of the connection test (posted from the test's thread)."""

    step: ConnectStep


@dataclass
class ConnectFinished(Message):
    """The connection test is over: ``error`` is None when it passed; ``refused`` says the
    server refused the sign-in (then what the provider needs is worth a reminder)."""

    error: str | None
    refused: bool = False


@dataclass
class JobStarted(Message):
    """A sync job was created and its runner launched (the app reaps it when it ends)."""

    job_id: int
    runner: subprocess.Popen[bytes]
    compress: Compression  # chosen for this job: the app remembers it for the next


@dataclass
class OpenJob(Message):
    """Show the live view of a job."""

    job_id: int
