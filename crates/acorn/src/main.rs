//! `acorn`: run the server, manage merchants, call the API.

mod cli;
mod commands;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use commands::errors::UsageError;
use commands::serve::{ForcedExit, FORCED_EXIT_CODE};

/// mimalloc: the request path makes many small allocations (a row's values, a response's
/// fields), where it is markedly cheaper than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Err(e) = runtime.block_on(cli::run(cli)) else {
        return ExitCode::SUCCESS;
    };
    if e.is::<ForcedExit>() {
        // Do not wait for the tasks still serving requests: that is what the user asked for.
        runtime.shutdown_background();
        commands::errors::report(&e);
        return ExitCode::from(FORCED_EXIT_CODE);
    }
    if let Some(usage) = e.downcast_ref::<UsageError>() {
        return usage_error(usage);
    }
    commands::errors::report(&e);
    ExitCode::FAILURE
}

/// Shows a [`UsageError`] as clap shows its own (with the command's usage) and exits 2.
fn usage_error(usage: &UsageError) -> ExitCode {
    let mut command = cli::Cli::command();
    command.build();
    for name in usage.command {
        match command.find_subcommand(name) {
            Some(sub) => command = sub.clone(),
            None => break,
        }
    }
    let error = command.error(
        clap::error::ErrorKind::MissingRequiredArgument,
        &usage.message,
    );
    let _ = error.print();
    ExitCode::from(2)
}
