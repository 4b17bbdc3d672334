//! Ports: which ephemeral range a client port falls in and what that suggests, and
//! why a lab port was analysed (`--port auto`).

use super::thousands;

/// Which ephemeral range a client port falls in, and what that suggests; `link` is the
/// capture's link type (a BSD/macOS loopback capture says the capturing host is no
/// Linux, so a port in Linux's range does not suggest Linux there).
pub fn port_range(port: u16, link: Option<&str>) -> String {
    if matches!(link, Some("null" | "loop")) {
        return bsd_port_range(port);
    }
    const LINUX: &str = "Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range)";
    const IANA: &str = "the IANA ephemeral range (49152–65535) that macOS and Windows use";
    match port {
        0..=1023 => format!(
            "{port} is a privileged port, in no ephemeral range: the client must have called bind() \
             on it (as root) before connecting"
        ),
        1024..=32767 => format!(
            "{port} lies below both {LINUX} and {IANA}: the client probably chose it with bind() \
             (or its system uses another range)"
        ),
        32768..=49151 => format!("{port} lies in {LINUX}, below {IANA}: the client most likely runs Linux"),
        49152..=60999 => format!("{port} lies in both {LINUX} and {IANA}"),
        61000..=65535 => format!("{port} lies in {IANA}, above {LINUX}"),
    }
}

/// [`port_range`] said of several client ports at once: the same sentence for every
/// port of one range (the report says it once for all clients whose ports share it).
pub fn ports_range(port: u16, link: Option<&str>) -> String {
    const PRIVILEGED: &str =
        "privileged ports, in no ephemeral range: each client must have called \
                              bind() on its port (as root) before connecting";
    if matches!(link, Some("null" | "loop")) {
        if port < 1024 {
            return PRIVILEGED.to_string();
        }
        return bsd_port_range(port);
    }
    const LINUX: &str = "Linux's ephemeral range (32768–60999, net.ipv4.ip_local_port_range)";
    const IANA: &str = "the IANA ephemeral range (49152–65535) that macOS and Windows use";
    match port {
        0..=1023 => PRIVILEGED.to_string(),
        1024..=32767 => format!(
            "all lie below both {LINUX} and {IANA}: the clients probably chose them with bind() \
             (or their system uses another range)"
        ),
        32768..=49151 => {
            format!("all lie in {LINUX}, below {IANA}: the clients most likely run Linux")
        }
        49152..=60999 => format!("all lie in both {LINUX} and {IANA}"),
        61000..=65535 => format!("all lie in {IANA}, above {LINUX}"),
    }
}

/// [`port_range`] for a capture with the BSD loopback link type (DLT_NULL / DLT_LOOP).
fn bsd_port_range(port: u16) -> String {
    if port < 1024 {
        return format!(
            "{port} is a privileged port, in no ephemeral range: the client must have called bind() \
             on it (as root) before connecting"
        );
    }
    "this capture has the BSD loopback link type (DLT_NULL or DLT_LOOP), which macOS and the BSDs \
     write on their loopback interface, so it was probably made on one of them, not on Linux; their \
     default ephemeral ranges differ (macOS: 49152–65535, net.inet.ip.portrange.first/last), so the \
     port alone does not tell the client's system"
        .to_string()
}

/// Whether the report may call `port` an ephemeral port the kernel picked: it lies in
/// some system's default ephemeral range (ports below 32768 on a non-BSD capture, and
/// privileged ports, were more likely chosen with bind()).
pub fn looks_ephemeral(port: u16, link: Option<&str>) -> bool {
    match link {
        Some("null" | "loop") => port >= 1024,
        _ => port >= 32768,
    }
}

/// Why `port` was analysed, when it was not simply given or the default in use:
/// "port 5005 unused; 5,000 TCP conversations on port 15099 carry v3".
pub fn port_choice(choice: &crate::event::PortChoice, port: u16) -> Option<String> {
    use crate::event::How;
    let found = || {
        let transport = choice.transport.map(|t| t.as_str().to_uppercase());
        let (noun, verb) = if choice.conversations == 1 {
            ("conversation", "carries")
        } else {
            ("conversations", "carry")
        };
        format!(
            "{} {} {noun} on port {port} {verb} {}",
            thousands(choice.conversations),
            transport.unwrap_or_default(),
            choice.proto.map_or("lab messages", labproto::Proto::as_str)
        )
    };
    match choice.how {
        How::Given => None,
        How::Default if choice.conversations == 0 => None,
        How::Default => Some(found()),
        How::Found => {
            let default = if choice.default_port_used {
                format!("port {} has fewer lab-like conversations", choice.default_port)
            } else {
                format!("port {} unused", choice.default_port)
            };
            Some(format!("{default}; {}", found()))
        }
        How::NoneFound => Some(format!(
            "no conversation on any port carries text, v2 or v3 (port {port}, the default, analysed)"
        )),
        How::NotSearched => Some(format!(
            "port {port}: the input cannot be read twice, so no other port was searched"
        )),
    }
}
