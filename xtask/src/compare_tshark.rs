//! `cargo xtask compare-tshark [--port P] [--zeek CONN_LOG] FILE...`: for every TCP
//! stream on the lab port, are labsniff's reassembled bytes (forced `--proto text`, so
//! every byte is a message) the bytes tshark's `follow,tcp,raw` gives, per direction?
//! With a Zeek conn.log (of the same file), are the connection states Zeek's?
//!
//! Prints one line per stream and a total; exits non-zero when any stream differs, so
//! that anyone can run it on their own captures.

use crate::util::{cargo, have, root, run, unhex};
use anyhow::{bail, Context, Result};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "usage: cargo xtask compare-tshark [--port P] [--zeek CONN_LOG] FILE...";

/// Streams followed per tshark run (each `-z follow` is one pass over the file).
const FOLLOW_BATCH: usize = 64;

/// One side's bytes of one stream, by direction: [client→server, server→client].
type Bytes = [Vec<u8>; 2];

/// A TCP stream as tshark numbers it, with its two endpoints (node 0 first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub index: u64,
    pub node0: String,
    pub node1: String,
}

pub fn main(args: &[String]) -> Result<()> {
    let mut port: u16 = 5005;
    let mut zeek: Option<PathBuf> = None;
    let mut files = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => {
                let p = it.next().context(USAGE)?;
                port = p
                    .parse()
                    .with_context(|| format!("--port {p}: not a port number"))?;
            }
            "--zeek" => zeek = Some(PathBuf::from(it.next().context(USAGE)?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            f => files.push(PathBuf::from(f)),
        }
    }
    if files.is_empty() {
        bail!("{USAGE}");
    }
    if !have("tshark") {
        bail!("tshark is not installed (apt-get install tshark): it is the reference here");
    }
    run(
        "build labsniff",
        cargo().args(["build", "-q", "-p", "labsniff"]),
    )?;
    let labsniff = root().join("target/debug/labsniff");
    let zeek_states = match &zeek {
        Some(path) => Some(read_zeek_conn_log(path)?),
        None => None,
    };
    let (mut same, mut total, mut state_same, mut state_total) = (0, 0, 0, 0);
    for file in &files {
        let result = compare_file(&labsniff, file, port, zeek_states.as_ref())?;
        same += result.same;
        total += result.total;
        state_same += result.state_same;
        state_total += result.state_total;
    }
    println!("\n{same} of {total} streams: labsniff's bytes equal tshark's follow,tcp,raw");
    if zeek.is_some() {
        println!(
            "{state_same} of {state_total} connections: labsniff's state equals Zeek's conn_state"
        );
    }
    if same != total || state_same != state_total {
        bail!(
            "{} streams and {} states differ",
            total - same,
            state_total - state_same
        );
    }
    Ok(())
}

#[derive(Debug, Default)]
struct FileResult {
    same: usize,
    total: usize,
    state_same: usize,
    state_total: usize,
}

/// What labsniff says of one conversation.
#[derive(Debug, Default)]
struct Ours {
    client: String,
    server: String,
    state: String,
    /// Per direction: (stream offset, bytes).
    pieces: [Vec<(u64, Vec<u8>)>; 2],
    gaps: usize,
}

