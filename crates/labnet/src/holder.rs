//! Who holds a port: when a bind fails with "address already in use", the process
//! listening there (from /proc/net/{tcp,tcp6,udp,udp6}: the socket's inode, then the
//! process whose open files include it), so the error can name it. Best effort: other
//! users' processes are only visible to root; then nothing is named.

use std::path::Path;

/// A process that has a socket open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its command line, spaces between the arguments (at most 80 characters).
    pub command: String,
}

/// TCP's LISTEN state in /proc/net/tcp.
const TCP_LISTEN: &str = "0A";

/// The process holding local `port` (`udp`: a UDP socket; else a listening TCP one).
pub fn holder(port: u16, udp: bool) -> Option<Holder> {
    let tables: [&str; 2] = if udp {
        ["/proc/net/udp", "/proc/net/udp6"]
    } else {
        ["/proc/net/tcp", "/proc/net/tcp6"]
    };
    let inode = tables
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .find_map(|table| inode_of(&table, port, udp))?;
    process_with(inode)
}

/// The inode of the socket on local `port` in one /proc/net table.
fn inode_of(table: &str, port: u16, udp: bool) -> Option<u64> {
    table.lines().skip(1).find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        let (local, state, inode) = (f.get(1)?, f.get(3)?, f.get(9)?);
        let p = u16::from_str_radix(local.rsplit(':').next()?, 16).ok()?;
        let wanted = p == port && (udp || *state == TCP_LISTEN);
        wanted
            .then(|| inode.parse().ok())
            .flatten()
            .filter(|&i| i != 0)
    })
}

/// The first process (by pid) with `socket:[inode]` among its open files.
fn process_with(inode: u64) -> Option<Holder> {
    let wanted = format!("socket:[{inode}]");
    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    pids.into_iter().find_map(|pid| {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        let has = fds.filter_map(Result::ok).any(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|t| t.as_os_str() == wanted.as_str())
        });
        has.then(|| Holder {
            pid,
            command: command_line(&Path::new("/proc").join(pid.to_string()).join("cmdline")),
        })
    })
}

fn command_line(path: &Path) -> String {
    let raw = std::fs::read(path).unwrap_or_default();
    let text: String = raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| {
            // One line: an argument's newlines and tabs (python3 -c '...') as spaces.
            String::from_utf8_lossy(a)
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > 80 {
        let cut: String = text.chars().take(79).collect();
        format!("{cut}…")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_socket_is_found_in_the_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
            0: 00000000:138D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n\
            1: 0100007F:138D 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 777 1\n";
        assert_eq!(inode_of(table, 5005, false), Some(4242));
        assert_eq!(inode_of(table, 5006, false), None);
        // A UDP table has no LISTEN state: any socket on the port.
        assert_eq!(inode_of(table, 5005, true), Some(4242));
    }

    #[test]
    fn a_listener_of_this_process_is_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let h = holder(port, false).expect("this process holds it");
        assert_eq!(h.pid, std::process::id());
        assert!(!h.command.is_empty());
    }
}
