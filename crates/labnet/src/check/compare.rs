//! The two runs of `--net` side by side: one row per check with its loopback and its
//! network verdict, and for each check whose verdicts differ one explanation, from the
//! evidence of both runs and from what the forwarder's frame log shows of the network
//! during that check (segments, their largest payload, frames lost).

use super::impairment::NetOptions;
use super::server::Span;
use super::CheckResult;
use comfy_table::{presets, ContentArrangement, Table};
use serde_json::Value;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Both runs and what differs between them.
#[derive(Debug, Clone)]
pub struct Compared {
    pub title: String,
    pub loopback: Vec<CheckResult>,
    pub network: Vec<CheckResult>,
    /// (check, explanation) for every check whose verdicts differ.
    pub notes: Vec<(&'static str, String)>,
}

impl Compared {
    /// Checks failed in either run.
    pub fn failures(&self) -> usize {
        self.network
            .iter()
            .filter(|n| !n.pass || self.on_loopback(n.check).is_some_and(|l| !l.pass))
            .count()
    }

    fn on_loopback(&self, check: &str) -> Option<&CheckResult> {
        self.loopback.iter().find(|l| l.check == check)
    }
}

/// What one direction of the lab carried during a check (from the frame log).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    /// TCP segments with payload that passed (retransmissions included).
    pub segments: u64,
    /// The largest payload of one segment, bytes.
    pub largest: u64,
    /// IP frames the lab dropped (the seeded loss).
    pub dropped: u64,
    /// TCP frames of any kind (SYN, ACK, data), passed or dropped.
    pub tcp_frames: u64,
}

/// Client→server and server→client during `span`, read from the frame log at `log`.
pub fn carried(log: &Path, span: &Span) -> [Carried; 2] {
    let secs = |t: SystemTime| {
        t.duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64())
    };
    let (start, end) = (secs(span.start), secs(span.end));
    let mut out = [Carried::default(); 2];
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
    {
        let ts = v["ts"].as_f64().unwrap_or(0.0);
        if ts < start || ts > end {
            continue;
        }
        let i = usize::from(v["dir"] != "c2s");
        if v["proto"] == "tcp" {
            out[i].tcp_frames += 1;
        }
        if v["decision"] == "drop" {
            out[i].dropped += 1;
            continue;
        }
        let len = v["len"].as_u64().unwrap_or(0);
        if v["proto"] == "tcp" && len > 0 {
            out[i].segments += 1;
            out[i].largest = out[i].largest.max(len);
        }
    }
    out
}

/// Pair the runs by check and explain every difference, once per root cause: a check
/// that failed as a consequence of an earlier one is named in that one's explanation.
pub fn compare(
    title: String,
    mut loopback: Vec<CheckResult>,
    mut network: Vec<CheckResult>,
    spans: &[Span],
    log: &Path,
    net: NetOptions,
) -> Compared {
    super::mark_consequences(&mut loopback);
    super::mark_consequences(&mut network);
    let differs = |far: &CheckResult| {
        loopback
            .iter()
            .find(|l| l.check == far.check)
            .filter(|lo| lo.pass != far.pass)
    };
    let mut notes = Vec::new();
    for far in &network {
        let Some(lo) = differs(far) else { continue };
        let failed = if far.pass { lo } else { far };
        if failed.consequence_of.is_some() {
            continue;
        }
        let followers: Vec<&str> = network
            .iter()
            .filter(|r| differs(r).is_some())
            .filter(|r| {
                let failed_side = if r.pass { differs(r) } else { Some(*r) };
                failed_side.is_some_and(|f| f.consequence_of == Some(far.check))
            })
            .map(|r| r.check)
            .collect();
        let traffic = span_of(far, spans).map(|s| carried(log, &s));
        notes.push((far.check, explain(lo, far, &followers, traffic, net)));
    }
    Compared {
        title,
        loopback,
        network,
        notes,
    }
}

