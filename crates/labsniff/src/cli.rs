//! Command line, tcpdump-style.

use clap::{Parser, Subcommand};
use labproto::Proto;
use labsniff::report::View;
use std::path::PathBuf;

/// Capture or read the sockets lab's traffic, reassemble TCP, and decode every
/// text, v2 and v3 message with the frames that carried it.
#[derive(Debug, Parser)]
#[command(
    name = "labsniff",
    version,
    about,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  \
    labsniff -r ex5.pcap                  explain a capture (ports, handshakes, framing, echoes)\n  \
    labsniff -r ex5.pcap --view flow      ladder diagram, like Wireshark's Flow Graph\n  \
    labsniff -r ex5.pcap --json           one JSON object per line (crates/labsniff/SCHEMA.md)\n  \
    labsniff -r ex5.pcap --syscalls server.trace client.trace   join strace traces: threads, accept(), recv()s\n  \
    labsniff -r ex5.pcap -w ex5.pcapng --annotate   labsniff's verdicts as Wireshark packet comments\n  \
    sudo labsniff -i lo -w ex5.pcap       capture live on loopback, save for Wireshark\n  \
    labsniff lua-dissector > lab.lua      a Wireshark dissector for the lab's messages\n\n\
    Exit codes (crates/labsniff/EXIT_CODES.md):\n  \
    0 ok (also after Ctrl-C; problems inside a capture are diagnostics)   1 cannot write the output\n  \
    2 usage error   3 no such file   4 permission denied   5 a directory   6 not a capture\n  \
    7 no such interface   8 bad BPF filter   9 cannot write the -w file   10 cannot drop privileges\n  \
    11 grade: at least one capture misses a requirement   12 libpcap is not installed (live capture, -f, -w)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Capture live on this interface (`any` for all, `lo` for loopback).
    // Not `required_unless_present = "read"`: clap would then ask for --interface
    // alone; main says that either -r or -i is needed.
    #[arg(short = 'i', long = "interface", conflicts_with = "read")]
    pub interface: Option<String>,
    /// Read a pcap or pcapng capture file.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// BPF filter (live default: `port <lab port>`; files: none).
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Also write every frame read to this capture file (pcap; pcapng when the name
    /// ends in .pcapng or with --pcapng, reading a file only).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// With -r and -w: write pcapng with labsniff's verdict as each frame's comment
    /// (Wireshark's frame.comment) and the summary as the file's comment.
    #[arg(long, requires = "write", requires = "read")]
    pub annotate: bool,
    /// -w writes pcapng even when the name does not end in .pcapng.
    #[arg(long, requires = "write")]
    pub pcapng: bool,
    /// Stop after this many frames.
    #[arg(short = 'c', long = "count", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// The lab port, or `auto`: the port whose conversations carry text, v2 or v3.
    /// Files default to auto, which keeps 5005 when it is used; live capture: 5005.
    #[arg(long, value_name = "PORT|auto")]
    pub port: Option<labsniff::port_choice::Request>,
    /// Decode as this protocol instead of detecting it: text, v2 or v3.
    #[arg(long)]
    pub proto: Option<Proto>,
    /// One JSON object per line (schema: crates/labsniff/SCHEMA.md).
    #[arg(long)]
    pub json: bool,
    /// With --json: also one `segment` line per TCP segment of a lab conversation
    /// (header fields, analysis flags, ack_rtt).
    #[arg(long, requires = "json")]
    pub segments: bool,
    /// Out-of-order bytes buffered per direction before a gap is declared.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_ooo_bytes: usize,
    /// Largest v3 size field accepted.
    #[arg(long, default_value_t = labproto::DEFAULT_MAX_SIZE, value_name = "BYTES")]
    pub max_size: u32,
    /// Live capture: bytes kept per frame.
    #[arg(short = 's', long, default_value_t = 262_144, value_parser = clap::value_parser!(i32).range(64..))]
    pub snaplen: i32,
    /// What to show without --json: conversations, messages, flow or explain.
    #[arg(long, default_value = "explain", value_name = "VIEW")]
    pub view: View,
    /// Also write the ladder (the HTML page's) as an SVG file a browser shows; with
    /// --syscalls, the flow graph with the calls' lanes.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    /// Also write one self-contained HTML page (ladders, time-sequence and RTT graphs,
    /// explanations) that a browser shows offline; with -i, written at the end.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// With --html: the same traffic captured at the other end (the client's side and
    /// the server's side); the page draws both in one ladder and marks what was lost
    /// between the two capture points.
    #[arg(long, value_name = "FILE", requires = "html")]
    pub peer_capture: Option<PathBuf>,
    /// Only this conversation in the flow view and the SVG.
    #[arg(long, value_name = "N")]
    pub conv: Option<u64>,
    /// strace traces of the lab's programs (server, clients) to join to the capture:
    /// the output of `strace -f -ttt -T -yy -e trace=%network,read,write,close,shutdown,select,poll,epoll_wait,epoll_ctl -o TRACE PROGRAM`.
    #[arg(long = "syscalls", value_name = "TRACE", num_args = 1..)]
    pub syscalls: Vec<PathBuf>,
    /// The day of traces made with `strace -tt` (time of day, not -ttt), as
    /// YYYY-MM-DD; run strace with TZ=UTC so that the time of day is UTC.
    #[arg(long = "trace-date", value_name = "YYYY-MM-DD", value_parser = trace_date)]
    pub trace_date: Option<u64>,
    /// Live capture as root: once the capture is open, switch to this user
    /// (default `nobody`, as tcpdump does; `-Z root` keeps root).
    #[arg(short = 'Z', long = "relinquish-privileges", value_name = "USER")]
    pub drop_to: Option<String>,
}

