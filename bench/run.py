"""smcfeed's benchmark suite: one command, a Markdown table and a chart.

    pip install -r bench/requirements.txt      # plus: apt-get install -y wrk nginx
    python bench/run.py --quick                # 1k and 10k articles, ~3 minutes
    python bench/run.py                        # 1k, 10k and 100k articles, ≤ 10 minutes

What it measures, and how to read the results: bench/README.md. Every server it starts listens
on 127.0.0.1 on a free port, is its own child process, and is stopped before it exits; the
whole run keeps to a time budget (--budget), skipping what would not fit and saying so.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
