//! Why a trace line could not be read (labfacts' `syscalls::read::LineFault`), as the
//! JSON `trace` line's `reason` and the report say it.

use crate::syscalls::read::{LineFault, LINE_MAX};

/// `longer than 65536 bytes`, `no system call name`, ...
pub fn line_fault(fault: &LineFault) -> String {
    match fault {
        LineFault::TooLong => format!("longer than {LINE_MAX} bytes"),
        LineFault::TooManyUnfinished => "too many unfinished calls".to_string(),
        LineFault::ResumedWithoutUnfinished => "resumed without its unfinished line".to_string(),
        LineFault::NotStrace(e) => e.to_string(),
        LineFault::NotLabnetEvent(e) => format!("not a labnet trace event: {e}"),
    }
}
