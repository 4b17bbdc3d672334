//! `cargo xtask screenshots`: PNG screenshots of labsniff's HTML pages for the README
//! (docs/screenshots/), made with Debian's Chromium driven over the DevTools protocol
//! (the driver of labsniff's browser test, test-support/devtools.rs), from file:// with
//! the network off: a lossy v3 exchange (its ladder at the retransmission, with the
//! frame's details, then its graphs, then both ends in one ladder with
//! `--peer-capture`), an iterative server with two clients, and the class page of
//! `labsniff grade --exercise 3.2 --html` over the netlab captures.

#[path = "../../test-support/devtools.rs"]
mod devtools;

use crate::util::{cargo, root, run};
use anyhow::{anyhow, bail, Result};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The viewport of every screenshot.
const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;

/// (capture in tests/fixtures/netlab [with its peer capture after a space], PNG name,
/// script run before the shot).
const SHOTS: &[(&str, &str, &str)] = &[
    (
        "loss_v3_100k.client.pcap",
        "loss_v3_100k-ladder.png",
        "var g = document.querySelector('svg[data-graph=ladder] g[data-flags~=retransmission]')
           || document.querySelector('svg[data-graph=ladder] g[data-flags]');
         g.scrollIntoView({block: 'center'});
         g.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));",
    ),
    (
        "loss_v3_100k.client.pcap",
        "loss_v3_100k-graphs.png",
        "document.getElementById('details').hidden = true;
         document.querySelector('svg[data-graph=time-sequence]').previousElementSibling
           .previousElementSibling.scrollIntoView({block: 'start'});",
    ),
    (
        "iterative_server.server.pcap",
        "iterative_server.png",
        "window.scrollTo(0, 0);",
    ),
    (
        "loss_v3_100k.client.pcap loss_v3_100k.server.pcap",
        "loss_v3_100k-both-ends.png",
        "var g = document.querySelector('svg[data-graph=ladder] g[data-lost=between]');
         g.scrollIntoView({block: 'center'});
         g.querySelector('rect').dispatchEvent(new MouseEvent('click', {bubbles: true}));",
    ),
];

/// The class page's shot: the grade table of exercise 3.2 over every netlab capture.
const CLASS_PNG: &str = "class.png";

pub fn main(_args: &[String]) -> Result<()> {
    crate::deps::ensure_chromium()?;
    run(
        "build labsniff",
        cargo().args(["build", "--quiet", "-p", "labsniff"]),
    )?;
    let root = root();
    let labsniff = root.join("target/debug/labsniff");
    let pages = root.join("target/screenshots");
    let out = root.join("docs/screenshots");
    std::fs::create_dir_all(&pages)?;
    std::fs::create_dir_all(&out)?;
    let mut browser = devtools::Browser::launch(Duration::from_secs(20)).map_err(|e| match e {
        devtools::Unavailable::Missing(why) | devtools::Unavailable::Failed(why) => anyhow!(why),
    })?;
    let netlab = root.join("crates/labsniff/tests/fixtures/netlab");
    for (captures, png, script) in SHOTS {
        let mut names = captures.split(' ');
        let pcap = netlab.join(names.next().unwrap_or_default());
        let peer = names.next().map(|p| netlab.join(p));
        let html = pages.join(png).with_extension("html");
        page(&labsniff, &pcap, peer.as_deref(), &html)?;
        browser
            .open_offline(&html, WIDTH, HEIGHT)
            .map_err(|e| anyhow!(e))?;
        browser
            .eval(&format!("(function () {{ {script} }}())"))
            .map_err(|e| anyhow!(e))?;
        let size = browser.screenshot(&out.join(png)).map_err(|e| anyhow!(e))?;
        eprintln!("xtask: docs/screenshots/{png} ({size} bytes)");
    }
    let class = pages.join("class.html");
    class_page(&labsniff, &netlab, &class)?;
    browser
        .open_offline(&class, WIDTH, HEIGHT)
        .map_err(|e| anyhow!(e))?;
    let size = browser
        .screenshot(&out.join(CLASS_PNG))
        .map_err(|e| anyhow!(e))?;
    eprintln!("xtask: docs/screenshots/{CLASS_PNG} ({size} bytes)");
    let errors = browser.errors();
    let remote = browser.remote_requests();
    if !errors.is_empty() || !remote.is_empty() {
        bail!("the pages had script errors {errors:?} or requests {remote:?}");
    }
    Ok(())
}

/// `labsniff -r PCAP --html HTML [--peer-capture PEER]`.
fn page(labsniff: &Path, pcap: &Path, peer: Option<&Path>, html: &Path) -> Result<()> {
    let mut cmd = Command::new(labsniff);
    cmd.arg("-r").arg(pcap).arg("--html").arg(html);
    if let Some(p) = peer {
        cmd.arg("--peer-capture").arg(p);
    }
    let status = cmd.stdout(std::process::Stdio::null()).status()?;
    if !status.success() {
        bail!("labsniff --html {} failed ({status})", pcap.display());
    }
    Ok(())
}

/// `labsniff grade --exercise 3.2 NETLAB/*.pcap --html HTML` (a failing grade is no
/// error here: the page shows it).
fn class_page(labsniff: &Path, netlab: &Path, html: &Path) -> Result<()> {
    let mut captures: Vec<std::path::PathBuf> = std::fs::read_dir(netlab)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    captures.sort();
    let status = Command::new(labsniff)
        .args(["grade", "--exercise", "3.2"])
        .args(&captures)
        .arg("--html")
        .arg(html)
        .stdout(std::process::Stdio::null())
        .status()?;
    // 11: some capture misses a requirement (labsniff's GRADE_FAILED).
    if !matches!(status.code(), Some(0 | 11)) {
        bail!("labsniff grade --html failed ({status})");
    }
    Ok(())
}
