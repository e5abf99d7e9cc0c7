#!/usr/bin/env python3
"""An independent check of a published file's k-anonymity.

    python scripts/check-k-anonymity.py FILE.csv [--k 11]

Reads the CSV with Python's own csv module and counts every combination of
the quasi-identifiers (year, gender, age band, majority status,
citizenship, type of exploitation, police force area) and of whole rows:
each must occur at least k times (a combination that does not occur is not
in the file). Booleans must be 0, 1 or -99, as the CTDC codes them. Prints
what it found and exits non-zero on the first breach.
"""
import argparse
import csv
import sys
from collections import Counter

QUASI_IDENTIFIERS = ["yearOfRegistration", "gender", "ageBroad", "majorityStatus", "citizenship", "typeOfExploitConcatenated", "policeForceArea"]
BOOLEAN_PREFIXES = ("meansOfControl", "is", "typeOfLabour", "typeOfSex", "recruiterRelation")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--k", type=int, default=11)
    arguments = parser.parse_args()
    with open(arguments.file, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if rows:
        missing = [column for column in QUASI_IDENTIFIERS if column not in rows[0]]
        if missing:
            sys.exit(f"missing quasi-identifier columns: {missing}")
    for row in rows:
        for column, value in row.items():
            if column.startswith(BOOLEAN_PREFIXES) and not column.endswith("Concatenated") and value not in ("0", "1", "-99"):
                sys.exit(f"{column} holds {value!r}, not 0, 1 or -99")
    groups = Counter(tuple(row[column] for column in QUASI_IDENTIFIERS) for row in rows)
    whole = Counter(tuple(row.values()) for row in rows)
    smallest = min(groups.values(), default=0)
    print(f"{len(rows)} rows, {len(groups)} combinations of quasi-identifiers, the smallest of {smallest}; {len(whole)} distinct rows")
    for combination, size in groups.items():
        if size < arguments.k:
            sys.exit(f"a combination occurs {size} times, fewer than {arguments.k}: {dict(zip(QUASI_IDENTIFIERS, combination))}")
    for row, size in whole.items():
        if size < arguments.k:
            sys.exit(f"a whole row occurs {size} times, fewer than {arguments.k}")


if __name__ == "__main__":
    main()
