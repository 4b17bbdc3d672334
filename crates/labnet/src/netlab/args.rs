//! The `labnet netlab ...` command line.

use super::settings::{parse_drop_spec, DropRule};
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct NetlabArgs {
    /// Name of the lab: namespaces NAME-server, NAME-client, NAME-mid; state in
    /// /run/labnet-netlab/NAME. Several labs can run side by side.
    #[arg(long, global = true, default_value = "lab", value_parser = parse_lab_name)]
    pub lab: String,
    #[command(subcommand)]
    pub command: NetlabCommand,
}

fn parse_lab_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.len() <= 12
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a lab name: 1 to 12 lowercase letters or digits"
        ))
    }
}

#[derive(Debug, Subcommand)]
pub enum NetlabCommand {
    /// Create the server and client hosts and start the forwarder between them.
    #[command(
        long_about = "Creates (as root) three network namespaces: NAME-server \
        (10.55.0.1/24, fd55::1/64), NAME-client (10.55.0.2/24, fd55::2/64) and NAME-mid, where a \
        user-space forwarder passes every frame between the two veth pairs, applying the \
        impairment per direction, decided from --seed (same seed, same fate for the n-th frame). \
        MTU 1500, offloads off: the MSS is 1460 and large sends are really segmented.\n\n\
        Every frame's fate is logged as a JSON line (--log, default \
        /run/labnet-netlab/NAME/frames.jsonl). Leftovers of an earlier run are removed first."
    )]
    Up(UpArgs),
    /// Stop the forwarder, kill what runs on the lab's hosts, remove the namespaces.
    Down,
    /// Run a command on the server or client host; its exit status is passed through.
    Exec(ExecArgs),
    /// Hosts, addresses, impairment and the forwarder's counters.
    Status(StatusArgs),
    /// Change the impairment of a running lab (only the options given change).
    Set(SetArgs),
    /// (internal) the forwarder itself, started by `up` inside NAME-mid.
    #[command(hide = true)]
    Forward,
}

/// `--drop` rules, parsed by clap so a bad one is a usage error.
#[derive(Debug, Clone)]
pub struct DropRules(pub Vec<DropRule>);

fn parse_drops(s: &str) -> Result<DropRules, String> {
    parse_drop_spec(s).map(DropRules)
}

#[derive(Debug, Args, Default)]
pub struct ImpairArgs {
    /// One-way delay in each direction, ms.
    #[arg(long, value_name = "MS")]
    pub delay: Option<f64>,
    /// Uniform jitter of ± MS around the delay (frames keep their order).
    #[arg(long, value_name = "MS")]
    pub jitter: Option<f64>,
    /// Random loss of IP frames, percent, each direction.
    #[arg(long, value_name = "PCT")]
    pub loss: Option<f64>,
    /// Percent of IP frames held back past the following ones.
    #[arg(long, value_name = "PCT")]
    pub reorder: Option<f64>,
    /// Percent of IP frames sent twice.
    #[arg(long, value_name = "PCT")]
    pub duplicate: Option<f64>,
    /// Link rate per direction, kbit/s (default unlimited).
    #[arg(long, value_name = "KBIT/S")]
    pub rate: Option<u64>,
    /// Seed of every random decision.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Exact drops: DIR:KIND:N[,N..] with DIR c2s|s2c, KIND syn|data|udp|frame,
    /// N counted from 1 since `up` (e.g. c2s:syn:1,2  c2s:data:5  s2c:frame:7); repeatable.
    #[arg(long, value_name = "SPEC", value_parser = parse_drops)]
    pub drop: Vec<DropRules>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub impair: ImpairArgs,
    /// Write the per-frame JSON lines here instead of the state dir.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Run the forwarder in the foreground; Ctrl-C tears the lab down.
    #[arg(long)]
    pub foreground: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    #[command(flatten)]
    pub impair: ImpairArgs,
    /// Remove every --drop rule.
    #[arg(long, conflicts_with = "drop")]
    pub no_drop: bool,
    /// Back to an unlimited link rate.
    #[arg(long, conflicts_with = "rate")]
    pub no_rate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Host {
    Server,
    Client,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// server or client.
    #[arg(value_enum)]
    pub host: Host,
    /// The command and its arguments (after `--`).
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The forwarder's answer as one JSON object.
    #[arg(long)]
    pub json: bool,
}
