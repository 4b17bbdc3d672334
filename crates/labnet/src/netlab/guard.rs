//! A lab owned by one process (`labnet check ... --net`): brought up in-process with
//! the same code as `labnet netlab up` (forwarder in the background, nothing printed),
//! and removed when the guard is dropped, on every path that unwinds. Also the one
//! thing a process needs to use it without `ip netns exec`: moving a thread into one
//! of its hosts.

use super::settings::Settings;
use super::state::LabState;
use super::{check_can_run, failed, ns, Lab};
use crate::error::NetError;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Child;

/// A running lab, removed on drop.
#[derive(Debug)]
pub struct LabGuard {
    lab: Lab,
    forwarder: Option<Child>,
    log: PathBuf,
}

impl LabGuard {
    /// Bring lab `name` up with `settings` (root needed: [`NetError::NetlabNeeds`]
    /// otherwise). Leftovers of an earlier lab of that name are removed first.
    pub fn up(name: &str, settings: Settings) -> Result<LabGuard, NetError> {
        settings.validate().map_err(NetError::Usage)?;
        check_can_run()?;
        let lab = Lab::new(name);
        lab.teardown()?;
        lab.state.create().map_err(failed)?;
        let log = lab.state.default_log();
        let mut state = LabState {
            name: name.to_string(),
            settings,
            log: log.clone(),
            pid: 0,
            foreground: false,
        };
        // From here on the guard exists: any error below still removes the lab.
        let mut guard = LabGuard {
            lab,
            forwarder: None,
            log,
        };
        let (child, _scheduling) = guard.lab.create_and_start(&mut state, false)?;
        guard.forwarder = Some(child);
        Ok(guard)
    }

    /// The server host's namespace.
    pub fn server_ns(&self) -> &str {
        &self.lab.names.server
    }

    /// The client host's namespace.
    pub fn client_ns(&self) -> &str {
        &self.lab.names.client
    }

    /// The forwarder's per-frame JSON lines.
    pub fn frame_log(&self) -> &std::path::Path {
        &self.log
    }
}

impl Drop for LabGuard {
    fn drop(&mut self) {
        if let Err(e) = self.lab.teardown() {
            eprintln!(
                "labnet: removing lab '{}' failed: {e}; 'sudo labnet netlab --lab {} down' removes it",
                self.lab.name, self.lab.name
            );
        }
        if let Some(mut child) = self.forwarder.take() {
            // Stopped by teardown: reap it.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Move the calling thread (only it) into network namespace `name` (made by `ip netns
/// add`, so bound at /run/netns/NAME): sockets it creates from then on, and programs
/// it starts, belong to that host.
#[allow(unsafe_code)]
pub fn enter(name: &str) -> Result<(), NetError> {
    let path = format!("/run/netns/{name}");
    let file = std::fs::File::open(&path)
        .map_err(|e| failed(format!("cannot open the namespace {path}: {e}")))?;
    // SAFETY: setns() only reads the descriptor, which `file` keeps open for the call.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        return Err(failed(format!(
            "cannot enter the namespace {path}: {}",
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Labs named `prefix` + a process id whose process is gone (killed with SIGKILL,
/// which no guard survives): removed, and their names returned.
pub fn remove_orphans(prefix: &str) -> Vec<String> {
    let Ok(existing) = ns::existing_namespaces() else {
        return Vec::new();
    };
    let mut names: Vec<String> = existing
        .iter()
        .filter_map(|n| n.strip_suffix("-server"))
        .filter(|n| {
            n.strip_prefix(prefix)
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(str::to_string)
        .collect();
    names.retain(|n| Lab::new(n).teardown().is_ok());
    names
}
