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
            // Without rights libpcap fails before it looks for the interface: a
            // misspelt name must still be said, or sudo only brings the next error.
            let missing = if unknown(interface, cx) {
                format!(
                    "; there is no interface {interface} here: {}; and",
                    interface_list(cx)
                )
            } else {
                ";".to_string()
            };
            format!(
                "{missing} capturing needs root or two capabilities: run it with sudo (sudo labsniff -i {interface} ...), \
                 or allow this program once: sudo setcap cap_net_raw,cap_net_admin=eip {program}"
            )
        }
        SourceError::OpenInterface { reason, .. }
            if reason.contains("No such device") && !cx.interfaces.is_empty() =>
        {
            format!("; {}", interface_list(cx))
        }
        _ => String::new(),
    }
}

/// `interface` is none of this machine's (known only when the list was read).
fn unknown(interface: &str, cx: &Context) -> bool {
    !cx.interfaces.is_empty() && interface != "any" && !cx.interfaces.iter().any(|i| i == interface)
}

fn interface_list(cx: &Context) -> String {
    format!(
        "the interfaces here are {} (or any, for all of them; lo is loopback, where client and server on one machine talk)",
        cx.interfaces.join(", ")
    )
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

    #[test]
    fn without_rights_a_misspelt_interface_is_said_too() {
        let cx = Context {
            interfaces: vec!["eth0".into(), "lo".into()],
            program: None,
        };
        let denied = SourceError::OpenInterface {
            interface: "eth7".into(),
            reason: "socket: Operation not permitted".into(),
        };
        let h = hint(&denied, &cx);
        assert!(
            h.starts_with("; there is no interface eth7 here: the interfaces here are eth0, lo"),
            "{h}"
        );
        assert!(h.contains("sudo labsniff -i eth7"), "{h}");
        // A known interface: only the rights.
        let h = hint(&iface("socket: Operation not permitted"), &cx);
        assert!(h.starts_with("; capturing needs root"), "{h}");
    }
}
