//! `labnet check ... --net`: the same battery twice, on loopback and across a private
//! netlab (the student's program on one host, the checks on the other, 1,448-byte
//! segments, a round trip, seeded loss), so a check that fails only across the network
//! is named with what the network did during it.
//!
//! The lab (`chkPID`) exists only for the run: a [`LabGuard`] removes it on every path
//! that returns or unwinds, Ctrl-C stops between two checks, and a lab left by a
//! killed run (SIGKILL) is removed by the next one.

use super::client::{self, ClientCheck};
use super::compare::{self, Compared};
pub use super::impairment::NetOptions;
use super::server::{self, ServerCheck, Span};
use crate::error::NetError;
use crate::netlab::guard::{self, LabGuard};
use crate::netlab::ns;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

/// Lab names of this feature: the prefix and the pid of the run that owns the lab.
const PREFIX: &str = "chk";
/// The port used inside the lab when `--port 0` was asked: the lab's hosts are private,
/// nothing else listens there.
const LAB_PORT: u16 = labproto::LAB_PORT;

fn lab_up(net: NetOptions) -> Result<LabGuard, NetError> {
    for orphan in guard::remove_orphans(PREFIX) {
        eprintln!("labnet check: removed lab '{orphan}' left by a killed earlier run");
    }
    LabGuard::up(&format!("{PREFIX}{}", std::process::id()), net.settings()).map_err(|e| match e {
        NetError::NetlabNeeds(m) => NetError::NetlabNeeds(format!("--net builds a netlab: {m}")),
        other => other,
    })
}

fn interrupted(stop: &AtomicBool, before: &str) -> Result<(), NetError> {
    if stop.load(Ordering::SeqCst) {
        return Err(NetError::Netlab(format!(
            "interrupted (Ctrl-C) before {before}; the lab was removed"
        )));
    }
    Ok(())
}

/// Run `f` on a thread that lives in namespace `ns` (sockets it makes are that host's).
fn in_namespace<T: Send>(
    ns: &str,
    f: impl FnOnce() -> Result<T, NetError> + Send,
) -> Result<T, NetError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                guard::enter(ns)?;
                f()
            })
            .join()
            .unwrap_or_else(|_| {
                Err(NetError::Netlab(format!(
                    "the checks running in {ns} panicked"
                )))
            })
    })
}

/// `ip netns exec NS` + `command`: the student's program on that host.
fn on_host(ns: &str, command: &[String]) -> Vec<String> {
    let mut cmd: Vec<String> = ["ip", "netns", "exec", ns]
        .iter()
        .map(|s| s.to_string())
        .collect();
    cmd.extend(command.iter().map(|a| a.replace("{ip}", ns::SERVER_V4)));
    cmd
}

/// `labnet check server --net`: the student's server started on loopback, then on
/// the lab's server host; the checks from this machine, then from the client host.
pub fn server(c: &ServerCheck, net: NetOptions, stop: &AtomicBool) -> Result<Compared, NetError> {
    if c.command.is_empty() {
        return Err(NetError::Usage(
            "--net starts your server itself (on loopback, then on the lab's server host): \
             give its command after --, e.g. -- python3 server.py {port}"
                .into(),
        ));
    }
    if c.addr.ip() != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        return Err(NetError::Usage(NOT_WITH_ADDRESS.replace("{flag}", "--ip")));
    }
    let mut clock = Clock::start();
    let lab = lab_up(net)?;
    let lab_ready = clock.lap();
    let loopback = ServerCheck::new(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        c.proto,
        c.echo,
        c.command.clone(),
    );
    let (_, lo) = server::run_until(&loopback, stop)?;
    let lo_took = clock.lap();
    interrupted(stop, "the run across the network")?;
    let port = if c.addr.port() == 0 {
        LAB_PORT
    } else {
        c.addr.port()
    };
    let across = ServerCheck::new(
        SocketAddr::new(server_ip(), port),
        c.proto,
        c.echo,
        on_host(lab.server_ns(), &c.command),
    );
    let ran = in_namespace(lab.client_ns(), || server::run_until(&across, stop));
    let (across, far) = ran.map_err(unreachable_server)?;
    let spans = across.spans();
    let title = format!(
        "labnet check: {} — on loopback and across a network ({})\n{}",
        server::describe(&across),
        describe(net),
        clock.summary(lab_ready, lo_took)
    );
    Ok(compare::compare(
        title,
        lo,
        far,
        &spans,
        lab.frame_log(),
        net,
    ))
}