/// When `r` was decided: its own span; for a check judged after the battery (`prints`),
/// the spans of the checks its evidence names ("during large"), else the whole run.
fn span_of(r: &CheckResult, spans: &[Span]) -> Option<Span> {
    if let Some(own) = spans.iter().find(|s| s.check == r.check) {
        return Some(*own);
    }
    let during = r
        .evidence
        .split_once("during ")
        .map_or("", |(_, rest)| rest);
    let named: Vec<&Span> = spans
        .iter()
        .filter(|s| during.split([',', ')', ' ']).any(|w| w == s.check))
        .collect();
    let chosen: Vec<&Span> = if named.is_empty() {
        spans.iter().collect()
    } else {
        named
    };
    let start = chosen.iter().map(|s| s.start).min()?;
    let end = chosen.iter().map(|s| s.end).max()?;
    Some(Span {
        check: r.check,
        start,
        end,
    })
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// One check's explanation: both verdicts, both evidences, the network during it, and
/// the likely cause, said as an inference.
fn explain(
    lo: &CheckResult,
    far: &CheckResult,
    followers: &[&str],
    traffic: Option<[Carried; 2]>,
    net: NetOptions,
) -> String {
    let verdict = if far.pass {
        "fails on loopback, passes across the network"
    } else {
        "passes on loopback, fails across the network"
    };
    let and_so = if followers.is_empty() {
        String::new()
    } else {
        format!(" (and so {})", followers.join(", "))
    };
    let mut out = format!("{}: {verdict}{and_so}.\n", far.check);
    out.push_str(&format!("    across the network: {}\n", far.evidence));
    out.push_str(&format!("    on loopback: {}\n", lo.evidence));
    let Some([c2s, s2c]) = traffic else {
        return out;
    };
    out.push_str(&format!(
        "    the network meanwhile (frame log): client→server {} TCP frames, {} of them \
         segments with data (the largest {} bytes), {} frames lost; server→client {} TCP \
         frames, {} with data (the largest {} bytes), {} lost\n",
        thousands(c2s.tcp_frames),
        thousands(c2s.segments),
        thousands(c2s.largest),
        c2s.dropped,
        thousands(s2c.tcp_frames),
        thousands(s2c.segments),
        thousands(s2c.largest),
        s2c.dropped
    ));
    out.push_str(&format!("    {}\n", inference(c2s, s2c, net)));
    out
}

/// The likely cause, from what the network carried, said as an inference.
fn inference(c2s: Carried, s2c: Carried, net: NetOptions) -> String {
    if c2s.tcp_frames == 0 {
        return format!(
            "probably: the client never tried the server's address: not one TCP frame left \
             the client host toward {}. A client that connects to 127.0.0.1 or 'localhost' \
             (written in the program) reaches only its own machine, which is the server \
             only on loopback: take the server's address from the command line ({{ip}} in the \
             command here, also in $LAB_IP)",
            crate::netlab::ns::SERVER_V4
        );
    }
    if c2s.segments + s2c.segments == 0 {
        return format!(
            "probably timing: no data crossed the network then, only connections and their \
             ends, each a {} ms round trip slower than on loopback",
            net.delay_ms * 2.0
        );
    }
    let lost = c2s.dropped + s2c.dropped;
    let resent = if lost > 0 {
        format!(", and {lost} frames were lost (TCP sends lost data again: later, cut differently)")
    } else {
        String::new()
    };
    format!(
        "probably: your program depends on how the bytes are cut into reads and when they \
         come: across the network they came in segments of at most {} bytes, in flights a {} \
         ms round trip apart{resent}; loopback's MTU is {}, so there up to about 64 kB come \
         in one segment at once (the checks see the wire, not your recv() calls: hence \
         \"probably\")",
        thousands(c2s.largest.max(s2c.largest)),
        net.delay_ms * 2.0,
        loopback_mtu(),
    )
}

/// Loopback's MTU on this machine (65,536 on Linux by default).
fn loopback_mtu() -> String {
    std::fs::read_to_string("/sys/class/net/lo/mtu")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map_or_else(|| "unknown".to_string(), thousands)
}

/// The side-by-side table, the explanations, the fixes and a total line.
pub fn table(c: &Compared) -> String {
    let mut out = format!("{}\n", c.title);
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.force_no_tty();
    t.set_content_arrangement(ContentArrangement::Disabled);
    t.set_header(vec!["check", "loopback", "network", "evidence (network)"]);
    let word = |pass: bool| if pass { "pass" } else { "FAIL" };
    for far in &c.network {
        let lo = c.on_loopback(far.check).map_or("-", |l| word(l.pass));
        t.add_row(vec![
            far.check.to_string(),
            lo.to_string(),
            word(far.pass).to_string(),
            far.evidence.clone(),
        ]);
    }
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if !c.notes.is_empty() {
        out.push_str("\nOnly on one side\n");
        for (_, note) in &c.notes {
            out.push_str(&format!("  {note}"));
        }
    }
    let fixes: Vec<&CheckResult> = c
        .network
        .iter()
        .chain(&c.loopback)
        .filter(|r| !r.pass && !r.fix.is_empty())
        .collect();
    let mut seen = Vec::new();
    for r in fixes {
        if !seen
            .iter()
            .any(|(check, _): &(&str, &str)| *check == r.check)
        {
            seen.push((r.check, &r.fix));
        }
    }
    if !seen.is_empty() {
        out.push_str("\nHow to fix\n");
        let width = seen.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
        for (check, fix) in seen {
            out.push_str(&format!("  {check:width$}  {fix}\n"));
        }
    }
    let passed = |rs: &[CheckResult]| rs.iter().filter(|r| r.pass).count();
    out.push_str(&format!(
        "\n{} of {} checks passed on loopback, {} of {} across the network\n",
        passed(&c.loopback),
        c.loopback.len(),
        passed(&c.network),
        c.network.len()
    ));
    out
}

/// One JSON object per check and run (`"run": "loopback"` or `"network"`), then one
/// per difference (`"check"`, `"note"`).
pub fn json(c: &Compared) -> String {
    let mut out = String::new();
    for (run, results) in [("loopback", &c.loopback), ("network", &c.network)] {
        for r in results {
            if let Ok(Value::Object(mut o)) = serde_json::to_value(r) {
                o.insert("run".into(), Value::from(run));
                out.push_str(&Value::Object(o).to_string());
                out.push('\n');
            }
        }
    }
    for (check, note) in &c.notes {
        out.push_str(&serde_json::json!({"check": check, "note": note}).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs_f64(secs)
    }

    fn net() -> NetOptions {
        NetOptions {
            delay_ms: 10.0,
            loss_pct: 1.0,
            seed: 1,
        }
    }

    /// A frame log: (ts, dir, proto, len, decision) per line.
    fn log(name: &str, frames: &[(f64, &str, &str, u64, &str)]) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("labnet-compare-{name}-{}", std::process::id()));
        let lines: Vec<String> = frames
            .iter()
            .map(|(ts, dir, proto, len, decision)| {
                serde_json::json!({"ts": ts, "dir": dir, "proto": proto, "len": len,
                    "decision": decision})
                .to_string()
            })
            .collect();
        std::fs::write(&path, lines.join("\n")).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1448), "1,448");
        assert_eq!(thousands(100_009), "100,009");
        assert_eq!(thousands(65_536), "65,536");
    }

    #[test]
    fn carried_counts_only_the_span() {
        let path = log(
            "span",
            &[
                (9.0, "c2s", "tcp", 1448, "pass"), // before the span
                (10.1, "c2s", "tcp", 1448, "delay"),
                (10.2, "c2s", "tcp", 0, "delay"),
                (10.3, "c2s", "tcp", 1448, "drop"),
                (10.4, "s2c", "tcp", 700, "delay"),
                (10.5, "s2c", "arp", 0, "pass"),
                (12.0, "s2c", "tcp", 1448, "pass"), // after it
            ],
        );
        let span = Span {
            check: "large",
            start: at(10.0),
            end: at(11.0),
        };
        let [c2s, s2c] = carried(&path, &span);
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            c2s,
            Carried {
                segments: 1,
                largest: 1448,
                dropped: 1,
                tcp_frames: 3
            }
        );
        assert_eq!(
            s2c,
            Carried {
                segments: 1,
                largest: 700,
                dropped: 0,
                tcp_frames: 1
            }
        );
    }

    #[test]
    fn one_note_per_root_cause_with_its_consequences_named() {
        let path = log("none", &[]);
        let ok = |c| CheckResult::pass(c, "fine");
        let fail = |c| CheckResult::fail(c, "the program exited without connecting", "connect");
        let spans = [Span {
            check: "the client's run",
            start: at(0.0),
            end: at(1.0),
        }];
        let c = compare(
            "t".into(),
            vec![ok("connects"), ok("format"), ok("closes")],
            vec![fail("connects"), fail("format"), fail("closes")],
            &spans,
            &path,
            net(),
        );
        let _ = std::fs::remove_file(&path);
        assert_eq!(c.notes.len(), 1, "{:?}", c.notes);
        let (check, note) = &c.notes[0];
        assert_eq!(*check, "connects");
        assert!(note.contains("fails across the network (and so format, closes)"));
        // Not one TCP frame: the client never tried the server's address.
        assert!(
            note.contains("not one TCP frame left the client host"),
            "{note}"
        );
        assert_eq!(c.failures(), 3);
        assert!(table(&c).contains("3 of 3 checks passed on loopback, 0 of 3 across"));
    }

    #[test]
    fn a_check_judged_after_the_battery_uses_the_spans_it_names() {
        let spans = [
            Span {
                check: "echo",
                start: at(1.0),
                end: at(2.0),
            },
            Span {
                check: "large",
                start: at(5.0),
                end: at(6.0),
            },
        ];
        let prints = CheckResult::fail("prints", "3 are not (during large); the first", "x");
        let s = span_of(&prints, &spans).unwrap_or_else(|| panic!("no span"));
        assert_eq!((s.start, s.end), (at(5.0), at(6.0)));
        let other = CheckResult::fail("prints", "nothing printed", "x");
        let s = span_of(&other, &spans).unwrap_or_else(|| panic!("no span"));
        assert_eq!((s.start, s.end), (at(1.0), at(6.0)));
    }
}
