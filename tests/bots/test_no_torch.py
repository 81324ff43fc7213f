"""A bots-only host never imports torch: the bot process's modules, the early face check and
/verify's reader run in a fresh interpreter and leave torch out of sys.modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
import vitaphone.cli, vitaphone.cli.bot, vitaphone.cli.mod
import vitaphone.bots.runtime, vitaphone.bots.service, vitaphone.bots.telegram
import vitaphone.bots.discord, vitaphone.queue.inprocess, vitaphone.queue.arq_queue
import vitaphone.studio, vitaphone.verification
from vitaphone.bots import checks
from vitaphone.core.pipeline import InputLimits
faces = checks._find_face(open(sys.argv[1], "rb").read(), "p", InputLimits())
assert faces >= 1
checks.check_options("happy", 50, "de")
from vitaphone.intake import check_quote
check_quote("Hello there, 1999.", language=None, limits=InputLimits())
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "torch")
print("torch modules:", loaded)
sys.exit(1 if loaded else 0)
"""


def test_bot_process_never_imports_torch() -> None:
    portrait = ROOT / "tests" / "assets" / "portraits" / "einstein.jpg"
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(portrait)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
