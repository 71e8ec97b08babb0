//! The `repaybot` binary: parses the command line and hands it to the library.

use clap::Parser;
use repaybot::cli::{self, Cli, Failure};
use std::process::ExitCode;

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
