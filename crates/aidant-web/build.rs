//! Builds the front-end assets (govuk-frontend's Sass with our settings, its
//! JavaScript, ours, and the link chart bundled by esbuild from sigma.js and
//! graphology, the field app, the operation board, and the maps with Leaflet and their coastline) with npm, and embeds them in the binary, so that a release
//! build serves everything from one file and works offline.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let web_dir = manifest_dir.join("../../web").canonicalize().expect("the web/ folder exists beside crates/");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("assets");

    for watched in ["package.json", "package-lock.json", "build.mjs", "src"] {
        println!("cargo:rerun-if-changed={}", web_dir.join(watched).display());
    }

    // Every package build.mjs reads; one missing (a new dependency since the
    // last install) installs them all again from the lock file.
    let needed = [
        "govuk-frontend",
        "sass",
        "esbuild",
        "sigma",
        "graphology",
        "graphology-layout-forceatlas2",
        "graphology-layout",
        "graphology-shortest-path",
        "@sigma/node-border",
        "leaflet",
        "world-atlas",
        "topojson-client",
    ];
    if needed.iter().any(|package| !web_dir.join("node_modules").join(package).join("package.json").is_file()) {
        let install = if web_dir.join("package-lock.json").is_file() { "ci" } else { "install" };
        run(Command::new("npm").args([install, "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(&web_dir), "npm install");
    }
    run(Command::new("node").arg(web_dir.join("build.mjs")).arg(&out_dir).current_dir(&web_dir), "node web/build.mjs");

    let mut table = String::from("/// Assets built from web/ by build.rs: (file name, content type, bytes).\npub static ASSETS: &[(&str, &str, &[u8])] = &[\n");
    for (name, content_type) in [
        ("aidant.css", "text/css; charset=utf-8"),
        ("aidant.js", "text/javascript; charset=utf-8"),
        ("chart.js", "text/javascript; charset=utf-8"),
        ("field.js", "text/javascript; charset=utf-8"),
        ("field-sw.js", "text/javascript; charset=utf-8"),
        ("board.js", "text/javascript; charset=utf-8"),
        ("map.js", "text/javascript; charset=utf-8"),
        ("map.css", "text/css; charset=utf-8"),
        ("uk-outline.json", "application/geo+json"),
        ("govuk-frontend.min.js", "text/javascript; charset=utf-8"),
    ] {
        let path = out_dir.join(name);
        assert!(path.is_file(), "web/build.mjs did not produce {name}");
        table.push_str(&format!("    ({name:?}, {content_type:?}, include_bytes!({:?})),\n", path.display().to_string()));
    }
    table.push_str("];\n");
    std::fs::write(Path::new(&std::env::var("OUT_DIR").unwrap()).join("assets.rs"), table).expect("OUT_DIR is writable");
}

fn run(command: &mut Command, what: &str) {
    let status = command.status().unwrap_or_else(|error| {
        panic!("{what} could not start ({error}). Aidant's pages are built with Node.js and npm: install them (apt-get install nodejs npm) and build again.")
    });
    assert!(status.success(), "{what} failed with {status}; see the output above");
}
