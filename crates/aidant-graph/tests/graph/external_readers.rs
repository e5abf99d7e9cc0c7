//! Our exports read back by other tools: networkx reads our GraphML and GEXF (with the
//! entities' own attributes and the relations' weights), the followthemoney library checks our
//! FtM entities, and our Neo4j CSV survives a round trip. Python is run as `helpers` describes.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use aidant_graph::csv_input::{read_network, read_network_from_str};
use aidant_graph::export::ftm::write_ftm_json_lines;
use aidant_graph::export::gexf::write_gexf;
use aidant_graph::export::graphml::write_graphml;
use aidant_graph::export::neo4j::{read_neo4j_csv, write_neo4j_csv};
use aidant_graph::export::{ExportOptions, NodeAttribute};
use aidant_graph::{NetworkGraph, TimeWindow, parse_seen_date};
use serde_json::Value;

use crate::helpers::{run_python, write_temporary};

fn sample_network() -> NetworkGraph {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let nodes = std::fs::File::open(fixtures.join("sample_nodes.csv")).expect("sample nodes fixture");
    let edges = std::fs::File::open(fixtures.join("sample_edges.csv")).expect("sample edges fixture");
    read_network(nodes, edges).expect("the sample network is valid")
}

const NETWORKX_READER: &str = r#"
import json, sys
import networkx as nx
graphml = nx.read_graphml(sys.argv[1])
gexf = nx.read_gexf(sys.argv[2])
def summary(graph):
    return {
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "node_attributes": {str(node): {key: str(value) for key, value in data.items()} for node, data in graph.nodes(data=True)},
        "edge_attributes": [
            {"source": str(u), "target": str(v), **{key: str(value) for key, value in data.items()}}
            for u, v, data in graph.edges(data=True)
        ],
    }
print(json.dumps({"graphml": summary(graphml), "gexf": summary(gexf), "gexf_mode": gexf.graph.get("mode")}))
"#;

#[test]
fn networkx_reads_our_graphml_and_gexf() {
    let network = sample_network();
    let betweenness =
        NodeAttribute { name: "betweenness".to_owned(), values: (0..network.entities().len()).map(|position| Some(position as f64 / 10.0)).collect() };
    let options = ExportOptions { window: TimeWindow::ALL_TIME, node_attributes: vec![betweenness] };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut graphml = Vec::new();
    write_graphml(&network, &options, &mut graphml).unwrap();
    let mut gexf = Vec::new();
    write_gexf(&network, &options, &mut gexf).unwrap();
    let graphml_path = write_temporary(directory.path(), "network.graphml", &graphml);
    let gexf_path = write_temporary(directory.path(), "network.gexf", &gexf);
    let read = run_python(NETWORKX_READER, &[&graphml_path, &gexf_path], "networkx");

    for format in ["graphml", "gexf"] {
        assert_eq!(read[format]["nodes"], network.entities().len(), "{format} nodes");
        assert_eq!(read[format]["edges"], network.relations().len(), "{format} edges (a multigraph keeps parallel relations)");
    }
    let graphml_nodes = &read["graphml"]["node_attributes"];
    assert_eq!(graphml_nodes["P3"]["label"], "Anna \"Ania\" Kowalska");
    assert_eq!(graphml_nodes["P3"]["role"], "recruiter_or_intermediary");
    assert_eq!(graphml_nodes["A1"]["label"], "12 <High> Street, Leeds LS1 1AA");
    assert_eq!(graphml_nodes["P2"]["label"], "Nguyễn Văn An");
    assert_eq!(graphml_nodes["P2"]["betweenness"], "0.1");
    let first_edge = &read["graphml"]["edge_attributes"][0];
    assert_eq!((first_edge["source"].as_str(), first_edge["target"].as_str(), first_edge["relation"].as_str()), (Some("P1"), Some("PH1"), Some("uses_phone")));
    assert_eq!(first_edge["first_seen"], "2024-01-01");
    assert_eq!(first_edge["confidence"], "0.9");

    assert_eq!(read["gexf_mode"], "dynamic");
    let gexf_nodes = &read["gexf"]["node_attributes"];
    assert_eq!(gexf_nodes["P4"]["label"], "Mark O'Brien & Sons' driver");
    assert_eq!(gexf_nodes["P4"]["kind"], "person");
    let gexf_edges = read["gexf"]["edge_attributes"].as_array().unwrap();
    let open_ended = gexf_edges.iter().find(|edge| edge["source"] == "P3" && edge["target"] == "PH2").expect("the P3-PH2 relation");
    assert_eq!(open_ended["start"], "2024-02-01");
    assert!(open_ended.get("end").is_none(), "an unknown last seen date stays open");
    let call = gexf_edges.iter().find(|edge| edge["source"] == "PH1" && edge["relation"] == "called").unwrap();
    assert_eq!((call["start"].as_str(), call["end"].as_str()), (Some("2024-03-01"), Some("2024-03-01")));
}

