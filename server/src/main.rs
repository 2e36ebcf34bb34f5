//! The `server` binary. See `server --help` for its settings.

use std::process::ExitCode;

use clap::Parser;
use server::config::Command;
use server::{Config, keygen, run, telemetry};

/// mimalloc instead of glibc's malloc: rendering a page allocates and frees thousands
/// of small strings and nodes, which mimalloc's thread-local free lists do for a
/// fraction of glibc's cost (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let config = Config::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(config.blocking_threads())
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match (&config.command, telemetry::init(&config.log_level)) {
        (_, Err(err)) => Err(err),
        (Some(Command::Keygen { out }), Ok(())) => keygen(out.as_deref()),
        (None, Ok(())) => runtime.block_on(run(config)),
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
