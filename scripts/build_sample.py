"""Assemble the bundled real-language sample from its hand-written source files.

The sample's texts are authored in ``scripts/sample_source/part*.txt`` (one block per question–passage
group, one ``lang | query | passage`` line per language) because that is the easiest form to write and
review by eye; this script turns them into the shipped ``hf_hybrid/data/sample/sample.jsonl`` with a
deterministic train/test split by group.

    python scripts/build_sample.py                # rewrite the JSONL
    python scripts/build_sample.py --check        # only parse and report counts
    python scripts/build_sample.py --set howto    # the out-of-domain how-to set (hf_hybrid/data/howto/), all test
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from hf_hybrid.atomic import write_text

ROOT = Path(__file__).resolve().parent.parent
# name → (source folder, shipped file, id prefix). The how-to set is evaluation only: every group is test.
SETS = {"sample": (ROOT / "scripts" / "sample_source", ROOT / "hf_hybrid" / "data" / "sample" / "sample.jsonl", "s"),
        "howto": (ROOT / "scripts" / "howto_source", ROOT / "hf_hybrid" / "data" / "howto" / "howto.jsonl", "h")}
# Every fifth group (by number) is held out for testing: 120 train / 30 test for 150 groups, and the
# test groups are spread over every topic because groups are written topic by topic.
TEST_EVERY = 5


def parse(text: str, source: str, prefix: str = "s") -> list[dict[str, str]]:
    """Parse one source file into rows; a malformed line stops with its file and line number."""
    rows: list[dict[str, str]] = []
    group, topic = None, None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("="):
            _, group, topic = line.split(maxsplit=2)
            continue
        parts = [part.strip() for part in line.split(" | ")]
        if group is None or len(parts) != 3 or not all(parts):
            sys.exit(f"{source}:{number}: expected 'lang | query | passage' inside a '= id topic' block")
        lang, query, passage = parts
        number_in_id = int(group.lstrip(prefix))
        split = "test" if prefix != "s" or number_in_id % TEST_EVERY == 0 else "train"
        rows.append({"id": group, "lang": lang, "topic": topic, "query": query, "passage": passage, "split": split})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="parse and report, write nothing")
    parser.add_argument("--set", choices=sorted(SETS), default="sample", help="which bundled set to build")
    args = parser.parse_args()
    source_dir, target, prefix = SETS[args.set]
    rows = []
    for path in sorted(source_dir.glob("part*.txt")):
        rows.extend(parse(path.read_text(encoding="utf-8"), path.name, prefix))
    groups = sorted({row["id"] for row in rows})
    langs = sorted({row["lang"] for row in rows})
    print(f"{len(groups)} groups, {len(langs)} languages ({', '.join(langs)}), {len(rows)} rows")
    if args.check:
        return 0
    write_text(target, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))  # all or nothing
    print(f"wrote {target.relative_to(ROOT)} ({target.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
