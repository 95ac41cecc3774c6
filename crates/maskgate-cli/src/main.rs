//! The `maskgate` binary: arguments → a resolved plan → the library. Exit codes: 0 go (or a
//! successful run without criteria), 1 no-go or inconclusive, 2 error.

mod clock;
mod compare_cmd;
mod convert_cmd;
mod inspect_cmd;
mod run_cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "maskgate",
    version,
    about = "Decide, with numbers, whether a segmentation model may replace the one in production."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Compare(Box<compare_cmd::CompareArgs>),
    Convert(convert_cmd::ConvertArgs),
    Run(run_cmd::RunArgs),
    Inspect(inspect_cmd::InspectArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Compare(a) => compare_cmd::run(*a),
        Command::Convert(a) => convert_cmd::run(a).map(|_| 0),
        Command::Run(a) => run_cmd::run(a),
        Command::Inspect(a) => inspect_cmd::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("maskgate: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
