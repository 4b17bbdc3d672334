//! The state dir of a lab (`/run/labnet-netlab/NAME/`): what `up` decided, so that
//! `status`, `set`, `exec` and `down` (other processes) find the lab again.
//! /run is a tmpfs: a reboot, which also removes the namespaces, clears it too.

use super::settings::Settings;
use serde::{Deserialize, Serialize};
use std::fs;
use std::path::{Path, PathBuf};

pub const RUN_DIR: &str = "/run/labnet-netlab";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub name: String,
    pub settings: Settings,
    /// The per-frame JSON lines.
    pub log: PathBuf,
    /// The forwarder's pid (0 until it is started).
    pub pid: u32,
    pub foreground: bool,
}

#[derive(Debug, Clone)]
pub struct StateDir {
    pub dir: PathBuf,
}

impl StateDir {
    pub fn of(name: &str) -> StateDir {
        StateDir {
            dir: Path::new(RUN_DIR).join(name),
        }
    }
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.join("control.sock")
    }
    pub fn stderr_file(&self) -> PathBuf {
        self.dir.join("forwarder.stderr")
    }
    pub fn default_log(&self) -> PathBuf {
        self.dir.join("frames.jsonl")
    }
    pub fn exists(&self) -> bool {
        self.dir.exists()
    }

    pub fn create(&self) -> Result<(), String> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create the state dir {}: {e}", self.dir.display()))
    }

    pub fn load(&self) -> Result<LabState, String> {
        let path = self.state_file();
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("{} is damaged: {e}", path.display()))
    }

    pub fn save(&self, state: &LabState) -> Result<(), String> {
        let path = self.state_file();
        let tmp = self.dir.join("state.json.tmp");
        let text = serde_json::to_string_pretty(state)
            .map_err(|e| format!("cannot encode the lab state: {e}"))?;
        // Write then rename: a reader never sees half a file.
        fs::write(&tmp, text + "\n")
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    pub fn remove(&self) -> Result<(), String> {
        match fs::remove_dir_all(&self.dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("cannot remove {}: {e}", self.dir.display())),
        }
    }
}

/// Whether `pid` is a running labnet forwarder (not a recycled pid of another program).
pub fn forwarder_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
    let is_zombie = fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false);
    !is_zombie && args.iter().any(|a| *a == b"netlab") && args.iter().any(|a| *a == b"forward")
}
