//! `cargo xtask <command>`: the project's automation, one module per command
//! (the cargo alias lives in `.cargo/config.toml`).

mod bench;
mod bench_dense;
mod bench_dense_callgrind;
mod bench_dense_capture;
mod bench_live;
mod bench_netlab;
mod bench_rusage;
mod bench_servers;
mod bench_stats;
mod compare_tshark;
mod demo;
mod demo_net;
mod deps;
mod exercises;
mod fuzz;
mod layers;
mod measure;
mod outputs_diff;
mod procs;
mod screenshots;
mod test;
mod util;
mod wheel;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  demo [--net]          the whole lab end to end on loopback, with labsniff's reports;
                        --net: across two hosts (netlab, root), 20 ms RTT, loss in exercise 5
  test [--no-demo]      install missing system packages, then fmt check, clippy, all tests, the demo
  bench [--quick] [--only sniff|servers|first-echo|live|scale|netlab|dense] [--base REV]
                        performance figures (labsniff vs libpcap/tshark, servers vs Python);
                        dense: a message-dense loopback capture, --base REV's labsniff beside
  compare-tshark [--port P] [--zeek CONN_LOG] FILE...
                        per TCP stream: labsniff's reassembled bytes vs tshark's follow,tcp,raw
                        (and states vs a Zeek conn.log); non-zero exit when any differs
  outputs-diff [--base REV] [--keep] [--only MODE,...] [--timeout SECS] [CAPTURE...]
                        labsniff built at REV (default HEAD) vs the working tree, on every kept
                        capture in every mode (report, json, flow, conversations, messages,
                        svg, grade, annotate): stdout, stderr, exit code and files written must
                        be byte-identical; non-zero exit when any differs
  layers [--edges] [--count-ancestor-edges]
                        the layering rules: no import circles between a crate's modules
                        (known ones listed in xtask/layers-allow.txt), labfacts depends on
                        no renderer or program crate; non-zero exit when one is broken
  screenshots           PNGs of labsniff's HTML pages (docs/screenshots/) taken in headless Chromium
  wheel [--check]       the Python package labsockets (python/): a wheel with the labsniff and
                        labnet commands, built by maturin into target/wheel/dist; --check
                        installs it into a fresh venv and runs both (as root: without libpcap)
  fuzz [SECS] [TARGET]  the fuzz targets (framer, sniff_frames, reassembler, capfile, report), SECS each (default 60)
  help                  this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::main(&args[1..]),
        Some("demo") => demo::main(&args[1..]),
        Some("bench") => bench::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("compare-tshark") => compare_tshark::main(&args[1..]),
        Some("outputs-diff") => outputs_diff::main(&args[1..]),
        Some("layers") => layers::main(&args[1..]),
        Some("screenshots") => screenshots::main(&args[1..]),
        Some("wheel") => wheel::main(&args[1..]),
        Some("help" | "--help" | "-h") | None => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("xtask: unknown command '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}