#[test]
fn exports_honour_the_time_window() {
    let network = sample_network();
    let window = TimeWindow { from: Some(parse_seen_date("2024-05-02").unwrap()), to: Some(parse_seen_date("2024-12-31").unwrap()) };
    let mut nodes = Vec::new();
    let mut relationships = Vec::new();
    write_neo4j_csv(&network, &ExportOptions { window, ..Default::default() }, &mut nodes, &mut relationships).unwrap();
    let back = read_neo4j_csv(nodes.as_slice(), relationships.as_slice()).unwrap();
    let admitted = network.relations().iter().filter(|relation| window.admits(relation)).count();
    assert_eq!(back.relations().len(), admitted);
    assert!(admitted > 0 && admitted < network.relations().len());
}

#[test]
fn neo4j_csv_round_trips() {
    let network = sample_network();
    let mut nodes = Vec::new();
    let mut relationships = Vec::new();
    write_neo4j_csv(&network, &ExportOptions::default(), &mut nodes, &mut relationships).unwrap();
    let nodes_text = String::from_utf8(nodes.clone()).unwrap();
    let relationships_text = String::from_utf8(relationships.clone()).unwrap();
    assert!(nodes_text.starts_with("entityId:ID,label,kind,role,:LABEL\n"));
    assert!(nodes_text.contains("BA1,GB33BUKB20201555555555,bank_account,,Entity;BankAccount\n"));
    assert!(relationships_text.starts_with(":START_ID,:END_ID,:TYPE,first_seen:date,last_seen:date,source_reference,confidence:double\n"));
    assert!(relationships_text.contains("P1,PH1,USES_PHONE,2024-01-01,2024-06-30,IR-2024-0001,0.9\n"));
    let back = read_neo4j_csv(nodes.as_slice(), relationships.as_slice()).unwrap();
    assert_eq!(back.entities(), network.entities());
    assert_eq!(back.relations(), network.relations());
    assert_eq!(back.canonical_sha256(), network.canonical_sha256());
}

