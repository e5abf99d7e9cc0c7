#!/usr/bin/env python3
"""Runs the reference implementations and aidant-graph's benchmark binary on the same graphs and
prints a markdown table. Called by scripts/bench-graph, which prepares the venv and the graphs.

Every partition's modularity is computed the same way, by igraph's `modularity` on the same graph,
so the quality column compares like with like.
"""

import json
import random
import subprocess
import sys
import time

import igraph
import leidenalg
import networkx


def read_membership(path):
    with open(path) as handle:
        return [int(line) for line in handle if line.strip()]


def run_aidant(binary, *arguments):
    output = subprocess.run([binary, *arguments], check=True, capture_output=True, text=True).stdout
    return json.loads(output)


def main():
    binary, leiden_graph, betweenness_graph, networkx_graph, work = sys.argv[1:6]
    random.seed(1)  # python-igraph draws from Python's random module
    rows = []
    graph = igraph.Graph.Read_Edgelist(leiden_graph, directed=False)
    print(f"Leiden graph: {graph.vcount()} nodes, {graph.ecount()} edges", file=sys.stderr)

    def add_row(tool, seconds, membership, note=""):
        quality = graph.modularity(membership)
        rows.append((tool, seconds, quality, len(set(membership)), note))
        print(f"{tool}: {seconds:.2f} s, modularity {quality:.4f}", file=sys.stderr)

    for iterations, label in [(2, "2 iterations"), (-1, "to convergence")]:
        started = time.perf_counter()
        clustering = graph.community_leiden(objective_function="modularity", n_iterations=iterations)
        add_row(f"igraph Leiden ({label})", time.perf_counter() - started, clustering.membership)
    started = time.perf_counter()
    clustering = graph.community_multilevel()
    add_row("igraph Louvain (multilevel)", time.perf_counter() - started, clustering.membership)
    started = time.perf_counter()
    partition = leidenalg.find_partition(graph, leidenalg.ModularityVertexPartition, n_iterations=-1, seed=1)
    add_row("leidenalg (to convergence)", time.perf_counter() - started, partition.membership)
    for iterations, label in [(2, "2 iterations"), (0, "to convergence")]:
        membership_path = f"{work}/aidant_{iterations}.membership"
        result = run_aidant(binary, "leiden", leiden_graph, str(iterations), "1", membership_path)
        membership = read_membership(membership_path)
        membership += [max(membership) + 1 + index for index in range(graph.vcount() - len(membership))]
        add_row(f"aidant-graph Leiden ({label})", result["seconds"], membership,
                f"{result['iterations']} iterations, load {result['load_seconds']:.2f} s")

    between = igraph.Graph.Read_Edgelist(betweenness_graph, directed=False)
    started = time.perf_counter()
    between.betweenness(directed=False)
    igraph_seconds = time.perf_counter() - started
    aidant = run_aidant(binary, "betweenness", betweenness_graph)
    small = networkx.read_edgelist(networkx_graph, nodetype=int)
    started = time.perf_counter()
    networkx.betweenness_centrality(small, normalized=True)
    networkx_seconds = time.perf_counter() - started
    aidant_small = run_aidant(binary, "betweenness", networkx_graph)

    # networkx has no Leiden of its own and its Louvain is pure Python, far too slow for the
    # large graph, so it is compared with Aidant's Leiden on the 10,000-node graph.
    medium = networkx.read_edgelist(betweenness_graph, nodetype=int)
    medium_igraph = igraph.Graph.Read_Edgelist(betweenness_graph, directed=False)
    started = time.perf_counter()
    louvain = networkx.community.louvain_communities(medium, seed=1)
    networkx_louvain_seconds = time.perf_counter() - started
    louvain_membership = [0] * medium_igraph.vcount()
    for index, community in enumerate(louvain):
        for node in community:
            louvain_membership[node] = index
    medium_membership_path = f"{work}/aidant_medium.membership"
    aidant_medium = run_aidant(binary, "leiden", betweenness_graph, "0", "1", medium_membership_path)
    medium_rows = [
        ("networkx Louvain", networkx_louvain_seconds, medium_igraph.modularity(louvain_membership)),
        ("aidant-graph Leiden (to convergence)", aidant_medium["seconds"], medium_igraph.modularity(read_membership(medium_membership_path))),
    ]

    print("| Community detection | time (s) | modularity (igraph) | communities | note |")
    print("|---|---:|---:|---:|---|")
    for tool, seconds, quality, count, note in rows:
        print(f"| {tool} | {seconds:.2f} | {quality:.4f} | {count} | {note} |")
    print()
    print(f"| Community detection, {medium_igraph.vcount()} nodes / {medium_igraph.ecount()} edges | time (s) | modularity (igraph) |")
    print("|---|---:|---:|")
    for tool, seconds, quality in medium_rows:
        print(f"| {tool} | {seconds:.3f} | {quality:.4f} |")
    print()
    print("| Exact betweenness | graph | time (s) |")
    print("|---|---|---:|")
    print(f"| igraph (1 thread) | {between.vcount()} nodes, {between.ecount()} edges | {igraph_seconds:.2f} |")
    print(f"| aidant-graph ({aidant['threads']} threads) | {aidant['nodes']} nodes, {aidant['edges']} edges | {aidant['seconds']:.2f} |")
    print(f"| networkx | {small.number_of_nodes()} nodes, {small.number_of_edges()} edges | {networkx_seconds:.2f} |")
    print(f"| aidant-graph ({aidant_small['threads']} threads) | {aidant_small['nodes']} nodes, {aidant_small['edges']} edges | {aidant_small['seconds']:.3f} |")


if __name__ == "__main__":
    main()
