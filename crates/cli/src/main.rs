//! `maas`: command-line client for the MAAS REST API 2.0.

mod args;
mod commands;
mod describe;
mod error;
mod http;
mod oauth;
mod profile;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::FalseyValueParser;
use clap::{ArgAction, CommandFactory, Parser, Subcommand};

const AFTER_HELP: &str = "\
Generic commands (derived from the region's API description):
  maas PROFILE --help                              list resources
  maas PROFILE RESOURCE --help                     list a resource's actions
  maas PROFILE RESOURCE ACTION [ARGS] [key=value ...] [key@=FILE ...]
  maas PROFILE machines list [--json] [filters]    readable table (also rack-controllers)

Exit codes: 0 ok, 1 region unreachable / local error, 2 usage error or request refused.";

#[derive(Parser)]
#[command(
    name = "maas",
    version,
    about = "Command-line client for the MAAS REST API 2.0",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Profile file [default: $HOME/.config/maas-rs/profiles.json]
    #[arg(long, global = true, env = "MAAS_CLI_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    /// Seconds to wait for the region before giving up
    #[arg(long, global = true, env = "MAAS_CLI_TIMEOUT", default_value_t = 300)]
    timeout: u64,

    /// Print requests and response headers on stderr
    #[arg(long, global = true, env = "MAAS_CLI_DEBUG",
          action = ArgAction::SetTrue, value_parser = FalseyValueParser::new())]
    debug: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Log in to a region and store its profile
    Login {
        /// Name for the profile, used as `maas PROFILE ...`
        profile: String,
        /// Region URL, e.g. http://host:5240/MAAS
        url: String,
        /// API key consumer_key:token_key:token_secret, or `-` to read it from stdin
        apikey: String,
    },
    /// Forget a stored profile
    Logout { profile: String },
    /// List stored profiles
    List {
        /// Also print each profile's API key
        #[arg(long)]
        show_keys: bool,
    },
    /// Re-fetch the API description for all profiles
    Refresh,
    #[command(external_subcommand)]
    Profile(Vec<String>),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let Some(command) = cli.command else {
        let help = Cli::command().render_help().to_string();
        return Err(error::Exit::usage_raw(help).into());
    };
    let ctx = commands::Context {
        config: commands::default_config(cli.config.as_deref())?,
        timeout: Duration::from_secs(cli.timeout.max(1)),
        debug: cli.debug,
    };
    match command {
        Command::Login {
            profile,
            url,
            apikey,
        } => commands::login(&ctx, &profile, &url, &apikey),
        Command::Logout { profile } => commands::logout(&ctx, &profile),
        Command::List { show_keys } => commands::list(&ctx, show_keys),
        Command::Refresh => commands::refresh(&ctx),
        Command::Profile(argv) => commands::profile_command(&ctx, &argv),
    }
}

fn main() -> ExitCode {
    // Built with the rest of the workspace, reqwest may carry rustls without
    // a provider (maas-bmc asks for `rustls-no-provider`): name ours (ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let (code, message) = error::exit_code_and_message(&err);
            eprintln!("{}", message.trim_end());
            ExitCode::from(code as u8)
        }
    }
}
