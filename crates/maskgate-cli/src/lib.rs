//! The `maskgate` command line as a library: the binary and the Python wheel's `maskgate`
//! command run the same code. It parses arguments, calls the library and maps the outcome to
//! the exit status: 0 go (or a run without criteria), 1 no-go or inconclusive, 2 error, 3 an
//! error that may pass on a retry (an engine's retry policy keys on 2 against 3).

mod approve_cmd;
mod common;
mod compare_cmd;
mod convert_cmd;
mod inspect_cmd;
mod keygen_cmd;
mod merge_cmd;
mod run_cmd;
mod trend_cmd;
mod verify_cmd;

use clap::{Parser, Subcommand};
use std::ffi::OsString;

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
    Run(Box<run_cmd::RunArgs>),
    Compare(Box<compare_cmd::CompareArgs>),
    Inspect(inspect_cmd::InspectArgs),
    Convert(convert_cmd::ConvertArgs),
    Merge(merge_cmd::MergeArgs),
    Trend(trend_cmd::TrendArgs),
    Keygen(keygen_cmd::KeygenArgs),
    Verify(verify_cmd::VerifyArgs),
    Approve(approve_cmd::ApproveArgs),
}

/// Runs the command line `args` (the program name first) and returns the exit status.
pub fn main_from(args: impl IntoIterator<Item = OsString>) -> u8 {
    main_as(args, None)
}

/// [`main_from`] for a program that knows its executable (the `maskgate` binary): a verdict's
/// attestation names it with its sha256.
pub fn main_as(
    args: impl IntoIterator<Item = OsString>,
    executable: Option<std::path::PathBuf>,
) -> u8 {
    let binary = maskgate::attest::statement::Binary { executable };
    use clap::{CommandFactory, FromArgMatches};
    // Every command's help ends with the exit statuses, from the library's one table.
    let command = Cli::command().after_help(exit_help()).mut_subcommands(|c| {
        // `verify` answers another question (does this attestation hold?) with its own statuses.
        if c.get_name() == "verify" {
            return c;
        }
        let text = match c.get_after_help() {
            Some(h) => format!("{h}\n\n{}", exit_help()),
            None => exit_help(),
        };
        c.after_help(text)
    });
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2. An
            // error echoes the argument it refused: a key pasted there is withheld.
            let text = maskgate::redact::pem_blocks(&e.render().to_string());
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let result = match cli.command {
        Command::Compare(a) => compare_cmd::run(*a, &binary),
        Command::Convert(a) => convert_cmd::run(a).map(|_| 0),
        Command::Run(a) => run_cmd::run(*a, &binary),
        Command::Inspect(a) => inspect_cmd::run(a),
        Command::Merge(a) => merge_cmd::run(a, &binary),
        Command::Trend(a) => trend_cmd::run(a),
        Command::Keygen(a) => keygen_cmd::run(a),
        Command::Verify(a) => verify_cmd::run(a),
        Command::Approve(a) => approve_cmd::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // The library shows URLs redacted; this also covers what a dependency put in. Echoed
            // paths and names are clipped: a 100 KB argument must not make a 100 KB line.
            let text = maskgate::redact::in_text(&format!("{e:#}"));
            eprintln!("maskgate: error: {}", maskgate::fmt::clip_words(&text));
            exit_code_of(&e)
        }
    }
}

/// Exit status 3 for an error a retry may cure, 2 for the rest (a bad plan, input or model).
pub use maskgate::error::{EXIT_ERROR, EXIT_RETRYABLE};

/// `--help`'s exit-status lines, from the library's one table.
fn exit_help() -> String {
    let lines: Vec<String> = maskgate::error::EXIT_STATUSES
        .iter()
        .map(|(status, meaning)| format!("  {status}  {meaning}"))
        .collect();
    format!("Exit status:\n{}", lines.join("\n"))
}

fn exit_code_of(e: &anyhow::Error) -> u8 {
    let retryable = e.chain().any(|c| {
        c.downcast_ref::<maskgate::Error>()
            .is_some_and(maskgate::Error::is_retryable)
            || c.downcast_ref::<std::io::Error>()
                .is_some_and(maskgate::error::io_is_transient)
    });
    if retryable {
        EXIT_RETRYABLE
    } else {
        EXIT_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every option, argument and subcommand of every subcommand, with the ones lacking help.
    fn missing_help(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            if help.trim().is_empty() {
                out.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            if sub.get_about().is_none() {
                out.push(format!("{path} {} (no about)", sub.get_name()));
            }
            missing_help(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_option_of_every_subcommand_has_help() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        let mut missing = Vec::new();
        missing_help(&cmd, "maskgate", &mut missing);
        assert!(missing.is_empty(), "options without help: {missing:?}");
        // The check itself finds an undocumented option.
        let bare = clap::Command::new("x").arg(clap::Arg::new("undocumented").long("u"));
        let mut found = Vec::new();
        missing_help(&bare, "x", &mut found);
        assert_eq!(found, ["x undocumented"]);
    }

    /// Every setting's flag is on exactly the commands the table names, with the table's help;
    /// every other flag of `run` and `compare` is one of the request's own.
    #[test]
    fn the_flags_of_run_and_compare_are_the_settings_table() {
        use maskgate::plan::settings::SETTINGS;
        let cmd = Cli::command();
        let not_settings = [
            "junit",
            "explain",
            "gold",
            "config",
            "pred",
            "baseline",
            "corpus",
            "image-root",
        ];
        for name in ["run", "compare"] {
            let sub = cmd.find_subcommand(name).expect(name);
            for arg in sub.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                if ["help", "version"].contains(&long) || not_settings.contains(&long) {
                    continue;
                }
                let s = SETTINGS
                    .iter()
                    .find(|s| s.flag == Some(long))
                    .unwrap_or_else(|| panic!("{name} --{long} is not declared in SETTINGS"));
                assert!(
                    s.commands.contains(&name),
                    "{name} --{long}: not in its commands"
                );
                let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
                assert_eq!(help, s.help, "{name} --{long}");
            }
            for s in SETTINGS.iter().filter(|s| s.commands.contains(&name)) {
                if let Some(flag) = s.flag {
                    assert!(
                        sub.get_arguments().any(|a| a.get_long() == Some(flag)),
                        "{name} lacks --{flag}"
                    );
                }
            }
        }
    }

    #[test]
    fn run_and_convert_help_name_every_dataset_format() {
        let cmd = Cli::command();
        let help = cmd
            .find_subcommand("run")
            .and_then(|c| c.get_after_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let convert = cmd.find_subcommand("convert").expect("convert");
        let format_help = convert
            .get_arguments()
            .find(|a| a.get_long() == Some("format"))
            .and_then(|a| a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        for reader in maskgate::read::readers() {
            let name = reader.format();
            assert!(
                help.contains(&format!(" {name}")),
                "run --help lacks {name}"
            );
            assert!(
                format_help.contains(name),
                "convert --format's help lacks {name}"
            );
        }
    }
}
