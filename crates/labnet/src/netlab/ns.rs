//! The namespaces and veth pairs of a lab, made and removed with the `ip` command
//! (iproute2) so that what labnet does can be retyped by hand:
//!
//! ```text
//!  NAME-server            NAME-mid (forwarder)            NAME-client
//!  veth-s 10.55.0.1 ===== mid-s        mid-c ===== veth-c 10.55.0.2
//!         fd55::1/64                                      fd55::2/64
//! ```
//! The addresses exist only inside these namespaces: no route leads out of them.

use std::process::{Command, Stdio};

/// The documented private /24 and ULA /64 of every lab.
pub const SERVER_V4: &str = "10.55.0.1";
pub const CLIENT_V4: &str = "10.55.0.2";
pub const SERVER_V6: &str = "fd55::1";
pub const CLIENT_V6: &str = "fd55::2";
pub const PREFIX_V4: u8 = 24;
pub const PREFIX_V6: u8 = 64;
/// Fixed MACs, so captures of two runs compare byte for byte.
pub const SERVER_MAC: &str = "02:55:00:00:00:01";
pub const CLIENT_MAC: &str = "02:55:00:00:00:02";
/// The forwarder's side of each pair.
pub const MID_SERVER_SIDE: &str = "mid-s";
pub const MID_CLIENT_SIDE: &str = "mid-c";
pub const MTU: u32 = 1500;

/// The three namespace names of the lab called `name`.
#[derive(Debug, Clone)]
pub struct Names {
    pub server: String,
    pub client: String,
    pub mid: String,
}

impl Names {
    pub fn of(name: &str) -> Names {
        Names {
            server: format!("{name}-server"),
            client: format!("{name}-client"),
            mid: format!("{name}-mid"),
        }
    }
    pub fn all(&self) -> [&str; 3] {
        [&self.server, &self.client, &self.mid]
    }
}

/// Run a command; on failure the error names the command and quotes its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "'{program} {}' failed: {}",
            args.join(" "),
            err.trim().lines().next().unwrap_or("no message")
        ))
    }
}

/// The namespaces that exist now (from `ip netns list`).
pub fn existing_namespaces() -> Result<Vec<String>, String> {
    let out = Command::new("ip")
        .args(["netns", "list"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run ip (install iproute2): {e}"))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect())
}

/// Those of this lab's namespaces that exist.
pub fn present(names: &Names) -> Result<Vec<String>, String> {
    let existing = existing_namespaces()?;
    Ok(names
        .all()
        .iter()
        .filter(|n| existing.iter().any(|e| e == *n))
        .map(|n| n.to_string())
        .collect())
}

/// Delete whichever of the lab's namespaces exist (their veths go with them).
pub fn delete(names: &Names) -> Result<Vec<String>, String> {
    let present = present(names)?;
    for ns in &present {
        run("ip", &["netns", "delete", ns])?;
    }
    Ok(present)
}

fn sysctl(ns: &str, key_value: &str) -> Result<(), String> {
    run("ip", &["netns", "exec", ns, "sysctl", "-qw", key_value])
}

/// One end host: its veth up with its addresses, offloads off.
fn host(ns: &str, dev: &str, mac: &str, v4: &str, v6: &str) -> Result<(), String> {
    let mtu = MTU.to_string();
    run("ip", &["-n", ns, "link", "set", "lo", "up"])?;
    run(
        "ip",
        &["-n", ns, "link", "set", dev, "address", mac, "mtu", &mtu],
    )?;
    offloads_off(ns, dev)?;
    run(
        "ip",
        &[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{v4}/{PREFIX_V4}"),
            "dev",
            dev,
        ],
    )?;
    // nodad: the address is usable at once (no 1–2 s of duplicate address detection).
    run(
        "ip",
        &[
            "-n",
            ns,
            "addr",
            "add",
            &format!("{v6}/{PREFIX_V6}"),
            "dev",
            dev,
            "nodad",
        ],
    )?;
    run("ip", &["-n", ns, "link", "set", dev, "up"])
}

/// Segmentation and checksum offloads off, so the kernel really cuts segments at
/// the MSS (1460) and captures show real checksums, as on a physical NIC.
fn offloads_off(ns: &str, dev: &str) -> Result<(), String> {
    run(
        "ip",
        &[
            "netns", "exec", ns, "ethtool", "-K", dev, "tso", "off", "gso", "off", "gro", "off",
            "tx", "off", "rx", "off",
        ],
    )
}

/// Create the three namespaces and both veth pairs. On error the caller deletes
/// what was made.
pub fn create(names: &Names) -> Result<(), String> {
    for ns in names.all() {
        run("ip", &["netns", "add", ns])?;
    }
    // The middle is a pure layer-2 pump: no IPv6 of its own (no router
    // solicitations or MLD reports from it in the captures).
    sysctl(&names.mid, "net.ipv6.conf.all.disable_ipv6=1")?;
    sysctl(&names.mid, "net.ipv6.conf.default.disable_ipv6=1")?;
    for ns in [&names.server, &names.client] {
        // No router solicitations: nothing but the lab's traffic on the wire.
        sysctl(ns, "net.ipv6.conf.default.router_solicitations=0")?;
        sysctl(ns, "net.ipv6.conf.default.accept_ra=0")?;
    }
    run(
        "ip",
        &[
            "link",
            "add",
            "veth-s",
            "netns",
            &names.server,
            "type",
            "veth",
            "peer",
            "name",
            MID_SERVER_SIDE,
            "netns",
            &names.mid,
        ],
    )?;
    run(
        "ip",
        &[
            "link",
            "add",
            "veth-c",
            "netns",
            &names.client,
            "type",
            "veth",
            "peer",
            "name",
            MID_CLIENT_SIDE,
            "netns",
            &names.mid,
        ],
    )?;
    let mtu = MTU.to_string();
    for dev in [MID_SERVER_SIDE, MID_CLIENT_SIDE] {
        run("ip", &["-n", &names.mid, "link", "set", dev, "mtu", &mtu])?;
        offloads_off(&names.mid, dev)?;
        run("ip", &["-n", &names.mid, "link", "set", dev, "up"])?;
    }
    host(&names.server, "veth-s", SERVER_MAC, SERVER_V4, SERVER_V6)?;
    host(&names.client, "veth-c", CLIENT_MAC, CLIENT_V4, CLIENT_V6)?;
    Ok(())
}
