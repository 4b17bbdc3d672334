//! The impairment settings of a lab (what `up` and `set` accept) and the `--drop` rules.
//!
//! Kept apart from the model so the forwarder, the state file and the command line
//! share one definition, serialised as JSON in the state dir.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A direction through the forwarder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    /// Client host to server host.
    C2s,
    /// Server host to client host.
    S2c,
}

impl Dir {
    pub fn name(self) -> &'static str {
        match self {
            Dir::C2s => "c2s",
            Dir::S2c => "s2c",
        }
    }
    /// Index into per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Dir::C2s => 0,
            Dir::S2c => 1,
        }
    }
}

/// What a `--drop` rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DropKind {
    /// TCP segments with the SYN flag (SYN, and SYN-ACK in s2c).
    Syn,
    /// TCP segments carrying payload (retransmissions count too).
    Data,
    /// UDP datagrams.
    Udp,
    /// Every IPv4/IPv6 frame.
    Frame,
}

impl DropKind {
    pub fn name(self) -> &'static str {
        match self {
            DropKind::Syn => "syn",
            DropKind::Data => "data",
            DropKind::Udp => "udp",
            DropKind::Frame => "frame",
        }
    }
}

/// Drop the `nth` (1-based) frame of `kind` seen in direction `dir` since `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropRule {
    pub dir: Dir,
    pub kind: DropKind,
    pub nth: Vec<u64>,
}

impl fmt::Display for DropRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<String> = self.nth.iter().map(u64::to_string).collect();
        write!(
            f,
            "{}:{}:{}",
            self.dir.name(),
            self.kind.name(),
            list.join(",")
        )
    }
}

const DROP_FORMAT: &str = "expected DIR:KIND:N[,N...] such as c2s:syn:1,2 or s2c:data:3-5 \
                           (DIR c2s or s2c; KIND syn, data, udp or frame; N counts from 1)";

/// Parse one or more rules separated by ';' (`c2s:syn:1,2;s2c:data:5`).
pub fn parse_drop_spec(spec: &str) -> Result<Vec<DropRule>, String> {
    let mut rules = Vec::new();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        rules.push(parse_one_rule(part)?);
    }
    if rules.is_empty() {
        return Err(format!("bad --drop '{spec}': empty; {DROP_FORMAT}"));
    }
    Ok(rules)
}

fn parse_one_rule(part: &str) -> Result<DropRule, String> {
    let bad = |why: &str| format!("bad --drop '{part}': {why}; {DROP_FORMAT}");
    let fields: Vec<&str> = part.split(':').collect();
    let [dir, kind, list] = fields.as_slice() else {
        return Err(bad("not three fields separated by ':'"));
    };
    let dir = match dir.to_ascii_lowercase().as_str() {
        "c2s" => Dir::C2s,
        "s2c" => Dir::S2c,
        other => return Err(bad(&format!("direction '{other}' is not c2s or s2c"))),
    };
    let kind = match kind.to_ascii_lowercase().as_str() {
        "syn" => DropKind::Syn,
        "data" => DropKind::Data,
        "udp" => DropKind::Udp,
        "frame" => DropKind::Frame,
        other => {
            return Err(bad(&format!(
                "kind '{other}' is not syn, data, udp or frame"
            )))
        }
    };
    let mut nth = Vec::new();
    for item in list.split(',').map(str::trim) {
        let number = |s: &str| -> Result<u64, String> {
            match s.parse::<u64>() {
                Ok(0) => Err(bad("frames are counted from 1, not 0")),
                Ok(n) => Ok(n),
                Err(_) => Err(bad(&format!("'{s}' is not a positive whole number"))),
            }
        };
        match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (number(a)?, number(b)?);
                if b < a {
                    return Err(bad(&format!("range {a}-{b} goes backwards")));
                }
                if b - a >= 10_000 {
                    return Err(bad(&format!("range {a}-{b} is over 10000 frames")));
                }
                nth.extend(a..=b);
            }
            None => nth.push(number(item)?),
        }
    }
    nth.sort_unstable();
    nth.dedup();
    Ok(DropRule { dir, kind, nth })
}

