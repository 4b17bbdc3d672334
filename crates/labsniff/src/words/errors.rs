//! What to do about a failure, said after it on the same line: the command that gets
//! capture rights, the interfaces that exist. The facts (the interfaces, the program's
//! path) are gathered by the caller.

use crate::source::SourceError;

/// What the hint may name.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The network interfaces of this machine (/sys/class/net), sorted.
    pub interfaces: Vec<String>,
    /// This program's path, for `setcap`.
    pub program: Option<String>,
}

/// `; ...` to append to the error's line, or nothing.
pub fn hint(e: &SourceError, cx: &Context) -> String {
    match e {
        SourceError::OpenInterface { interface, reason } if permission(reason) => {
            let program = cx.program.as_deref().unwrap_or("labsniff");
            format!(
                "; capturing needs root or two capabilities: run it with sudo (sudo labsniff -i {interface} ...), \
                 or allow this program once: sudo setcap cap_net_raw,cap_net_admin=eip {program}"
            )
        }
        SourceError::OpenInterface { reason, .. }
            if reason.contains("No such device") && !cx.interfaces.is_empty() =>
        {
            format!(
                "; the interfaces here are {} (or any, for all of them; lo is loopback, where client and server on one machine talk)",
                cx.interfaces.join(", ")
            )
        }
        _ => String::new(),
    }
}

fn permission(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("permission") || r.contains("not permitted")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(reason: &str) -> SourceError {
        SourceError::OpenInterface {
            interface: "lo".into(),
            reason: reason.into(),
        }
    }

    #[test]
    fn permission_names_sudo_and_setcap() {
        let cx = Context {
            interfaces: vec![],
            program: Some("/usr/local/bin/labsniff".into()),
        };
        let h = hint(&iface("socket: Operation not permitted"), &cx);
        assert!(h.contains("sudo labsniff -i lo"), "{h}");
        assert!(
            h.contains("sudo setcap cap_net_raw,cap_net_admin=eip /usr/local/bin/labsniff"),
            "{h}"
        );
    }

    #[test]
    fn a_missing_interface_lists_those_that_exist() {
        let cx = Context {
            interfaces: vec!["eth0".into(), "lo".into()],
            program: None,
        };
        let h = hint(&iface("No such device exists"), &cx);
        assert!(
            h.starts_with("; the interfaces here are eth0, lo (or any"),
            "{h}"
        );
        assert_eq!(
            hint(&iface("No such device exists"), &Context::default()),
            ""
        );
    }
}
