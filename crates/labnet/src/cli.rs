//! The command line: one subcommand per program of the lab.

use clap::{Args, Parser, Subcommand, ValueEnum};
use labproto::Proto;
use std::net::IpAddr;

#[derive(Debug, Parser)]
#[command(
    name = "labnet",
    version,
    about = "The sockets lab's servers and clients, byte-compatible with the Python originals",
    long_about = "The sockets lab's servers and clients (exercises 1 to 5), byte-compatible with the \
                  Python originals on port 5005: mix them freely with your own Python programs.\n\n\
                  Logs go to stdout, one line per event: UTC time HH:MM:SS.mmm, then the handler \
                  in brackets ([thread client-ADDR] or [selector token N]).",
    after_help = "Exit codes (crates/labnet/EXIT_CODES.md):\n  \
    0 ok (also a server stopped by Ctrl-C or SIGTERM)   1 other runtime error   2 usage error\n  \
    3 port busy   4 permission denied   5 address not on this machine   6 cannot connect\n  \
    7 echo missing, cut or not a lab message   8 bench: echoes wrong or missing\n  \
    9 netlab cannot run here (root, namespaces, ip, ethtool)   10 netlab lab not up / already up\n  \
    11 check: at least one check failed"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Exercise 1.1: print every UDP datagram with the sender's address and port.
    #[command(
        long_about = "Exercise 1.1 (serverUDP.py): binds a UDP socket and prints every \
        datagram with the sender's address and source port.\n\n\
        In the capture (filter: udp.port == 5005) each datagram is one message: compare the \
        source port Wireshark shows with the port printed here, and see that no handshake \
        precedes the data."
    )]
    UdpServer(UdpServerArgs),
    /// Exercise 1.2: send UDP datagrams (one per message) and print the local port used.
    #[command(
        long_about = "Exercise 1.2 (clientUDP.py): sends each -m message, or each line typed \
        on stdin until EOF (Ctrl-D), as one datagram.\n\n\
        It prints its own local port: the OS picked it from the ephemeral range \
        (/proc/sys/net/ipv4/ip_local_port_range). Find it as the source port in the capture; \
        a second client gets a different one."
    )]
    UdpClient(UdpClientArgs),
    /// Exercises 2-5: the TCP echo server (threads or selector; text, v2 or v3).
    #[command(long_about = "Exercises 2 to 5: the TCP server.\n\n\
        --model threads (serverTCP.py, 2.1; serverTCPv2.py 4.1; serverTCPv3.py 5.1): one named \
        thread per client; the log shows which thread serves which client address. Unlike \
        serverTCP.py, whose main thread accepts and then starts the client's thread, the thread \
        that accepts a client serves it and a waiting thread takes over accept(), so no client \
        waits for a thread to start.\n\
        --model selector (serverTCPsel.py, 3.1): one thread, one event loop; each connection is a \
        token (a Python selector key); non-blocking reads and writes.\n\n\
        --proto text echoes the bytes read; v2 reads fixed 29-byte messages ('!BII20s'); v3 reads \
        a 9-byte header ('!BII') then 'size' bytes. v2/v3 messages are printed decoded and echoed \
        byte for byte (4.3, 5.3) unless --no-echo (4.1, 5.1).\n\n\
        In the capture (filter: tcp.port == 5005): the three-way handshake at accept, one TCP \
        stream per client port, message boundaries not matching segment boundaries, and the FIN \
        of whoever closes first.")]
    TcpServer(TcpServerArgs),
    /// Exercises 2-5: the TCP client (text, v2 or v3), printing each echo.
    #[command(
        long_about = "Exercises 2 to 5: the TCP client (clientTCP.py, clientTCPv2.py, \
        clientTCPv3.py).\n\n\
        Sends each -m message (or each stdin line) as text, as a 29-byte v2 message (texts over 20 \
        bytes are cut, the size field keeps the original length), or as a v3 message (9-byte \
        header + text). Orders start at 1. It prints its local port (the source port in the \
        capture) and each echo, decoded."
    )]
    TcpClient(TcpClientArgs),
    /// Load generator: N connections x M pipelined messages, throughput and latency.
    #[command(
        long_about = "Load generator for the performance comparison of the two server \
        models. Opens --conns connections from one thread (mio), pipelines up to --window messages \
        on each, checks every echo byte for byte (any mismatch fails the run) and prints \
        messages/s and round-trip percentiles. Raises the open-files limit to the hard limit so \
        thousands of connections fit. Run the server with --quiet."
    )]
    Bench(BenchArgs),
    /// A two-host network on this machine (namespaces) that delays, loses and reorders.
    #[command(
        long_about = "A server host and a client host in network namespaces, joined \
        through a user-space forwarder that delays, loses, duplicates and reorders frames from a \
        seed (needs root; no netem needed). Addresses: server 10.55.0.1 and fd55::1, client \
        10.55.0.2 and fd55::2, in a private /24 and ULA /64 that exist only inside the lab.\n\n\
        labnet netlab up --delay 10 --loss 3 --seed 7\n\
        labnet netlab exec server -- labnet tcp-server --model threads --proto v3 &\n\
        labnet netlab exec client -- labnet tcp-client --proto v3 --ip 10.55.0.1 -m hi\n\
        labnet netlab status; labnet netlab set --loss 0; labnet netlab down"
    )]
    Netlab(crate::netlab::args::NetlabArgs),
    /// Check your own server or client (before handing it in): a fixed battery, each
    /// check with pass/fail, the evidence and a one-line fix.
    #[command(
        subcommand,
        long_about = "Check your own server or client against what the lab's programs must \
        survive: split and coalesced messages, a 100 kB message, two clients at once, a reset \
        and a half-closed client, struct layouts.\n\n\
        labnet check server --proto v3 --port 5005\n\
        labnet check server --proto v3 --port 0 -- python3 serverTCPv3.py {port}\n\
        labnet check client --proto v3 --port 0 -- python3 clientTCPv3.py {port}\n\n\
        Exit code 0 when every check passes, 11 when one fails (see EXIT_CODES.md)."
    )]
    Check(CheckCommand),
}

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Connect to your server and run the battery (under 30 s).
    Server(CheckServerArgs),
    /// Act as the lab server for your client: run CMD (after --) or wait for it.
    Client(CheckClientArgs),
}

