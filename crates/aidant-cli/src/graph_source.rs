//! The network in Aidant's own database, for `aidant graph --from-database`:
//! each public report is a node, linked to the vehicles, postcodes and
//! businesses it mentions, so reports about the same van or the same nail
//! bar fall into one component. Public reports are unverified, so each link
//! carries confidence 0.5.

use aidant_graph::NetworkGraph;
use aidant_graph::csv_input::read_network_from_str;
use anyhow::Context;

use crate::config::Config;
use crate::startup::{StoreUse, open_store};

/// Confidence given to a link that rests on one unverified public report.
const PUBLIC_REPORT_CONFIDENCE: &str = "0.5";

pub fn network_from_database() -> anyhow::Result<NetworkGraph> {
    let explicit_config = std::env::var_os("AIDANT_CONFIG").map(std::path::PathBuf::from);
    let config = Config::load(explicit_config.as_deref()).map_err(|error| anyhow::anyhow!("{}", error.0))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting a runtime")?;
    let rows = runtime.block_on(async {
        let store = open_store(&config, StoreUse::Maintenance).await.map_err(|failure| anyhow::anyhow!("{}", failure.message()))?;
        let rows = store.report_network(&aidant_core::audit::AuditActor::Cli, "aidant graph --from-database").await.context("reading reports")?;
        store.close().await;
        anyhow::Ok(rows)
    })?;
    let (nodes, edges) = network_csv(&rows)?;
    read_network_from_str(&nodes, &edges).context("building the network from the database")
}

/// The nodes and edges files `aidant graph` reads, written in memory.
fn network_csv(rows: &[aidant_store::reports::ReportNetworkRow]) -> anyhow::Result<(String, String)> {
    let mut nodes = csv::Writer::from_writer(Vec::new());
    let mut edges = csv::Writer::from_writer(Vec::new());
    nodes.write_record(["id", "kind", "label", "role"])?;
    edges.write_record(["source", "target", "kind", "first_seen", "last_seen", "source_reference", "confidence"])?;
    let mut seen = std::collections::BTreeSet::new();
    for row in rows {
        let report_id = format!("report:{}", row.reference);
        nodes.write_record([report_id.as_str(), "report", row.reference.as_str(), ""])?;
        let day = row.received_on.as_str();
        let mut mention = |id: String, kind: &str, label: &str| -> anyhow::Result<()> {
            if seen.insert(id.clone()) {
                nodes.write_record([id.as_str(), kind, label, ""])?;
            }
            edges.write_record([id.as_str(), report_id.as_str(), "mentioned_in_report", day, day, row.reference.as_str(), PUBLIC_REPORT_CONFIDENCE])?;
            Ok(())
        };
        for registration in &row.registrations {
            mention(format!("vehicle:{registration}"), "vehicle", registration)?;
        }
        if let Some(postcode) = &row.postcode {
            mention(format!("address:{postcode}"), "address", postcode)?;
        }
        if let Some(business) = &row.business_name {
            // The same name in another town is another business.
            let place = row
                .postcode
                .as_deref()
                .map(|postcode| postcode.split(' ').next().unwrap_or(postcode).to_owned())
                .or_else(|| row.town.clone())
                .unwrap_or_default();
            let key = format!("business:{}|{}", business.to_lowercase(), place.to_lowercase());
            mention(key, "business", business)?;
        }
    }
    let nodes = String::from_utf8(nodes.into_inner()?)?;
    let edges = String::from_utf8(edges.into_inner()?)?;
    Ok((nodes, edges))
}
