//! Exit codes: one per kind of failure a user fixes differently (EXIT_CODES.md).

use crate::source::SourceError;
use std::path::Path;

pub const RUNTIME: u8 = 1;
pub const USAGE: u8 = 2;
pub const FILE_MISSING: u8 = 3;
pub const PERMISSION_DENIED: u8 = 4;
pub const IS_A_DIRECTORY: u8 = 5;
pub const NOT_A_CAPTURE: u8 = 6;
pub const NO_SUCH_INTERFACE: u8 = 7;
pub const BAD_FILTER: u8 = 8;
pub const CANNOT_WRITE: u8 = 9;
pub const PRIVILEGES: u8 = 10;
/// `labsniff grade`: at least one file misses a requirement (or no file was given).
pub const GRADE_FAILED: u8 = 11;
/// Live capture, a BPF filter or `-w` asked for where libpcap cannot be loaded.
pub const NO_LIBPCAP: u8 = 12;

fn says_permission(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("permission") || r.contains("not permitted")
}

/// The process exit code for this failure.
pub fn of(error: &SourceError) -> u8 {
    match error {
        SourceError::OpenFile { path, reason } => {
            let p = Path::new(path);
            if says_permission(reason) {
                PERMISSION_DENIED
            } else if path == crate::source::STDIN {
                NOT_A_CAPTURE
            } else if p.is_dir() {
                IS_A_DIRECTORY
            } else if !p.exists() {
                FILE_MISSING
            } else {
                NOT_A_CAPTURE
            }
        }
        SourceError::OpenInterface { reason, .. } if says_permission(reason) => PERMISSION_DENIED,
        SourceError::OpenInterface { .. } => NO_SUCH_INTERFACE,
        SourceError::Filter { .. } => BAD_FILTER,
        SourceError::WriteFile { .. } => CANNOT_WRITE,
        SourceError::Privileges(_) => PRIVILEGES,
        SourceError::NoLibpcap { .. } => NO_LIBPCAP,
        SourceError::Output(_) => RUNTIME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, reason: &str) -> SourceError {
        SourceError::OpenFile {
            path: path.into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn each_kind_has_its_code() {
        assert_eq!(
            of(&file(
                "/no/such/file.pcap",
                "No such file or directory (os error 2)"
            )),
            FILE_MISSING
        );
        assert_eq!(of(&file("/", "it is a directory")), IS_A_DIRECTORY);
        assert_eq!(
            of(&file("/etc/hostname", "Permission denied (os error 13)")),
            PERMISSION_DENIED
        );
        assert_eq!(
            of(&file("/etc/hostname", "unknown file format")),
            NOT_A_CAPTURE
        );
        let iface = |reason: &str| SourceError::OpenInterface {
            interface: "eth9".into(),
            reason: reason.into(),
        };
        assert_eq!(
            of(&iface("You don't have permission to capture on that device (socket: Operation not permitted)")),
            PERMISSION_DENIED
        );
        assert_eq!(of(&iface("No such device exists")), NO_SUCH_INTERFACE);
    }
}