/// `--net`: the battery on loopback and across a private netlab (root).
#[derive(Debug, Args, Clone, Copy)]
pub struct CheckNetArgs {
    /// Run the battery on loopback and across a network (root; CMD after -- needed): a
    /// private netlab made for the run, your program on one host, the checks on the
    /// other; then say which checks differ, and why. A client gets the server's address
    /// as {ip} and $LAB_IP.
    #[arg(long)]
    pub net: bool,
    /// With --net: one-way delay each way, ms (10: a 20 ms round trip).
    #[arg(long, value_name = "MS", default_value_t = 10.0, requires = "net")]
    pub delay: f64,
    /// With --net: random loss of IP frames each way, percent.
    #[arg(long, value_name = "PCT", default_value_t = 1.0, requires = "net")]
    pub loss: f64,
    /// With --net: seed of the loss (the same seed loses the same n-th frames of a
    /// direction).
    #[arg(long, value_name = "N", default_value_t = 1, requires = "net")]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct CheckServerArgs {
    /// text, v2 or v3.
    #[arg(long)]
    pub proto: Proto,
    /// Your server's address.
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// Your server only prints (4.1, 5.1): nothing must come back.
    #[arg(long)]
    pub no_echo: bool,
    #[command(flatten)]
    pub net: CheckNetArgs,
    /// One JSON object per check, one per line.
    #[arg(long)]
    pub json: bool,
    /// Your server, e.g. `python3 serverTCPv3.py {port}` ({port}: --port, or a free one
    /// with --port 0; also in $LAB_PORT): started by the check, killed at the end, and
    /// the messages it prints compared with the ones sent (check `prints`).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckClientArgs {
    /// text, v2 or v3.
    #[arg(long)]
    pub proto: Proto,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port to listen on (0: any free port; pass it to CMD as {port}).
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// Seconds for the client to connect and finish (time to start it by hand).
    #[arg(long, default_value_t = 30.0)]
    pub timeout: f64,
    #[command(flatten)]
    pub net: CheckNetArgs,
    /// One JSON object per check, one per line.
    #[arg(long)]
    pub json: bool,
    /// Your client, e.g. `python3 clientTCPv3.py {port}` ({port}: the port listened on;
    /// also in $LAB_PORT). Without it, start your client by hand.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct UdpServerArgs {
    /// Address to listen on (0.0.0.0: every IPv4 interface; '::': IPv6 and IPv4).
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct UdpClientArgs {
    /// Server address (the Python client's ip_addr).
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// A message to send; repeat for several. Without -m, lines are read from stdin.
    #[arg(short = 'm', long = "message")]
    pub messages: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// One thread per client.
    Threads,
    /// One thread, one event loop, one token per connection.
    Selector,
}

#[derive(Debug, Args)]
pub struct TcpServerArgs {
    /// Write every socket call (accept, connect, recv, send, readiness, shutdown, close)
    /// as a JSON line to FILE: time, thread, token, fd, call, bytes, addresses; give it
    /// to `labsniff -r CAP --syscalls FILE`.
    #[arg(long, value_name = "FILE")]
    pub trace_events: Option<std::path::PathBuf>,
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// text, v2 or v3.
    #[arg(long)]
    pub proto: Proto,
    /// Print messages but send nothing back (the servers of 4.1 and 5.1).
    #[arg(long)]
    pub no_echo: bool,
    /// Address to listen on (0.0.0.0: every IPv4 interface; '::': IPv6 and IPv4).
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// Largest v3 size field accepted; a larger one closes that connection.
    #[arg(long, default_value_t = labproto::DEFAULT_MAX_SIZE)]
    pub max_size: u32,
    /// Threads model: serve at most N clients at once; newcomers wait in the backlog.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_clients: Option<u64>,
    /// Selector model: unread echo bytes allowed per client before it is closed.
    #[arg(long, default_value_t = crate::server::DEFAULT_MAX_PENDING)]
    pub max_pending: usize,
    /// No per-message lines (for benchmarks); accepts, closes and errors still show.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct TcpClientArgs {
    /// Write every socket call (accept, connect, recv, send, readiness, shutdown, close)
    /// as a JSON line to FILE: time, thread, token, fd, call, bytes, addresses; give it
    /// to `labsniff -r CAP --syscalls FILE`.
    #[arg(long, value_name = "FILE")]
    pub trace_events: Option<std::path::PathBuf>,
    /// text, v2 or v3.
    #[arg(long)]
    pub proto: Proto,
    /// Server address (the Python client's ip_addr).
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// A message to send; repeat for several. Without -m, lines are read from stdin.
    #[arg(short = 'm', long = "message")]
    pub messages: Vec<String>,
    /// The version byte of v2/v3 headers.
    #[arg(long, default_value_t = 1)]
    pub version_byte: u8,
    /// Do not wait for echoes (for --no-echo servers).
    #[arg(long)]
    pub no_echo: bool,
    /// Seconds to wait for the connection and for each echo.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// Wait this long between messages, as someone typing: the connection stays open
    /// while other clients are served (what shows a concurrent server in a capture).
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub pause_ms: u64,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// text, v2 or v3.
    #[arg(long)]
    pub proto: Proto,
    #[arg(long, default_value = "127.0.0.1")]
    pub ip: IpAddr,
    #[arg(long, default_value_t = labproto::LAB_PORT)]
    pub port: u16,
    /// Number of connections.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub conns: u64,
    /// Messages per connection.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub messages: u64,
    /// Message text length in bytes (v2 carries at most 20).
    #[arg(long)]
    pub size: usize,
    /// Messages in flight per connection.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub window: u64,
    /// Give up after this many seconds and report what is missing.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
    /// Print one JSON line instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Pace each connection to one message every this many milliseconds (many slow
    /// clients, as in the 10,000-connection scale test) instead of full speed.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub interval_ms: Option<u64>,
}

/// A clap usage error as one line: clap's first line without its `error: ` prefix,
/// plus where to find help (`labnet tcp-server --help` when `args` name a subcommand).
pub fn one_line_usage_error(error: &clap::Error, args: &[String]) -> String {
    // `render()` is plain text (styles are only added by `ansi()`).
    let text = error.render().to_string();
    // The first paragraph: the error line and its indented continuation lines
    // (e.g. the list of missing arguments), joined into one line.
    let first = text
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ");
    let first = match first.strip_prefix("error: ") {
        Some(rest) => rest,
        None if first.is_empty() => "bad command line",
        None => &first,
    };
    // The deepest subcommand named (`labnet check server`): its help is the one to read.
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut path = vec!["labnet".to_string()];
    for a in args.iter().skip(1).take_while(|a| a.as_str() != "--") {
        let Some(sub) = command.find_subcommand(a).cloned() else {
            continue;
        };
        path.push(a.clone());
        command = sub;
    }
    let help = format!("{} --help", path.join(" "));
    // clap's "tip: a similar argument exists: '--proto'": the nearest correct spelling.
    let tips: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .collect();
    let tips = if tips.is_empty() {
        String::new()
    } else {
        format!("; {}", tips.join("; "))
    };
    format!("{first}{tips} (see '{help}')")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage_error(args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let e = Cli::try_parse_from(&args).unwrap_err();
        one_line_usage_error(&e, &args)
    }

    #[test]
    fn usage_errors_are_one_line_naming_the_subcommand_help() {
        assert_eq!(
            usage_error(&["labnet", "tcp-server", "--model", "forks", "--proto", "v3"]),
            "invalid value 'forks' for '--model <MODEL>' [possible values: threads, selector] \
             (see 'labnet tcp-server --help')"
        );
        assert_eq!(
            usage_error(&["labnet", "tcp-server", "--prot", "v3"]),
            "unexpected argument '--prot' found; a similar argument exists: '--proto' \
             (see 'labnet tcp-server --help')"
        );
        assert!(usage_error(&["labnet", "check", "server", "--prot", "v3"])
            .ends_with("(see 'labnet check server --help')"));
        assert_eq!(
            usage_error(&["labnet", "frobnicate"]),
            "unrecognized subcommand 'frobnicate' (see 'labnet --help')"
        );
        assert_eq!(
            usage_error(&["labnet", "tcp-server", "--model", "threads"]),
            "the following required arguments were not provided: --proto <PROTO> \
             (see 'labnet tcp-server --help')"
        );
    }
}
