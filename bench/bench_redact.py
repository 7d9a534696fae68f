"""Redacting a long error message: its cost grows with its length, not its longest word.

Every alert, log line and state message goes through `redact` before it leaves the
process. The variants are texts of the same length (20 KB by default): one long word
(a dump of base64, a hash, a long identifier), and the baseline, short words. With a
known secret set and one URL with a password in each, as a real message might hold.
Alternated in one process; the target is that the long word costs at most 2x the
baseline (an unbounded URL-scheme pattern made it about 1,000x: 0.8 s per message).

    uv run python bench/bench_redact.py [KB]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import alternate, print_results

from ff_prefect_kit._secrets import redact


def main() -> None:
    """Time `redact` on both texts and print the ratio."""
    size = int(sys.argv[1]) * 1000 if len(sys.argv) > 1 else 20_000
    os.environ["DISCORD_WEBHOOK_URL"] = (
        "https://discord.com/api/webhooks/100000000000000001/bench-secret-token"
    )
    tail = " postgresql://user:hunter2-password@db.example/prod"
    long_word = "x" * (size - len(tail)) + tail
    short_words = ("xxxxxxx " * (size // 8))[: size - len(tail)] + tail
    for text in (long_word, short_words):
        assert "hunter2" not in redact(text), "the URL's password was not hidden"
    times = alternate(
        {"one long word": lambda: redact(long_word), "short words": lambda: redact(short_words)},
        repeats=15,
    )
    print_results(
        f"redact() on {size // 1000} KB", times, {}, [("one long word", "short words", "<= 2x")]
    )


if __name__ == "__main__":
    main()
