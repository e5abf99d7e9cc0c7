#!/usr/bin/env python3
"""Computes the reference values the aidant-graph tests compare against, with networkx.

Run once (the output is committed):  python3 scripts/graph_fixtures.py [--python PATH]
Without --python it creates a virtual environment in .venv beside the workspace and installs
networkx there. It writes one JSON file per graph to crates/aidant-graph/tests/fixtures/.

Each fixture holds the graph as an edge list over nodes 0..n-1 (networkx's node order), the
node names, and degree, betweenness (normalized), closeness and eigenvector centrality, core
numbers and the connected components; Les Miserables also has the weighted variants, where
networkx reads the co-appearance count as a distance (betweenness, closeness) or a strength
(eigenvector).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "crates" / "aidant-graph" / "tests" / "fixtures"


def ensure_networkx():
    """Re-runs this script under an interpreter that has networkx, creating a venv if needed."""
    if "--python" in sys.argv:
        interpreter = sys.argv[sys.argv.index("--python") + 1]
        os.execv(interpreter, [interpreter, __file__, "--inside"])
    try:
        import networkx  # noqa: F401
        return
    except ImportError:
        if "--inside" in sys.argv:
            raise
    venv = ROOT / ".venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "networkx"], check=True)
    interpreter = str(venv / "bin" / "python")
    os.execv(interpreter, [interpreter, __file__, "--inside"])


def describe(name, graph, weighted):
    import networkx as nx

    nodes = list(graph.nodes())
    position = {node: index for index, node in enumerate(nodes)}
    edges = []
    for u, v, data in graph.edges(data=True):
        edges.append([position[u], position[v], float(data.get("weight", 1.0))])

    def as_list(values):
        return [values[node] for node in nodes]

    fixture = {
        "name": name,
        "networkx_version": nx.__version__,
        "node_names": [str(node) for node in nodes],
        "edges": edges,
        "degree": as_list(nx.degree_centrality(graph)),
        "betweenness": as_list(nx.betweenness_centrality(graph, normalized=True)),
        "closeness": as_list(nx.closeness_centrality(graph)),
        "eigenvector": as_list(nx.eigenvector_centrality(graph)),
        "core_number": as_list(nx.core_number(graph)),
        "components": sorted(
            [sorted(position[node] for node in component) for component in nx.connected_components(graph)],
            key=lambda component: (-len(component), component[0]),
        ),
    }
    if weighted:
        fixture["weighted_betweenness"] = as_list(nx.betweenness_centrality(graph, normalized=True, weight="weight"))
        fixture["weighted_closeness"] = as_list(nx.closeness_centrality(graph, distance="weight"))
        fixture["weighted_eigenvector"] = as_list(nx.eigenvector_centrality(graph, weight="weight"))
    if name == "karate_club":
        partition = [
            {node for node in graph if graph.nodes[node]["club"] == club} for club in ("Mr. Hi", "Officer")
        ]
        fixture["club_split_modularity"] = nx.community.modularity(graph, partition, weight=None)
        fixture["club_split"] = [0 if graph.nodes[node]["club"] == "Mr. Hi" else 1 for node in nodes]
    return fixture


def main():
    ensure_networkx()
    import networkx as nx

    FIXTURES.mkdir(parents=True, exist_ok=True)
    graphs = [
        ("karate_club", nx.karate_club_graph(), False),
        ("les_miserables", nx.les_miserables_graph(), True),
        ("florentine_families", nx.florentine_families_graph(), False),
    ]
    for name, graph, weighted in graphs:
        if not weighted:
            for _, _, data in graph.edges(data=True):
                data.pop("weight", None)
        fixture = describe(name, graph, weighted)
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(fixture, indent=1) + "\n")
        print(f"wrote {path.relative_to(ROOT)}: {len(fixture['node_names'])} nodes, {len(fixture['edges'])} edges")


if __name__ == "__main__":
    main()