fn compare_file(
    labsniff: &Path,
    file: &Path,
    port: u16,
    zeek: Option<&HashMap<(String, String), VecDeque<String>>>,
) -> Result<FileResult> {
    println!("{}", file.display());
    let ours = labsniff_streams(labsniff, file, port)?;
    let streams = tshark_streams(file, port)?;
    let followed = follow(file, &streams)?;
    // labsniff's conversations by endpoint pair, in order (a 4-tuple can be reused).
    let mut by_pair: HashMap<(String, String), VecDeque<&Ours>> = HashMap::new();
    for o in ours.values() {
        by_pair
            .entry(pair(&o.client, &o.server))
            .or_default()
            .push_back(o);
    }
    let mut zeek = zeek.cloned();
    let mut result = FileResult::default();
    for s in &streams {
        result.total += 1;
        let theirs = followed.get(&s.index).cloned().unwrap_or_default();
        let Some(o) = by_pair
            .get_mut(&pair(&s.node0, &s.node1))
            .and_then(VecDeque::pop_front)
        else {
            println!(
                "  stream {:>4} {} <-> {}: labsniff has no conversation",
                s.index, s.node0, s.node1
            );
            continue;
        };
        // tshark's node 0 sent the stream's first packet; labsniff's client sent the SYN.
        let theirs: Bytes = if s.node0 == o.client {
            theirs
        } else {
            [theirs[1].clone(), theirs[0].clone()]
        };
        let mine = [assemble(&o.pieces[0]), assemble(&o.pieces[1])];
        let verdict = (0..2)
            .map(|d| describe(&mine[d], &theirs[d], if d == 0 { "c→s" } else { "s→c" }))
            .collect::<Vec<_>>();
        let equal = mine == theirs;
        if equal {
            result.same += 1;
        }
        let mut line = format!(
            "  stream {:>4} {} → {}: {} ({}; {})",
            s.index,
            o.client,
            o.server,
            if equal { "same bytes" } else { "DIFFERENT" },
            verdict[0],
            verdict[1]
        );
        if o.gaps > 0 {
            line.push_str(&format!(", labsniff declared {} gaps", o.gaps));
        }
        if let Some(states) = zeek.as_mut() {
            if let Some(z) = states
                .get_mut(&pair(&o.client, &o.server))
                .and_then(VecDeque::pop_front)
            {
                result.state_total += 1;
                if z == o.state {
                    result.state_same += 1;
                    line.push_str(&format!(", state {} as Zeek", o.state));
                } else {
                    line.push_str(&format!(", state {} but Zeek {z}", o.state));
                }
            }
        }
        println!("{line}");
    }
    Ok(result)
}

/// An endpoint pair in a canonical order.
fn pair(a: &str, b: &str) -> (String, String) {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// The stream from its pieces, in offset order (gaps simply absent, as tshark's
/// follow output leaves missing bytes out).
fn assemble(pieces: &[(u64, Vec<u8>)]) -> Vec<u8> {
    let mut sorted: Vec<&(u64, Vec<u8>)> = pieces.iter().collect();
    sorted.sort_by_key(|p| p.0);
    sorted.iter().flat_map(|p| p.1.iter().copied()).collect()
}

/// `c→s 120 B` or `c→s 120 vs 130 B, first difference at 17`.
fn describe(mine: &[u8], theirs: &[u8], dir: &str) -> String {
    if mine == theirs {
        return format!("{dir} {} B", mine.len());
    }
    let first = mine
        .iter()
        .zip(theirs)
        .position(|(a, b)| a != b)
        .unwrap_or(mine.len().min(theirs.len()));
    format!(
        "{dir} {} vs tshark {} B, first difference at byte {first}",
        mine.len(),
        theirs.len()
    )
}

fn labsniff_streams(labsniff: &Path, file: &Path, port: u16) -> Result<BTreeMap<u64, Ours>> {
    let out = Command::new(labsniff)
        .arg("-r")
        .arg(file)
        .args(["--json", "--proto", "text", "--port", &port.to_string()])
        .output()
        .with_context(|| format!("cannot run {}", labsniff.display()))?;
    let mut convs: BTreeMap<u64, Ours> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let conv = v["conv"].as_u64().unwrap_or(0);
        match v["type"].as_str() {
            Some("message") if v["transport"] == "tcp" => {
                let d = usize::from(v["dir"] == "s2c");
                let bytes = unhex(v["payload_hex"].as_str().unwrap_or(""));
                let offset = v["offset"].as_u64().unwrap_or(0);
                convs.entry(conv).or_default().pieces[d].push((offset, bytes));
            }
            Some("conversation") if v["transport"] == "tcp" => {
                let o = convs.entry(conv).or_default();
                o.client = v["client"].as_str().unwrap_or("").to_string();
                o.server = v["server"].as_str().unwrap_or("").to_string();
                o.state = v["state"].as_str().unwrap_or("").to_string();
                o.gaps = v["gaps"].as_array().map_or(0, Vec::len);
            }
            _ => {}
        }
    }
    convs.retain(|_, o| !o.client.is_empty());
    Ok(convs)
}

