//! The `server` binary. See `server --help` for its settings.

use std::process::ExitCode;

use clap::Parser;
use server::{Config, run, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    let result = match telemetry::init(&config.log_level) {
        Ok(()) => run(config).await,
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, no backtrace: the message names the cause and the setting to fix.
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
