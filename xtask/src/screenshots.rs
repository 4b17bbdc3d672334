//! `cargo xtask screenshots`: PNG screenshots of labsniff's HTML pages for the README
//! (docs/screenshots/), made with Debian's Chromium driven over the DevTools protocol
//! (the driver of labsniff's browser test, test-support/devtools.rs), from file:// with
//! the network off: a lossy v3 exchange (its ladder at the retransmission, with the
//! frame's details, then its graphs) and an iterative server with two clients.

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

/// (capture in tests/fixtures/netlab, PNG name, script run before the shot).
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
];

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
    for (capture, png, script) in SHOTS {
        let pcap = root
            .join("crates/labsniff/tests/fixtures/netlab")
            .join(capture);
        let html = pages.join(capture).with_extension("html");
        page(&labsniff, &pcap, &html)?;
        browser
            .open_offline(&html, WIDTH, HEIGHT)
            .map_err(|e| anyhow!(e))?;
        browser
            .eval(&format!("(function () {{ {script} }}())"))
            .map_err(|e| anyhow!(e))?;
        let size = browser.screenshot(&out.join(png)).map_err(|e| anyhow!(e))?;
        eprintln!("xtask: docs/screenshots/{png} ({size} bytes)");
    }
    let errors = browser.errors();
    let remote = browser.remote_requests();
    if !errors.is_empty() || !remote.is_empty() {
        bail!("the pages had script errors {errors:?} or requests {remote:?}");
    }
    Ok(())
}

/// `labsniff -r PCAP --html HTML`.
fn page(labsniff: &Path, pcap: &Path, html: &Path) -> Result<()> {
    let status = Command::new(labsniff)
        .arg("-r")
        .arg(pcap)
        .arg("--html")
        .arg(html)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("labsniff --html {} failed ({status})", pcap.display());
    }
    Ok(())
}