/// `ip:port`, with IPv6 addresses bracketed as labsniff prints them.
fn endpoint(addr: &str, port: &str) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

fn tshark_streams(file: &Path, port: u16) -> Result<Vec<Stream>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", &format!("tcp.port == {port}"), "-T", "fields"])
        .args([
            "-e",
            "tcp.stream",
            "-e",
            "ip.src",
            "-e",
            "ipv6.src",
            "-e",
            "tcp.srcport",
        ])
        .args(["-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"])
        .args(["-e", "frame.protocols"])
        .output()
        .context("cannot run tshark")?;
    let mut seen: BTreeMap<u64, Stream> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 7 {
            continue;
        }
        // Tunnelled packets list several addresses; the innermost is last.
        let last = |s: &str| s.rsplit(',').next().unwrap_or("").to_string();
        let Ok(index) = f[0].parse::<u64>() else {
            continue;
        };
        let v6 = innermost_is_ipv6(f.get(7).copied().unwrap_or(""), f[1].is_empty());
        let src = if v6 { last(f[2]) } else { last(f[1]) };
        let dst = if v6 { last(f[5]) } else { last(f[4]) };
        seen.entry(index).or_insert_with(|| Stream {
            index,
            node0: endpoint(&src, f[3]),
            node1: endpoint(&dst, f[6]),
        });
    }
    Ok(seen.into_values().collect())
}

/// Whether a packet's innermost IP layer is IPv6, from tshark's `frame.protocols`
/// (`eth:ethertype:ip:ipv6:tcp` for 6in4: the last `ip`/`ipv6` is the inner one);
/// without it, IPv6 when there is no IPv4 address.
fn innermost_is_ipv6(protocols: &str, no_ipv4: bool) -> bool {
    let last = protocols.rsplit(':').find(|p| *p == "ip" || *p == "ipv6");
    match last {
        Some(p) => p == "ipv6",
        None => no_ipv4,
    }
}

fn follow(file: &Path, streams: &[Stream]) -> Result<HashMap<u64, Bytes>> {
    let mut all = HashMap::new();
    for batch in streams.chunks(FOLLOW_BATCH) {
        let mut cmd = Command::new("tshark");
        cmd.arg("-r").arg(file).arg("-q");
        for s in batch {
            cmd.args(["-z", &format!("follow,tcp,raw,{}", s.index)]);
        }
        let out = cmd.output().context("cannot run tshark")?;
        all.extend(parse_follow_raw(&String::from_utf8_lossy(&out.stdout)));
    }
    Ok(all)
}

/// tshark's `-z follow,tcp,raw,N` blocks: per stream, node 0's bytes (lines without a
/// leading tab) and node 1's (tab-indented), in hex.
pub fn parse_follow_raw(text: &str) -> HashMap<u64, Bytes> {
    let mut out: HashMap<u64, Bytes> = HashMap::new();
    let mut current: Option<u64> = None;
    for line in text.lines() {
        if line.starts_with("====") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("Filter: tcp.stream eq ") {
            current = rest.trim().parse().ok();
            if let Some(n) = current {
                out.entry(n).or_default();
            }
            continue;
        }
        if line.starts_with("Follow:") || line.starts_with("Node ") {
            continue;
        }
        let Some(n) = current else { continue };
        let (dir, hex) = match line.strip_prefix('\t') {
            Some(h) => (1, h),
            None => (0, line),
        };
        let hex = hex.trim();
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        if let Some(entry) = out.get_mut(&n) {
            let bytes = unhex(hex);
            // tshark puts a text placeholder where a cut frame's bytes were missing:
            // they are not stream bytes (labsniff declares them a gap).
            if !is_missing_placeholder(&bytes) {
                entry[dir].extend(bytes);
            }
        }
    }
    out
}