fn trace_date(s: &str) -> Result<u64, String> {
    labsniff::syscalls::parse::midnight(s).ok_or_else(|| format!("'{s}' is not a date YYYY-MM-DD"))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a Wireshark Lua dissector for the lab's protocols (UDP text, v2, v3 with
    /// TCP reassembly), generated from labproto's own field definitions.
    /// Load it with `wireshark -X lua_script:lab.lua`, or copy it to
    /// ~/.local/lib/wireshark/plugins/.
    LuaDissector {
        /// The lab port the dissector registers on.
        #[arg(long, default_value_t = labproto::LAB_PORT)]
        port: u16,
    },
    /// Grade a class's captures: for each file, whether it shows what the exercise
    /// requires (each requirement pass/fail with frame numbers). Exit 0 only when every
    /// file passes, 11 otherwise.
    #[command(after_help = "Examples:\n  \
    labsniff grade --list                          every exercise's requirements\n  \
    labsniff grade --exercise 5.3 submissions/     every file of a folder, one row each\n  \
    labsniff grade --exercise 2.2 a.pcap b.pcapng --json   one JSON object per file")]
    Grade(GradeArgs),
}

#[derive(Debug, clap::Args)]
pub struct GradeArgs {
    /// The exercise: 1.2, 2.2, 3.2, 4.2, 4.3, 5.2 or 5.3.
    #[arg(long, required_unless_present = "list", value_parser = exercise_id)]
    pub exercise: Option<&'static labsniff::grade::Exercise>,
    /// Print every exercise's requirements and exit.
    #[arg(long)]
    pub list: bool,
    /// CSV instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// One JSON object per file, one per line (crates/labsniff/SCHEMA.md).
    #[arg(long)]
    pub json: bool,
    /// Also write the class page (one row per capture, every requirement with its
    /// evidence) and, beside it, each capture's own page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// The lab port.
    #[arg(long, default_value_t = labproto::LAB_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Frames read per file at most; a file cut short fails `readable`, saying so.
    #[arg(long, default_value_t = labsniff::grade::Limits::default().max_frames, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_frames: u64,
    /// Seconds of reading per file at most; a file cut short fails `readable`.
    #[arg(long, default_value_t = labsniff::grade::Limits::default().max_seconds, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_seconds: u64,
    /// Capture files (pcap or pcapng) or folders of them (graded on every core).
    #[arg(value_name = "FILE", required_unless_present = "list")]
    pub files: Vec<PathBuf>,
}

fn exercise_id(s: &str) -> Result<&'static labsniff::grade::Exercise, String> {
    labsniff::grade::exercise(s).ok_or_else(|| {
        let ids: Vec<&str> = labsniff::grade::EXERCISES.iter().map(|e| e.id).collect();
        format!("no exercise '{s}': one of {}", ids.join(", "))
    })
}
