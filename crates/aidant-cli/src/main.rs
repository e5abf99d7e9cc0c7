//! The `aidant` binary: parses the command line and hands it to the library.

use clap::Parser;

/// mimalloc gives freed memory back to the system where the system allocator keeps it: `aidant
/// link` frees the parsed records (gigabytes at ten million people) before blocking allocates its
/// pairs, and with the system allocator the peak was both together.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aidant_cli::run(aidant_cli::Cli::parse())
}
