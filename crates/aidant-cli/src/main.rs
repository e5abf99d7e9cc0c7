//! The `aidant` binary: parses the command line and hands it to the library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    aidant_cli::run(aidant_cli::Cli::parse())
}
