//! The `repaybot` binary: parses the command line and hands it to the library.

use clap::Parser;
use repaybot::cli::{self, Cli, Failure};
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: under a burst the bot's threads allocate and free
/// across each other, and glibc's arenas spent a fifth of the CPU on it (benches/telegram.rs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(reason)) => {
            eprintln!("{reason}");
            ExitCode::from(2)
        }
        Err(Failure::Internal(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