fn server_ip() -> IpAddr {
    IpAddr::V4(ns::SERVER_V4.parse().unwrap_or(Ipv4Addr::new(10, 55, 0, 1)))
}

/// Errors of the run across the network say so.
fn unreachable_server(e: NetError) -> NetError {
    match e {
        NetError::Usage(m) => NetError::Usage(format!("across the network: {m}")),
        other => other,
    }
}

/// `labnet check client --net`: the lab server on loopback, then on the lab's server
/// host with the student's client on the client host (`{ip}` in its arguments becomes
/// the server's address, also in `$LAB_IP`).
pub fn client(c: &ClientCheck, net: NetOptions, stop: &AtomicBool) -> Result<Compared, NetError> {
    if c.command.is_empty() {
        return Err(NetError::Usage(
            "--net runs your client itself (on loopback, then on the lab's client host): \
             give its command after --, e.g. -- python3 client.py {ip} {port}"
                .into(),
        ));
    }
    if c.bind.ip() != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        return Err(NetError::Usage(
            NOT_WITH_ADDRESS.replace("{flag}", "--bind"),
        ));
    }
    let mut clock = Clock::start();
    let lab = lab_up(net)?;
    let lab_ready = clock.lap();
    let mut loopback = c.clone();
    loopback.bind = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);
    loopback.command = c
        .command
        .iter()
        .map(|a| a.replace("{ip}", "127.0.0.1"))
        .collect();
    loopback.env_ip = Some("127.0.0.1".to_string());
    let lo = client::run(&loopback)?;
    let lo_took = clock.lap();
    interrupted(stop, "the run across the network")?;
    let mut across = c.clone();
    let port = if c.bind.port() == 0 {
        LAB_PORT
    } else {
        c.bind.port()
    };
    across.bind = SocketAddr::new(server_ip(), port);
    across.command = on_host(lab.client_ns(), &c.command);
    across.env_ip = Some(ns::SERVER_V4.to_string());
    let start = SystemTime::now();
    let far = in_namespace(lab.server_ns(), || client::run(&across))?;
    let spans = [Span {
        check: "the client's run",
        start,
        end: SystemTime::now(),
    }];
    let title = format!(
        "labnet check: {} client — on loopback and across a network ({})\n{}",
        c.proto,
        describe(net),
        clock.summary(lab_ready, lo_took)
    );
    Ok(compare::compare(
        title,
        lo,
        far,
        &spans,
        lab.frame_log(),
        net,
    ))
}

const NOT_WITH_ADDRESS: &str = "--net chooses the addresses itself (127.0.0.1 on loopback, \
    10.55.0.1 for the server across the lab): leave {flag} out";

/// How long the lab took to come up and each run took, for the title.
struct Clock {
    started: std::time::Instant,
    last: std::time::Instant,
}

impl Clock {
    fn start() -> Clock {
        let now = std::time::Instant::now();
        Clock {
            started: now,
            last: now,
        }
    }

    /// The time since the last lap.
    fn lap(&mut self) -> std::time::Duration {
        let now = std::time::Instant::now();
        let lap = now - self.last;
        self.last = now;
        lap
    }

    fn summary(&self, lab: std::time::Duration, loopback: std::time::Duration) -> String {
        let network = self.started.elapsed().saturating_sub(lab + loopback);
        format!(
            "lab up in {:.1} s; the battery took {:.1} s on loopback, {:.1} s across the network",
            lab.as_secs_f64(),
            loopback.as_secs_f64(),
            network.as_secs_f64()
        )
    }
}

/// The network, in one phrase for the title.
pub fn describe(net: NetOptions) -> String {
    format!(
        "{} ms each way, so a {} ms round trip; {}% loss, seed {}; MTU {}, segments of at most \
         1,448 bytes",
        net.delay_ms,
        net.delay_ms * 2.0,
        net.loss_pct,
        net.seed,
        ns::MTU
    )
}
