//! Runs the subcommand the user chose.

use crate::cli::{BenchArgs, CheckCommand, Command, ModelArg, TcpClientArgs, TcpServerArgs};
use crate::error::NetError;
use crate::log::Log;
use crate::server::{Model, TcpServerConfig};
use crate::tcp_server::start_tcp_server;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Run one subcommand; servers stop when `stop` is set (Ctrl-C).
pub fn run(command: Command, stop: Arc<AtomicBool>) -> Result<(), NetError> {
    match command {
        Command::UdpServer(a) => {
            crate::udp::UdpServer::bind(SocketAddr::new(a.bind, a.port), Log::stdout(false))?
                .run(&stop)
        }
        Command::UdpClient(a) => crate::udp::run_client(SocketAddr::new(a.ip, a.port), &a.messages),
        Command::TcpServer(a) => tcp_server(a, stop),
        Command::TcpClient(a) => tcp_client(a),
        Command::Bench(a) => bench(a),
        Command::Netlab(a) => crate::netlab::run(a, stop),
        Command::Check(a) => check(a, &stop),
    }
}

/// `--delay`, `--loss`, `--seed` as the check's network options; None without `--net`.
fn net_options(a: crate::cli::CheckNetArgs) -> Option<crate::check::net::NetOptions> {
    a.net.then_some(crate::check::net::NetOptions {
        delay_ms: a.delay,
        loss_pct: a.loss,
        seed: a.seed,
    })
}

/// `--net`: both runs side by side; exit code 11 when a check failed in either.
fn check_net(compared: &crate::check::compare::Compared, json: bool) -> Result<(), NetError> {
    use crate::check::compare;
    if json {
        print!("{}", compare::json(compared));
    } else {
        print!("{}", compare::table(compared));
    }
    match compared.failures() {
        0 => Ok(()),
        failed => Err(NetError::CheckFailed {
            failed,
            total: compared.network.len(),
        }),
    }
}

fn check(command: CheckCommand, stop: &AtomicBool) -> Result<(), NetError> {
    use crate::check::{client, net, output, server};
    let (title, results, json) = match command {
        CheckCommand::Server(a) => {
            let config = server::ServerCheck::new(
                SocketAddr::new(a.ip, a.port),
                a.proto,
                !a.no_echo,
                a.command,
            );
            if let Some(options) = net_options(a.net) {
                return check_net(&net::server(&config, options, stop)?, a.json);
            }
            let started = std::time::Instant::now();
            let (config, results) = server::run(&config)?;
            let title = format!(
                "labnet check: {} — {} checks in {:.1} s",
                server::describe(&config),
                results.len(),
                started.elapsed().as_secs_f64()
            );
            (title, results, a.json)
        }
        CheckCommand::Client(a) => {
            let config = client::ClientCheck {
                proto: a.proto,
                bind: SocketAddr::new(a.bind, a.port),
                command: a.command,
                timeout: seconds(a.timeout),
                show_output: !a.json,
                env_ip: None,
            };
            if let Some(options) = net_options(a.net) {
                return check_net(&net::client(&config, options, stop)?, a.json);
            }
            let results = client::run(&config)?;
            let title = format!("labnet check: {} client", config.proto);
            (title, results, a.json)
        }
    };
    if json {
        print!("{}", output::json(&results));
    } else {
        print!("{}", output::table(&title, &results, output::colour()));
    }
    match crate::check::failures(&results) {
        0 => Ok(()),
        failed => Err(NetError::CheckFailed {
            failed,
            total: results.len(),
        }),
    }
}

fn tcp_server(a: TcpServerArgs, stop: Arc<AtomicBool>) -> Result<(), NetError> {
    // Thousands of benchmark clients need thousands of descriptors.
    if let Err(e) = crate::rlimit::raise_open_files_limit() {
        eprintln!("labnet tcp-server: cannot raise the open-files limit: {e}");
    }
    let model = match a.model {
        ModelArg::Threads => Model::Threads,
        ModelArg::Selector => Model::Selector,
    };
    let mut config = TcpServerConfig::new(
        model,
        a.proto,
        SocketAddr::new(a.bind, a.port),
        Log::stdout(a.quiet).with_trace(trace_events(a.trace_events.as_deref())?),
    );
    config.echo = !a.no_echo;
    config.max_size = a.max_size;
    config.max_clients = a
        .max_clients
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    config.max_pending = a.max_pending;
    start_tcp_server(config, stop)?.wait()
}

/// `--trace-events FILE`, created now so that a bad path fails before serving.
fn trace_events(
    path: Option<&std::path::Path>,
) -> Result<Option<crate::trace_events::TraceEvents>, NetError> {
    let Some(path) = path else { return Ok(None) };
    crate::trace_events::TraceEvents::create(path)
        .map(Some)
        .map_err(|e| {
            NetError::Usage(format!(
                "cannot create --trace-events '{}': {e}",
                path.display()
            ))
        })
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(5))
}

fn tcp_client(a: TcpClientArgs) -> Result<(), NetError> {
    let config = crate::client::ClientConfig {
        proto: a.proto,
        server: SocketAddr::new(a.ip, a.port),
        version: a.version_byte,
        expect_echo: !a.no_echo,
        timeout: seconds(a.timeout),
        pause: Duration::from_millis(a.pause_ms),
        trace: trace_events(a.trace_events.as_deref())?,
    };
    crate::client::run(config, &a.messages)
}

fn bench(a: BenchArgs) -> Result<(), NetError> {
    if let Err(e) = crate::rlimit::raise_open_files_limit() {
        eprintln!("labnet bench: cannot raise the open-files limit: {e}");
    }
    let config = crate::bench::BenchConfig {
        proto: a.proto,
        server: SocketAddr::new(a.ip, a.port),
        conns: usize::try_from(a.conns).unwrap_or(usize::MAX),
        messages: a.messages,
        size: a.size,
        window: usize::try_from(a.window).unwrap_or(usize::MAX),
        timeout: seconds(a.timeout),
        interval: a.interval_ms.map(std::time::Duration::from_millis),
    };
    let report = crate::bench::run_bench(&config)?;
    if a.json {
        println!("{}", report.to_json(&config));
    } else {
        println!("{}", report.to_text(&config));
    }
    let expected = config.conns as u64 * config.messages;
    if report.ok(expected) {
        Ok(())
    } else {
        Err(NetError::BenchFailed {
            mismatches: report.mismatches,
            errors: report.failed_conns,
            missing: expected.saturating_sub(report.echoed),
        })
    }
}
