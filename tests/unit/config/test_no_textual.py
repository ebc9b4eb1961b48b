from __future__ import annotations

import subprocess
import sys


def test_config_package_does_not_import_textual() -> None:
    code = (
        "import sys, sbexport_tui.config, sbexport_tui.config.profiles;"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'));"
        "print(','.join(bad)); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