/// `[1418 bytes missing in capture file]` (with its NUL), as tshark's follow writes it.
fn is_missing_placeholder(bytes: &[u8]) -> bool {
    let text = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    let Some(inner) = text
        .strip_prefix(b"[")
        .and_then(|t| t.strip_suffix(b" bytes missing in capture file]"))
    else {
        return false;
    };
    !inner.is_empty() && inner.iter().all(u8::is_ascii_digit)
}

/// Zeek conn.log (TSV with a `#fields` header): conn_state per endpoint pair, in order.
fn read_zeek_conn_log(path: &Path) -> Result<HashMap<(String, String), VecDeque<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut fields: Vec<String> = Vec::new();
    let mut out: HashMap<(String, String), VecDeque<String>> = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("#fields\t") {
            fields = rest.split('\t').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || fields.is_empty() {
            continue;
        }
        let row: HashMap<&str, &str> = fields
            .iter()
            .map(String::as_str)
            .zip(line.split('\t'))
            .collect();
        if row.get("proto") != Some(&"tcp") {
            continue;
        }
        let get = |k: &str| row.get(k).copied().unwrap_or("");
        let a = endpoint(get("id.orig_h"), get("id.orig_p"));
        let b = endpoint(get("id.resp_h"), get("id.resp_p"));
        out.entry(pair(&a, &b))
            .or_default()
            .push_back(get("conn_state").to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follow_raw_blocks_are_split_per_stream_and_direction() {
        let text = "\n===================================================================\n\
                    Follow: tcp,raw\nFilter: tcp.stream eq 3\nNode 0: 10.0.0.2:40000\nNode 1: 10.0.0.1:5005\n\
                    68656c6c6f\n\t776f726c64\n2121\n\
                    ===================================================================\n\
                    Follow: tcp,raw\nFilter: tcp.stream eq 4\nNode 0: [fd55::2]:40000\nNode 1: [fd55::1]:5005\n\
                    ===================================================================\n";
        let got = parse_follow_raw(text);
        assert_eq!(got[&3][0], b"hello!!");
        assert_eq!(got[&3][1], b"world");
        assert_eq!(got[&4], [Vec::<u8>::new(), Vec::new()]);
        // tshark's placeholder for bytes a cut frame did not keep is not stream data.
        let hex: String = b"[1418 bytes missing in capture file]\0"
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let text = format!("Filter: tcp.stream eq 0\n6869\n{hex}\n6a\n");
        assert_eq!(parse_follow_raw(&text)[&0][0], b"hij");
    }

    #[test]
    fn zeek_conn_log_states_by_endpoint_pair() {
        let dir = std::env::temp_dir().join(format!("compare-tshark-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("conn.log");
        std::fs::write(
            &path,
            "#separator \\x09\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state\n\
             #types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\n\
             1.0\tC1\t10.0.0.2\t40000\t10.0.0.1\t5005\ttcp\tSF\n\
             2.0\tC2\tfd55::2\t40001\tfd55::1\t5005\ttcp\tREJ\n\
             3.0\tC3\t10.0.0.2\t53\t10.0.0.1\t53\tudp\tS0\n",
        )
        .unwrap();
        let states = read_zeek_conn_log(&path).unwrap();
        assert_eq!(states.len(), 2, "UDP is left out: {states:?}");
        assert_eq!(
            states[&pair("10.0.0.1:5005", "10.0.0.2:40000")],
            VecDeque::from(["SF".to_string()])
        );
        assert_eq!(
            states[&pair("[fd55::2]:40001", "[fd55::1]:5005")],
            VecDeque::from(["REJ".to_string()])
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn pieces_assemble_in_offset_order() {
        let pieces = vec![(5, b"world".to_vec()), (0, b"hello".to_vec())];
        assert_eq!(assemble(&pieces), b"helloworld");
        assert_eq!(
            describe(b"abc", b"abd", "c→s"),
            "c→s 3 vs tshark 3 B, first difference at byte 2"
        );
    }
}
