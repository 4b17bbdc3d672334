//! Command line, tcpdump-style.

use clap::Parser;
use labproto::Proto;
use std::path::PathBuf;

/// Capture or read the sockets lab's traffic, reassemble TCP, and decode every
/// text, v2 and v3 message with the frames that carried it.
#[derive(Debug, Parser)]
#[command(name = "labsniff", version, about)]
pub struct Cli {
    /// Capture live on this interface (`any` for all, `lo` for loopback).
    #[arg(
        short = 'i',
        long = "interface",
        required_unless_present = "read",
        conflicts_with = "read"
    )]
    pub interface: Option<String>,
    /// Read a pcap or pcapng capture file.
    #[arg(short = 'r', long = "read", value_name = "FILE")]
    pub read: Option<PathBuf>,
    /// BPF filter (live default: `port <lab port>`; files: none).
    #[arg(short = 'f', long = "filter", value_name = "BPF")]
    pub filter: Option<String>,
    /// Also write every frame read to this capture file (pcap).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Stop after this many frames.
    #[arg(short = 'c', long = "count", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// The lab port.
    #[arg(long, default_value_t = labproto::LAB_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// Decode as this protocol instead of detecting it: text, v2 or v3.
    #[arg(long)]
    pub proto: Option<Proto>,
    /// One JSON object per line (schema: crates/labsniff/SCHEMA.md).
    #[arg(long)]
    pub json: bool,
    /// Out-of-order bytes buffered per direction before a gap is declared.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_ooo_bytes: usize,
    /// Largest v3 size field accepted.
    #[arg(long, default_value_t = labproto::DEFAULT_MAX_SIZE, value_name = "BYTES")]
    pub max_size: u32,
    /// Live capture: bytes kept per frame.
    #[arg(short = 's', long, default_value_t = 262_144, value_parser = clap::value_parser!(i32).range(64..))]
    pub snaplen: i32,
}
