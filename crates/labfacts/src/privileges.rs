//! Dropping root after the capture is open, as tcpdump's `-Z` does: a sniffer parses
//! bytes that anyone on the network chose, so it should not parse them as root.
//!
//! The user is looked up in /etc/passwd (no NSS call, so no unsafe pointer juggling);
//! the switch itself needs three libc calls.

use std::fmt;

/// A user to switch to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Why the privileges could not be dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrivilegeError {
    UnknownUser { name: String },
    Call { call: &'static str, errno: i32 },
}

impl fmt::Display for PrivilegeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrivilegeError::UnknownUser { name } => write!(
                f,
                "cannot drop privileges: no user '{name}' in /etc/passwd (choose one with -Z USER, or -Z root to keep root)"
            ),
            PrivilegeError::Call { call, errno } => write!(
                f,
                "cannot drop privileges: {call} failed ({})",
                std::io::Error::from_raw_os_error(*errno)
            ),
        }
    }
}

impl std::error::Error for PrivilegeError {}

/// Find `name` in passwd-format text.
pub fn lookup(passwd: &str, name: &str) -> Option<Account> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let user = fields.next()?;
        if user != name {
            return None;
        }
        let _password = fields.next()?;
        let uid = fields.next()?.parse().ok()?;
        let gid = fields.next()?.parse().ok()?;
        Some(Account {
            name: user.to_string(),
            uid,
            gid,
        })
    })
}

/// The effective user id, from /proc (Linux) — `None` where /proc is missing.
pub fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// True when running as root.
pub fn is_root() -> bool {
    effective_uid() == Some(0)
}

/// Become `name` (group first, then supplementary groups, then user: once the uid is
/// dropped the others could no longer be changed). `root` is a no-op.
pub fn drop_to(name: &str) -> Result<Option<Account>, PrivilegeError> {
    if name == "root" {
        return Ok(None);
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let account = lookup(&passwd, name).ok_or_else(|| PrivilegeError::UnknownUser {
        name: name.to_string(),
    })?;
    switch(&account)?;
    Ok(Some(account))
}

#[allow(unsafe_code)]
fn switch(account: &Account) -> Result<(), PrivilegeError> {
    let check = |call: &'static str, rc: libc::c_int| {
        if rc == 0 {
            Ok(())
        } else {
            Err(PrivilegeError::Call {
                call,
                errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            })
        }
    };
    // SAFETY: setgroups with a count of 0 never reads the (null) list pointer;
    // setgid and setuid take plain integers. None of the three touches Rust memory.
    // glibc applies set*id to every thread of the process, so no thread keeps root.
    check("setgroups", unsafe { libc::setgroups(0, std::ptr::null()) })?;
    check("setgid", unsafe { libc::setgid(account.gid) })?;
    check("setuid", unsafe { libc::setuid(account.uid) })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_in_passwd_text() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
        assert_eq!(
            lookup(passwd, "nobody"),
            Some(Account {
                name: "nobody".into(),
                uid: 65534,
                gid: 65534
            })
        );
        assert_eq!(lookup(passwd, "nob"), None);
        assert_eq!(lookup("broken:line", "broken"), None);
    }

    #[test]
    fn error_texts() {
        assert_eq!(
            PrivilegeError::UnknownUser { name: "zed".into() }.to_string(),
            "cannot drop privileges: no user 'zed' in /etc/passwd (choose one with -Z USER, or -Z root to keep root)"
        );
    }
}
