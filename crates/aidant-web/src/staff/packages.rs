//! Export packages for partners and court, and the disclosure log. The use
//! cases in `cases::packages` choose what may go, record the package and
//! audit it; this words the form and sends the zip.

use aidant_core::ids::ChartId;
use aidant_core::policy::Capability;
use aidant_store::cases::CaseError;
use aidant_store::cases::networks::list_charts;
use aidant_store::cases::packages::{PackageRequest, disclosure_log, make_package, recipients};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use minijinja::{Value, context};

use super::{Staff, StaffPage, format_time, page_errors, render, staff_form};
use crate::AppState;
use crate::error::{WebError, WebResult};
use crate::html::PageError;
use crate::html::form::FormData;

/// The form's values, to draw it again.
struct Values {
    recipient: String,
    references: String,
    charts: Vec<String>,
}

async fn form_page(state: &AppState, staff: &Staff, values: &Values, errors: Vec<PageError>) -> WebResult {
    let organisations = recipients(state.store(), &staff.caller).await?;
    let charts = list_charts(state.store(), &staff.caller).await?;
    let mut page = StaffPage::new("staff/package.html", "Make an export package", "packages");
    page.errors = errors;
    Ok(render(
        state,
        Some(staff),
        page,
        context! {
            organisations => organisations.iter().map(|organisation| context! {
                value => organisation.id.to_string(), label => format!("{} ({})", organisation.name, organisation.kind.label()),
            }).collect::<Vec<_>>(),
            charts => charts.iter().map(|chart| context! {
                id => chart.id.to_string(), name => chart.name.clone(), entities => chart.entities, checked => values.charts.contains(&chart.id.to_string()),
            }).collect::<Vec<_>>(),
            values => context! { recipient => values.recipient.clone(), references => values.references.clone() },
            may_read_log => staff.can(Capability::ViewDisclosureLog),
        },
    ))
}

/// The form, perhaps with records (`?reference=...`) or charts (`?chart=...`) chosen.
pub async fn new_package(State(state): State<AppState>, staff: Staff, RawQuery(query): RawQuery) -> WebResult {
    let form = FormData::parse(query.unwrap_or_default().as_bytes()).map_err(|error| WebError::UnreadableForm(error.to_string()))?;
    let values = Values { recipient: String::new(), references: form.all("reference").join("\n"), charts: form.all("chart") };
    form_page(&state, &staff, &values, Vec::new()).await
}

/// Makes the package and sends it as a download; any problem redraws the form.
pub async fn create(State(state): State<AppState>, staff: Staff, body: Bytes) -> WebResult {
    let form = staff_form(&staff, &body)?;
    let values = Values {
        recipient: form.get("recipient").unwrap_or_default().to_owned(),
        references: form.get("references").unwrap_or_default().to_owned(),
        charts: form.all("charts"),
    };
    let mut charts = Vec::new();
    for chart in &values.charts {
        match ChartId::parse(chart) {
            Ok(id) => charts.push(id),
            Err(_) => return form_page(&state, &staff, &values, vec![PageError::new("charts", "A chart chosen is not one you can open")]).await,
        }
    }
    let request = PackageRequest { recipient: &values.recipient, references: &values.references, charts };
    match make_package(state.store(), &staff.caller, &request).await {
        Ok(package) => {
            let disposition = format!("attachment; filename=\"{}\"", package.file_name);
            Ok((
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/zip".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::HeaderName::from_static("x-package-sha256"), package.written.sha256.clone()),
                ],
                package.written.bytes,
            )
                .into_response())
        }
        Err(CaseError::Invalid(errors)) => form_page(&state, &staff, &values, page_errors(errors)).await,
        Err(error) => Err(error.into()),
    }
}

/// The disclosure log: every package the organisation made, and every
/// publication of its safeguarding data.
pub async fn log(State(state): State<AppState>, staff: Staff) -> WebResult {
    let lines = disclosure_log(state.store(), &staff.caller).await?;
    let rows: Vec<Value> = lines
        .iter()
        .map(|line| {
            context! {
                id => line.id.clone(), recipient => line.recipient.clone(), created_by => line.created_by.clone(), when => format_time(line.created_at_ms),
                records => line.publication.clone().unwrap_or_else(|| line.records.join(", ")), entities => line.entities, withheld => line.withheld, sha256 => line.package_sha256.clone(),
            }
        })
        .collect();
    Ok(render(&state, Some(&staff), StaffPage::new("staff/disclosures.html", "Disclosure log", "packages"), context! { rows => rows }))
}
