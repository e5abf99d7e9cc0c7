#!/usr/bin/env python3
"""Scores a linker's output against known truth: pairwise and cluster-level precision, recall and F1.

Pairwise: the pairs a linker declared matches (its scored pairs at or above the threshold) against
the true pairs. Cluster-level: every pair of records placed in one predicted cluster against the
true pairs (cluster pairwise), and B-cubed precision, recall and F1 over records.
"""
import argparse
import csv
import json
import sys
from collections import defaultdict


def read_truth(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["record_id"]: row["cluster_id"] for row in csv.DictReader(handle)}


def read_clusters(path, id_column="record_id", cluster_column="cluster_id"):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row[id_column]: row[cluster_column] for row in csv.DictReader(handle)}


def read_pairs(path, threshold, left="record_id_l", right="record_id_r", probability="match_probability"):
    pairs = set()
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if float(row[probability]) >= threshold:
                a, b = row[left], row[right]
                pairs.add((a, b) if a < b else (b, a))
    return pairs


def calibration(path, truth, left="record_id_l", right="record_id_r", probability="match_probability"):
    """Share of true matches among output pairs, by predicted probability band (0.5 and up)."""
    bands = defaultdict(lambda: [0, 0])
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            value = float(row[probability])
            if value < 0.5:
                continue
            band = min(int(value * 10), 9) / 10
            a, b = row[left], row[right]
            bands[band][0] += 1
            bands[band][1] += int(a in truth and b in truth and truth[a] == truth[b])
    return {f"{band:.1f}-{band + 0.1:.1f}": (count, hits / count) for band, (count, hits) in sorted(bands.items())}


def members(assignment):
    groups = defaultdict(list)
    for record_id, cluster in assignment.items():
        groups[cluster].append(record_id)
    return groups


def pair_count(groups):
    return sum(len(group) * (len(group) - 1) // 2 for group in groups.values())


def prf(true_positives, predicted, actual):
    precision = true_positives / predicted if predicted else 1.0
    recall = true_positives / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(truth, clusters, pairs):
    true_groups = members(truth)
    actual_pairs = pair_count(true_groups)
    result = {}
    if pairs is not None:
        true_positive = sum(1 for a, b in pairs if a in truth and b in truth and truth[a] == truth[b])
        result["pairwise"] = prf(true_positive, len(pairs), actual_pairs)
    predicted_groups = members({record: clusters.get(record, "missing:" + record) for record in truth})
    # Cluster pairwise: pairs inside predicted clusters.
    intersection = defaultdict(int)
    for record, cluster in truth.items():
        intersection[(clusters.get(record, "missing:" + record), cluster)] += 1
    true_positive_clusters = sum(count * (count - 1) // 2 for count in intersection.values())
    result["cluster_pairwise"] = prf(true_positive_clusters, pair_count(predicted_groups), actual_pairs)
    # B-cubed.
    predicted_size = {cluster: len(group) for cluster, group in predicted_groups.items()}
    true_size = {cluster: len(group) for cluster, group in true_groups.items()}
    precision_sum = recall_sum = 0.0
    for (predicted, actual), count in intersection.items():
        precision_sum += count * count / predicted_size[predicted]
        recall_sum += count * count / true_size[actual]
    records = len(truth)
    precision, recall = precision_sum / records, recall_sum / records
    result["bcubed"] = (precision, recall, 2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    result["predicted_clusters"] = len(predicted_groups)
    result["true_clusters"] = len(true_groups)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--truth", required=True)
    parser.add_argument("--clusters", required=True)
    parser.add_argument("--pairs")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--calibration", action="store_true", help="print true-match share by probability band")
    arguments = parser.parse_args()
    truth = read_truth(arguments.truth)
    clusters = read_clusters(arguments.clusters)
    pairs = read_pairs(arguments.pairs, arguments.threshold) if arguments.pairs else None
    result = evaluate(truth, clusters, pairs)
    if arguments.json:
        json.dump(result, sys.stdout)
        print()
        return
    for name in ("pairwise", "cluster_pairwise", "bcubed"):
        if name in result:
            precision, recall, f1 = result[name]
            print(f"{name:<17} P {precision:.4f}  R {recall:.4f}  F1 {f1:.4f}")
    print(f"clusters predicted {result['predicted_clusters']}, true {result['true_clusters']}")
    if arguments.calibration and arguments.pairs:
        for band, (count, share) in calibration(arguments.pairs, truth).items():
            print(f"  predicted {band}: {count:>8} pairs, {share:.3f} true matches")


if __name__ == "__main__":
    main()
