//! System dependencies: libpcap (needed to build labsniff) and, for the tests that
//! compare against real tools, tshark, tcpdump, strace and Chromium, and for netlab's root
//! tests iproute2 and ethtool.
//!
//! On Debian/Ubuntu as root they are installed with apt-get; elsewhere the exact
//! command to run is printed and libpcap's absence is an error.

use crate::util::{have, is_root, run};
use anyhow::{bail, Result};
use std::path::Path;
use std::process::Command;

/// A Debian package we may install, and how to tell it is already there.
struct Package {
    name: &'static str,
    present: fn() -> bool,
}

const LIBPCAP: Package = Package {
    name: "libpcap-dev",
    present: libpcap_present,
};

/// Tools the comparison tests use when present (they skip, saying so, when absent).
const TOOLS: &[Package] = &[
    Package {
        name: "tshark",
        present: || have("tshark"),
    },
    Package {
        name: "tcpdump",
        present: || have("tcpdump"),
    },
    Package {
        name: "strace",
        present: || have("strace"),
    },
    Package {
        name: "chromium",
        present: || have("chromium"),
    },
    // labnet netlab (its root tests and the fixtures' regen.sh): namespaces and
    // veths with `ip`, offloads off with `ethtool`.
    Package {
        name: "iproute2",
        present: || have("ip"),
    },
    Package {
        name: "ethtool",
        present: || have("ethtool"),
    },
    // `cargo xtask wheel --check` makes venvs (Debian's python3 lacks ensurepip
    // without it).
    Package {
        name: "python3-venv",
        present: python_venv_present,
    },
];

fn python_venv_present() -> bool {
    Command::new("python3")
        .args(["-c", "import ensurepip, venv"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn libpcap_present() -> bool {
    let header = ["/usr/include/pcap/pcap.h", "/usr/include/pcap.h"]
        .iter()
        .any(|p| Path::new(p).exists());
    let lib = [
        "/usr/lib/x86_64-linux-gnu/libpcap.so",
        "/usr/lib/aarch64-linux-gnu/libpcap.so",
        "/usr/lib/libpcap.so",
        "/usr/lib/libpcap.dylib",
        "/opt/homebrew/lib/libpcap.dylib",
    ]
    .iter()
    .any(|p| Path::new(p).exists());
    // macOS ships libpcap with the SDK.
    (header && lib) || cfg!(target_os = "macos")
}

/// Make sure libpcap is there; with `tools`, also try to install the comparison tools.
pub fn ensure(tools: bool) -> Result<()> {
    let mut missing: Vec<&Package> = Vec::new();
    if !(LIBPCAP.present)() {
        missing.push(&LIBPCAP);
    }
    if tools {
        missing.extend(TOOLS.iter().filter(|p| !(p.present)()));
    }
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|p| p.name).collect();
    let can_apt = cfg!(target_os = "linux") && have("apt-get") && is_root();
    if can_apt {
        run(
            "apt-get update",
            Command::new("apt-get").args(["update", "-qq"]),
        )?;
        let mut install = Command::new("apt-get");
        install
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&names);
        if let Err(e) = run(
            &format!("apt-get install {}", names.join(" ")),
            &mut install,
        ) {
            // Only libpcap is required; the tools just enable extra comparisons.
            if !(LIBPCAP.present)() {
                return Err(e);
            }
            eprintln!("xtask: warning: {e:#}; tests that need those tools will skip");
        }
    }
    if !(LIBPCAP.present)() {
        let how = if cfg!(target_os = "linux") {
            "sudo apt-get update && sudo apt-get install -y libpcap-dev   (Fedora: sudo dnf install libpcap-devel)"
        } else {
            "install libpcap's development files with your package manager"
        };
        bail!(
            "libpcap development files are missing; run:\n    {how}\nthen run this command again"
        );
    }
    Ok(())
}

/// netlab's commands (`ip`, `ethtool`), installed with apt-get when missing and we are
/// root on Debian/Ubuntu; the caller says what is needed if they are still absent.
pub fn ensure_netlab() -> Result<()> {
    let missing: Vec<&str> = TOOLS
        .iter()
        .filter(|p| matches!(p.name, "iproute2" | "ethtool") && !(p.present)())
        .map(|p| p.name)
        .collect();
    if missing.is_empty() || !(cfg!(target_os = "linux") && have("apt-get") && is_root()) {
        return Ok(());
    }
    run(
        "apt-get update",
        Command::new("apt-get").args(["update", "-qq"]),
    )?;
    run(
        &format!("apt-get install {}", missing.join(" ")),
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(&missing),
    )
}

/// Chromium for `cargo xtask screenshots`, installed with apt-get when missing and we
/// are root on Debian/Ubuntu; otherwise the command to run.
pub fn ensure_chromium() -> Result<()> {
    if have("chromium") {
        return Ok(());
    }
    if cfg!(target_os = "linux") && have("apt-get") && is_root() {
        run(
            "apt-get update",
            Command::new("apt-get").args(["update", "-qq"]),
        )?;
        run(
            "apt-get install chromium",
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args([
                    "install",
                    "-y",
                    "-qq",
                    "--no-install-recommends",
                    "chromium",
                ]),
        )?;
        return Ok(());
    }
    bail!("Chromium is missing: sudo apt-get install -y chromium")
}