/// Everything that decides a frame's fate. Percentages are 0–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// One-way delay added in each direction, milliseconds.
    pub delay_ms: f64,
    /// Uniform jitter ± this many ms around the delay (order is kept, see impair.rs).
    pub jitter_ms: f64,
    pub loss_pct: f64,
    pub reorder_pct: f64,
    pub duplicate_pct: f64,
    /// Link rate per direction in kbit/s; None: unlimited.
    pub rate_kbit: Option<u64>,
    pub seed: u64,
    pub drops: Vec<DropRule>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            delay_ms: 0.0,
            jitter_ms: 0.0,
            loss_pct: 0.0,
            reorder_pct: 0.0,
            duplicate_pct: 0.0,
            rate_kbit: None,
            seed: 1,
            drops: Vec::new(),
        }
    }
}

impl Settings {
    /// Check the ranges; the error names the option.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v, max) in [
            ("--delay", self.delay_ms, 60_000.0),
            ("--jitter", self.jitter_ms, 60_000.0),
            ("--loss", self.loss_pct, 100.0),
            ("--reorder", self.reorder_pct, 100.0),
            ("--duplicate", self.duplicate_pct, 100.0),
        ] {
            if !(v.is_finite() && (0.0..=max).contains(&v)) {
                return Err(format!("{name} {v} is out of range (0 to {max})"));
            }
        }
        let sum = self.loss_pct + self.reorder_pct + self.duplicate_pct;
        if sum > 100.0 {
            return Err(format!(
                "--loss + --reorder + --duplicate is {sum}%, over 100% (each frame gets at most one of them)"
            ));
        }
        if self.rate_kbit == Some(0) {
            return Err("--rate 0 would pass nothing; give kbit/s over 0 or leave it out".into());
        }
        Ok(())
    }

    /// One line for status and `up`'s summary.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "delay {} ms ± {} ms each way, loss {}%, reorder {}%, duplicate {}%, rate {}, seed {}",
            self.delay_ms,
            self.jitter_ms,
            self.loss_pct,
            self.reorder_pct,
            self.duplicate_pct,
            self.rate_kbit
                .map_or_else(|| "unlimited".to_string(), |r| format!("{r} kbit/s")),
            self.seed
        );
        if !self.drops.is_empty() {
            let rules: Vec<String> = self.drops.iter().map(ToString::to_string).collect();
            s.push_str(&format!(", drop {}", rules.join(";")));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_specs_parse() {
        let r = parse_drop_spec("c2s:syn:1,2").unwrap();
        assert_eq!(
            r,
            vec![DropRule {
                dir: Dir::C2s,
                kind: DropKind::Syn,
                nth: vec![1, 2]
            }]
        );
        let r = parse_drop_spec("c2s:data:5; s2c:frame:3-5,9").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].nth, vec![3, 4, 5, 9]);
        assert_eq!(r[1].to_string(), "s2c:frame:3,4,5,9");
    }

    #[test]
    fn bad_drop_specs_say_what_is_wrong() {
        let cases = [
            ("c2s:syn", "not three fields"),
            ("up:syn:1", "direction 'up' is not c2s or s2c"),
            ("c2s:fin:1", "kind 'fin' is not syn, data, udp or frame"),
            ("c2s:syn:0", "counted from 1"),
            ("c2s:syn:x", "'x' is not a positive whole number"),
            ("c2s:syn:5-2", "goes backwards"),
            ("", "empty"),
        ];
        for (spec, want) in cases {
            let e = parse_drop_spec(spec).unwrap_err();
            assert!(e.contains(want), "{spec}: {e}");
            assert!(
                e.contains("c2s:syn:1,2"),
                "{spec}: the error shows an example: {e}"
            );
        }
    }

    #[test]
    fn settings_ranges_are_checked() {
        let ok = Settings::default();
        assert!(ok.validate().is_ok());
        let s = Settings {
            loss_pct: 101.0,
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().contains("--loss 101"));
        let s = Settings {
            loss_pct: 60.0,
            reorder_pct: 50.0,
            ..Settings::default()
        };
        assert!(s.validate().unwrap_err().contains("over 100%"));
    }
}
