from __future__ import annotations

import subprocess
import sys


def test_the_engine_imports_no_textual() -> None:
    code = (
        "import sys, sbexport_tui.export as e; "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')); "
        "print(','.join(bad)); assert not bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