/// The FtM schemata we emit and the properties we use, as the FtM model defines them.
fn ftm_model() -> BTreeMap<&'static str, Vec<&'static str>> {
    let interval = ["startDate", "endDate", "recordId", "description"];
    let with_interval = |own: &[&'static str]| own.iter().chain(interval.iter()).copied().collect::<Vec<_>>();
    BTreeMap::from([
        ("Person", vec!["name", "phone", "description"]),
        ("Vehicle", vec!["name", "registrationNumber", "description"]),
        ("Address", vec!["full", "description"]),
        ("Company", vec!["name", "phone", "description"]),
        ("BankAccount", vec!["accountNumber", "description"]),
        ("UserAccount", vec!["username", "phone", "description"]),
        ("Document", vec!["title", "name", "description"]),
        ("Event", vec!["name", "description", "addressEntity", "involved"]),
        ("Ownership", with_interval(&["owner", "asset", "role"])),
        ("Employment", with_interval(&["employee", "employer", "role"])),
        ("Family", with_interval(&["person", "relative", "relationship"])),
        ("Associate", with_interval(&["person", "associate", "relationship"])),
        ("UnknownLink", with_interval(&["subject", "object", "role"])),
        ("Call", with_interval(&["caller", "receiver", "callerNumber", "receiverNumber"])),
        ("Mention", vec!["document", "resolved", "name", "detectedSchema"]),
    ])
}

const FTM_CHECKER: &str = r#"
import json, sys
from followthemoney import model
lines = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
schema_of = {line["id"]: line["schema"] for line in lines}
problems = []
for line in lines:
    schema = model.get(line["schema"])
    if schema is None:
        problems.append(f"unknown schema {line['schema']}")
        continue
    for name, values in line["properties"].items():
        prop = schema.get(name)
        if prop is None:
            problems.append(f"{schema.name} has no property {name}")
            continue
        if prop.type.name == "entity":
            for value in values:
                target = model.get(schema_of.get(value, ""))
                if target is None or not target.is_a(prop.range):
                    problems.append(f"{schema.name}.{name} points at {schema_of.get(value)}, not a {prop.range.name}")
    proxy = model.get_proxy(line)
    if proxy.schema.name != line["schema"]:
        problems.append("proxy schema differs")
print(json.dumps({"entities": len(lines), "problems": problems, "schemata": sorted({line["schema"] for line in lines})}))
"#;

#[test]
fn followthemoney_accepts_our_entities() {
    let network = sample_network();
    let mut lines = Vec::new();
    let summary = write_ftm_json_lines(&network, &ExportOptions::default(), &mut lines).unwrap();
    let model = ftm_model();
    let parsed: Vec<Value> =
        String::from_utf8(lines.clone()).unwrap().lines().map(|line| serde_json::from_str(line).expect("each line is one JSON object")).collect();
    assert_eq!(parsed.len(), summary.entities_written + summary.links_written);
    let ids: HashSet<&str> = parsed.iter().map(|line| line["id"].as_str().unwrap()).collect();
    for line in &parsed {
        let schema = line["schema"].as_str().unwrap();
        let allowed = model.get(schema).unwrap_or_else(|| panic!("unexpected schema {schema}"));
        for (property, values) in line["properties"].as_object().unwrap() {
            assert!(allowed.contains(&property.as_str()), "{schema} has no property {property}");
            if ["owner", "asset", "employee", "employer", "person", "relative", "associate", "subject", "object", "caller", "receiver", "document", "resolved"]
                .contains(&property.as_str())
            {
                for value in values.as_array().unwrap() {
                    assert!(ids.contains(value.as_str().unwrap()), "{schema}.{property} points at a missing entity");
                }
            }
        }
    }
    let schemata: HashSet<&str> = parsed.iter().map(|line| line["schema"].as_str().unwrap()).collect();
    for expected in [
        "Person",
        "Vehicle",
        "Address",
        "Company",
        "Ownership",
        "Employment",
        "Family",
        "Associate",
        "Call",
        "Mention",
        "UnknownLink",
        "BankAccount",
        "UserAccount",
        "Document",
        "Event",
    ] {
        assert!(schemata.contains(expected), "no {expected} emitted");
    }
    let person = parsed.iter().find(|line| line["schema"] == "Person" && line["properties"]["name"][0] == "Ion Popescu").unwrap();
    assert_eq!(person["properties"]["phone"][0], "+447700900001");
    assert_eq!(person["properties"]["description"][0], "per_RoleInProcess: controller");
    assert_eq!(summary.skipped.len(), 1, "{:?}", summary.skipped);
    assert!(summary.skipped[0].starts_with("mentioned_in_report V1 -> A2"));

    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_temporary(directory.path(), "entities.ftm.jsonl", &lines);
    let checked = run_python(FTM_CHECKER, &[&path], "followthemoney");
    assert_eq!(checked["problems"], Value::Array(Vec::new()), "followthemoney found problems");
    assert_eq!(checked["entities"], parsed.len());
}

/// Reads an Analyst's Notebook chart with Python's own XML parser and checks what the program
/// needs to open it: a `Chart` root; every entity type, link type, strength and attribute class
/// an item names declared in its collection; every link's ends among the entities; dates that
/// parse. Prints the counts as JSON.
const ANX_READER: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
from datetime import datetime
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "Chart", root.tag
def names(collection, item):
    element = root.find(collection)
    assert element is not None, collection
    return {child.get("Name") for child in element.findall(item)}
entity_types = names("EntityTypeCollection", "EntityType")
link_types = names("LinkTypeCollection", "LinkType")
strengths = names("StrengthCollection", "Strength")
classes = names("AttributeClassCollection", "AttributeClass")
items = root.find("ChartItemCollection").findall("ChartItem")
entities, links, dated = {}, [], 0
for item in items:
    assert item.get("Label") is not None
    if item.get("DateSet") == "true":
        datetime.fromisoformat(item.get("DateTime"))
        dated += 1
    for attribute in item.iter("Attribute"):
        assert attribute.get("AttributeClass") in classes, attribute.get("AttributeClass")
    entity = item.find("End/Entity")
    link = item.find("Link")
    assert (entity is None) != (link is None), "an item is an entity or a link"
    if entity is not None:
        assert entity.find("Icon/IconStyle").get("Type") in entity_types
        entities[entity.get("EntityId")] = entity.get("Identity")
    else:
        style = link.find("LinkStyle")
        assert style.get("Type") in link_types and style.get("Strength") in strengths
        links.append((link.get("End1Id"), link.get("End2Id")))
assert all(end1 in entities and end2 in entities for end1, end2 in links), "every link joins two entities"
print(json.dumps({"entities": len(entities), "links": len(links), "dated": dated, "labels": sorted(item.get("Label") for item in items)}))
"#;

#[test]
fn an_xml_reader_finds_in_our_anx_what_analysts_notebook_needs() {
    let network = sample_network();
    let options = ExportOptions::default();
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_temporary(directory.path(), "chart.anx", aidant_graph::export::anx::anx_string(&network, &options).as_bytes());
    let read = run_python(ANX_READER, &[&path], "(nothing beyond the standard library)");
    assert_eq!(read["entities"], network.entities().len());
    assert_eq!(read["links"], network.relations().len());
    let dated = network.relations().iter().filter(|relation| relation.first_seen.is_some() || relation.last_seen.is_some()).count();
    assert_eq!(read["dated"], dated);
    let labels: Vec<&str> = read["labels"].as_array().unwrap().iter().map(|label| label.as_str().unwrap()).collect();
    for entity in network.entities() {
        assert!(labels.contains(&entity.label.as_str()), "{} is on the chart", entity.label);
    }
}

const NETWORKX_ANALYSIS: &str = r#"
import json, sys
import networkx as nx
result = {}
for name, graph in (("graphml", nx.read_graphml(sys.argv[1])), ("gexf", nx.read_gexf(sys.argv[2]))):
    simple = nx.Graph(graph)
    result[name] = {
        "directed": graph.is_directed(),
        "components": nx.number_connected_components(simple) if not graph.is_directed() else nx.number_strongly_connected_components(graph),
        "betweenness": {str(node): value for node, value in nx.betweenness_centrality(simple).items()} if not graph.is_directed() else {str(node): value for node, value in nx.betweenness_centrality(graph).items()},
        "directions": sorted({(data["relation"], data["direction"]) for _, _, data in graph.edges(data=True)}),
    }
print(json.dumps(result))
"#;

/// Relations are stored with a direction but read both ways: read back by networkx, the export
/// must be the same undirected network, with the same components and brokers as Aidant finds.
#[test]
fn networkx_reads_the_exports_as_the_undirected_network_aidant_analyses() {
    let network = sample_network();
    let options = ExportOptions::default();
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut graphml = Vec::new();
    write_graphml(&network, &options, &mut graphml).unwrap();
    let mut gexf = Vec::new();
    write_gexf(&network, &options, &mut gexf).unwrap();
    let graphml_path = write_temporary(directory.path(), "network.graphml", &graphml);
    let gexf_path = write_temporary(directory.path(), "network.gexf", &gexf);
    let read = run_python(NETWORKX_ANALYSIS, &[&graphml_path, &gexf_path], "networkx");

    let graph = aidant_graph::AnalysisGraph::project(&network, &aidant_graph::AnalysisOptions::default());
    let components = aidant_graph::components::connected_components(&graph).len();
    let betweenness =
        aidant_graph::centrality::betweenness_centrality(&graph, aidant_graph::centrality::PathCentralityOptions { weighted: false, normalized: true });
    let top = (0..betweenness.len()).max_by(|left, right| betweenness[*left].total_cmp(&betweenness[*right])).unwrap();
    assert!(betweenness[top] > 0.0, "the sample has a broker");
    let top_id = &network.entities()[graph.entity_of(top)].id;
    for format in ["graphml", "gexf"] {
        assert_eq!(read[format]["directed"], false, "{format} is undirected");
        assert_eq!(read[format]["components"], components, "{format}: the same components");
        let theirs = read[format]["betweenness"][top_id.as_str()].as_f64().unwrap();
        assert!((theirs - betweenness[top]).abs() < 1e-9, "{format}: the top broker {top_id} keeps betweenness {} (networkx {theirs})", betweenness[top]);
        let directions = read[format]["directions"].as_array().unwrap();
        assert!(directions.contains(&serde_json::json!(["uses_phone", "source_to_target"])), "{format}: {directions:?}");
        assert!(directions.iter().all(|pair| pair[1] == if ["associate", "family", "mentioned_with"].contains(&pair[0].as_str().unwrap()) { "none" } else { "source_to_target" }));
    }
}

/// A network whose nodes file has two columns of its own and whose edges file weighs relations.
fn attributed_and_weighed_network() -> NetworkGraph {
    read_network_from_str(
        "id,kind,label,role,nationality,case_number\n\
         P1,person,Ion Popescu,controller,Romanian,OP-7\n\
         P2,person,Nguyễn Văn An,victim,Vietnamese,\n\
         PH1,phone,+447700900001,,,\"OP-7 & OP-9 <urgent>\"\n\
         B1,business,Shiny Nails Ltd,,,\n",
        "source,target,kind,first_seen,last_seen,source_reference,confidence,weight\n\
         P1,PH1,uses_phone,2024-01-01,,IR-1,0.9,\n\
         P1,P2,controls,,,IR-1,0.8,3\n\
         P2,PH1,called,2024-03-01,2024-03-31,CDR-1,1,12\n\
         P1,B1,owns,,,Companies House,1,\n",
    )
    .expect("the attributed network is valid")
}

const NETWORKX_TYPED_READER: &str = r#"
import json, sys
import networkx as nx
def typed(value):
    return {"value": value, "type": type(value).__name__}
def summary(graph):
    return {
        "nodes": {str(node): {key: typed(value) for key, value in data.items()} for node, data in graph.nodes(data=True)},
        "edges": {f"{u}-{v}-{data['relation']}": {key: typed(value) for key, value in data.items()} for u, v, data in graph.edges(data=True)},
    }
print(json.dumps({"graphml": summary(nx.read_graphml(sys.argv[1])), "gexf": summary(nx.read_gexf(sys.argv[2]))}))
"#;

#[test]
fn networkx_reads_node_attributes_and_relation_weights_from_graphml_and_gexf() {
    let network = attributed_and_weighed_network();
    let community = NodeAttribute { name: "community".to_owned(), values: vec![Some(0.0); network.entities().len()] };
    let options = ExportOptions { window: TimeWindow::ALL_TIME, node_attributes: vec![community] };
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut graphml = Vec::new();
    write_graphml(&network, &options, &mut graphml).unwrap();
    let mut gexf = Vec::new();
    write_gexf(&network, &options, &mut gexf).unwrap();
    let graphml_text = String::from_utf8(graphml.clone()).unwrap();
    assert!(graphml_text.contains(r#"<key id="node_attribute_0" for="node" attr.name="nationality" attr.type="string"/>"#), "{graphml_text}");
    let graphml_path = write_temporary(directory.path(), "network.graphml", &graphml);
    let gexf_path = write_temporary(directory.path(), "network.gexf", &gexf);
    let read = run_python(NETWORKX_TYPED_READER, &[&graphml_path, &gexf_path], "networkx");
    let string = |value: &str| serde_json::json!({ "value": value, "type": "str" });
    let number = |value: f64| serde_json::json!({ "value": value, "type": "float" });
    for format in ["graphml", "gexf"] {
        let nodes = &read[format]["nodes"];
        assert_eq!(nodes["P1"]["nationality"], string("Romanian"), "{format}");
        assert_eq!(nodes["P1"]["case_number"], string("OP-7"), "{format}");
        assert_eq!(nodes["PH1"]["case_number"], string("OP-7 & OP-9 <urgent>"), "{format}: text is escaped and read back");
        assert!(nodes["P2"].get("case_number").is_none(), "{format}: an empty cell is no value");
        assert_eq!(nodes["B1"]["kind"], string("business"), "{format}: built-in attributes are untouched");
        assert_eq!(nodes["B1"]["community"], number(0.0), "{format}: analysis attributes stay numbers beside text ones");
        let edges = &read[format]["edges"];
        assert_eq!(edges["P2-PH1-called"]["weight"], number(12.0), "{format}");
        assert_eq!(edges["P1-P2-controls"]["weight"], number(3.0), "{format}");
        assert_eq!(edges["P1-PH1-uses_phone"]["weight"], number(1.0), "{format}: an empty weight is 1");
    }
    assert_eq!(read["graphml"]["edges"]["P2-PH1-called"]["confidence"], number(1.0), "the confidence is kept beside the weight");
    assert_eq!(read["gexf"]["edges"]["P1-P2-controls"]["confidence"], number(0.8));
}

#[test]
fn neo4j_csv_round_trips_attributes_and_weights() {
    let network = attributed_and_weighed_network();
    let mut nodes = Vec::new();
    let mut relationships = Vec::new();
    write_neo4j_csv(&network, &ExportOptions::default(), &mut nodes, &mut relationships).unwrap();
    let nodes_text = String::from_utf8(nodes.clone()).unwrap();
    let relationships_text = String::from_utf8(relationships.clone()).unwrap();
    assert!(nodes_text.starts_with("entityId:ID,label,kind,role,:LABEL,nationality,case_number\n"), "{nodes_text}");
    assert!(nodes_text.contains("P2,Nguyễn Văn An,person,victim,Entity;Person,Vietnamese,\n"), "{nodes_text}");
    assert!(relationships_text.starts_with(":START_ID,:END_ID,:TYPE,first_seen:date,last_seen:date,source_reference,confidence:double,weight:double\n"));
    assert!(relationships_text.contains("P2,PH1,CALLED,2024-03-01,2024-03-31,CDR-1,1.0,12.0\n"), "{relationships_text}");
    let back = read_neo4j_csv(nodes.as_slice(), relationships.as_slice()).unwrap();
    assert_eq!(back.entities(), network.entities());
    assert_eq!(back.relations(), network.relations());
    assert_eq!(back.attribute_names(), network.attribute_names());
    assert_eq!(back.attribute(2, 1), Some("OP-7 & OP-9 <urgent>"));
    assert_eq!(back.relation_weight(2).get(), 12.0);
    assert_eq!(back.canonical_sha256(), network.canonical_sha256());
}

#[test]
fn followthemoney_and_analysts_notebook_exports_ignore_attributes_and_weights() {
    let network = attributed_and_weighed_network();
    let plain = read_network_from_str(
        "id,kind,label,role\nP1,person,Ion Popescu,controller\nP2,person,Nguyễn Văn An,victim\nPH1,phone,+447700900001,\nB1,business,Shiny Nails Ltd,\n",
        "source,target,kind,first_seen,last_seen,source_reference,confidence\n\
         P1,PH1,uses_phone,2024-01-01,,IR-1,0.9\nP1,P2,controls,,,IR-1,0.8\nP2,PH1,called,2024-03-01,2024-03-31,CDR-1,1\nP1,B1,owns,,,Companies House,1\n",
    )
    .unwrap();
    let options = ExportOptions::default();
    let mut lines = Vec::new();
    let summary = write_ftm_json_lines(&network, &options, &mut lines).unwrap();
    let mut plain_lines = Vec::new();
    write_ftm_json_lines(&plain, &options, &mut plain_lines).unwrap();
    assert_eq!(lines, plain_lines, "FollowTheMoney has no place for them, so the entities are those of the same network without");
    assert_eq!(aidant_graph::export::anx::anx_string(&network, &options), aidant_graph::export::anx::anx_string(&plain, &options));
    let directory = tempfile::tempdir().expect("a temporary directory");
    let path = write_temporary(directory.path(), "entities.ftm.jsonl", &lines);
    let checked = run_python(FTM_CHECKER, &[&path], "followthemoney");
    assert_eq!(checked["problems"], Value::Array(Vec::new()), "followthemoney found problems");
    assert_eq!(checked["entities"], summary.entities_written + summary.links_written);
}

/// A network without a weight column or node columns of its own is read, hashed and exported
/// exactly as before either existed: the sample's hash is the one earlier versions recorded in
/// run records, and no export mentions a weight or an attribute.
#[test]
fn a_network_without_weights_or_attributes_is_unchanged() {
    let network = sample_network();
    assert!(!network.has_relation_weights() && network.attribute_names().is_empty());
    assert_eq!(network.canonical_sha256(), "c579a40364aecb013472cd811b7229600d2448cae8a0e3055f5c3a40c1fa0f15");
    let options = ExportOptions::default();
    let graphml = aidant_graph::export::graphml::graphml_string(&network, &options);
    assert!(!graphml.contains("weight") && !graphml.contains("node_attribute"));
    let gexf = aidant_graph::export::gexf::gexf_string(&network, &options);
    assert!(gexf.contains(r#"label="uses_phone" weight="0.9""#), "the GEXF weight of an unweighed relation stays its confidence");
    assert!(!gexf.contains(r#"id="attribute_"#));
}
