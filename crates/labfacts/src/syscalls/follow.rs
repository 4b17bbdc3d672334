//! One trace's fd table: follows each socket fd through strace's calls (socket, bind,
//! connect, accept4, getsockname/getpeername, `-yy` annotations, epoll_ctl data) or
//! labnet's `--trace-events`, keeps the calls made on it (capped), and hands each
//! finished socket to the conversation index.

use super::calls::{
    CloneCall, Op, OpenSocket, SockCall, SocketCalls, TraceSummary, OPEN_MAX, THREADS_MAX,
};
use super::conv_index::ConvIndex;
use super::parse::{self, Call, Transport};
use super::read;
use std::collections::{BTreeMap, HashMap};

/// One call on a followed socket, as the trace gave it.
fn sock_call(c: &Call<'_>, name: &'static str, op: Op, asked: Option<u64>) -> SockCall {
    SockCall {
        tid: c.tid,
        ts: c.ts,
        dur: c.dur,
        call: name,
        op,
        asked,
        ret: c.ret,
        errno: c.errno.map(str::to_string),
    }
}

/// One trace's fd table and epoll registrations.
pub(super) struct Follower<'i, 'a> {
    trace: usize,
    index: &'i ConvIndex<'a>,
    open: HashMap<i64, OpenSocket>,
    /// epoll data → fd, from epoll_ctl.
    epoll: HashMap<u64, i64>,
    joined: Vec<SocketCalls>,
    summary: TraceSummary,
}

/// The names this module follows, as static strings (kept in every [`SockCall`]).
const NAMES: &[&str] = &[
    "socket",
    "bind",
    "listen",
    "connect",
    "accept",
    "accept4",
    "getsockname",
    "getpeername",
    "send",
    "sendto",
    "sendmsg",
    "write",
    "writev",
    "recv",
    "recvfrom",
    "recvmsg",
    "read",
    "readv",
    "shutdown",
    "close",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "clone",
    "clone3",
];

impl<'i, 'a> Follower<'i, 'a> {
    pub(super) fn new(trace: usize, index: &'i ConvIndex<'a>) -> Follower<'i, 'a> {
        Follower {
            trace,
            index,
            open: HashMap::new(),
            epoll: HashMap::new(),
            joined: Vec::new(),
            summary: TraceSummary::default(),
        }
    }

    pub(super) fn call(&mut self, c: &Call<'_>) {
        let Some(name) = NAMES.iter().copied().find(|n| *n == c.name) else {
            return;
        };
        if let Some(tid) = c.tid {
            if self.summary.threads.len() < THREADS_MAX && !self.summary.threads.contains(&tid) {
                self.summary.threads.push(tid);
            }
        }
        let first_fd = c.args.first().and_then(|a| parse::fd(a));
        // -yy: the annotation is the socket's current addresses.
        if let Some((fd, Some(tag))) = first_fd {
            self.annotate(fd, tag, c.ts);
        }
        let fd = first_fd.map(|(fd, _)| fd);
        let ok = c.ret.is_some_and(|r| r >= 0);
        let ready = c.ret.is_some_and(|r| r > 0);
        match name {
            "socket" => self.socket(c),
            "bind" | "getsockname" if ok => self.address(fd, c, false),
            "getpeername" if ok => self.address(fd, c, true),
            "connect" => self.connect(fd, c, ok),
            "accept" | "accept4" => self.accept(fd, c, name),
            "send" | "sendto" | "sendmsg" | "write" | "writev" => {
                self.push(fd, sock_call(c, name, Op::Send, asked(name, &c.args)));
            }
            "recv" | "recvfrom" | "recvmsg" | "read" | "readv" => {
                self.push(fd, sock_call(c, name, Op::Recv, asked(name, &c.args)));
            }
            "shutdown" => {
                let how = match c.args.get(1).copied() {
                    Some("SHUT_WR") => "SHUT_WR",
                    Some("SHUT_RD") => "SHUT_RD",
                    _ => "SHUT_RDWR",
                };
                self.push(fd, sock_call(c, name, Op::Shutdown { how }, None));
            }
            "close" => {
                if let Some(fd) = fd {
                    self.push(Some(fd), sock_call(c, name, Op::Close, None));
                    self.close(fd);
                }
            }
            "epoll_ctl" => self.epoll_ctl(c),
            "epoll_wait" | "epoll_pwait" if ready => self.epoll_ready(c, name),
            "poll" | "ppoll" | "select" | "pselect6" if ready => self.fds_ready(c, name),
            "clone" | "clone3" if ready => self.clone_call(c, name),
            _ => {}
        }
    }

    /// The call on `fd`, when it is a socket followed.
    fn push(&mut self, fd: Option<i64>, call: SockCall) {
        if let Some(s) = fd.and_then(|f| self.open.get_mut(&f)) {
            s.push(call);
        }
    }

    /// socket(): an internet TCP or UDP socket starts being followed.
    fn socket(&mut self, c: &Call<'_>) {
        let Some(r) = c.ret.filter(|&r| r >= 0) else {
            return;
        };
        self.close(r);
        let args = c.args.join(",");
        let transport = if !args.contains("AF_INET") {
            None
        } else if args.contains("SOCK_STREAM") {
            Some(Transport::Tcp)
        } else if args.contains("SOCK_DGRAM") {
            Some(Transport::Udp)
        } else {
            None
        };
        if transport.is_some() {
            self.insert(r, transport, c.ts);
        }
    }

    /// bind()/getsockname() give the local address, getpeername() the remote one.
    fn address(&mut self, fd: Option<i64>, c: &Call<'_>, remote: bool) {
        let addr = c.args.get(1).and_then(|a| parse::sockaddr(a));
        if let (Some(s), Some(addr)) = (fd.and_then(|f| self.open.get_mut(&f)), addr) {
            if remote {
                s.remote = Some(addr);
            } else {
                s.local = Some(addr);
            }
        }
    }

    /// connect(): the remote address and when the handshake started (also when
    /// non-blocking: EINPROGRESS).
    fn connect(&mut self, fd: Option<i64>, c: &Call<'_>, ok: bool) {
        let addr = c.args.get(1).and_then(|a| parse::sockaddr(a));
        let started = ok || c.errno == Some("EINPROGRESS");
        if let Some(s) = fd.and_then(|f| self.open.get_mut(&f)) {
            if started {
                s.remote = addr.or(s.remote);
                s.connect_at = Some(c.ts);
            }
            s.push(sock_call(c, "connect", Op::Connect, None));
        }
    }

    /// accept()/accept4(): a new socket with the listener's local address and the
    /// peer's, its first call the accept.
    fn accept(&mut self, fd: Option<i64>, c: &Call<'_>, name: &'static str) {
        let (Some(lfd), Some(new)) = (fd, c.ret.filter(|&r| r >= 0)) else {
            return;
        };
        let listen_local = self.open.get(&lfd).and_then(|s| s.local);
        let transport = self.open.get(&lfd).and_then(|s| s.transport);
        self.close(new);
        self.insert(new, transport.or(Some(Transport::Tcp)), c.ts);
        let peer = c.args.get(1).and_then(|a| parse::sockaddr(a));
        if let Some(s) = self.open.get_mut(&new) {
            s.local = listen_local;
            s.remote = peer;
            s.push(sock_call(c, name, Op::Accept { listen_fd: lfd }, None));
        }
        if let Some(tag) = c.ret_tag {
            self.annotate(new, tag, c.ts);
        }
    }

    /// epoll_ctl(epfd, EPOLL_CTL_ADD, fd, {events=..., data={u32=5, u64=5}}): which
    /// socket an epoll token stands for.
    fn epoll_ctl(&mut self, c: &Call<'_>) {
        let target = c.args.get(2).and_then(|a| parse::fd(a)).map(|(f, _)| f);
        let data = c.args.get(3).map(|a| parse::fields(a, "u64", 1));
        if let (Some(target), Some(data)) = (target, data) {
            if let Some(&d) = data.first() {
                if self.epoll.len() < OPEN_MAX {
                    self.epoll.insert(d, target);
                }
            }
        }
    }

    /// epoll_wait() returned: each ready token's socket was ready.
    fn epoll_ready(&mut self, c: &Call<'_>, name: &'static str) {
        let events = c.args.get(1).copied().unwrap_or("");
        for token in parse::fields(events, "u64", 1024) {
            let ready = self.epoll.get(&token).copied();
            self.push(
                ready,
                sock_call(c, name, Op::Ready { token: Some(token) }, None),
            );
        }
    }

    /// poll() (`[{fd=5, revents=POLLIN}]`) or select() (`(in [5 6], out [7])`)
    /// returned: each fd it names was ready.
    fn fds_ready(&mut self, c: &Call<'_>, name: &'static str) {
        let extra = c.extra.unwrap_or("");
        let fds: Vec<i64> = if name.ends_with("poll") {
            parse::fields(extra, "fd", 1024)
                .into_iter()
                .map(|fd| fd as i64)
                .collect()
        } else {
            extra
                .split(['[', ']', ' ', ',', '('])
                .filter_map(|w| w.parse::<i64>().ok())
                .take(1024)
                .collect()
        };
        for fd in fds {
            self.push(
                Some(fd),
                sock_call(c, name, Op::Ready { token: None }, None),
            );
        }
    }

    /// clone()/clone3() returned the new task's id (in the parent).
    fn clone_call(&mut self, c: &Call<'_>, name: &'static str) {
        let Some(child) = c.ret.and_then(|r| u32::try_from(r).ok()) else {
            return;
        };
        if self.summary.clones.len() < THREADS_MAX {
            self.summary.clones.push(CloneCall {
                tid: c.tid,
                ts: c.ts,
                end: c.end(),
                call: name,
                child,
                thread: c.args.iter().any(|a| a.contains("CLONE_THREAD")),
            });
        }
    }

    /// One event of labnet's `--trace-events`: the socket's addresses come with it.
    pub(super) fn event(&mut self, e: &read::LabnetEvent) {
        let ts = (e.ts * 1e6).round() as u64;
        if let Some(tid) = e.tid {
            if self.summary.threads.len() < THREADS_MAX && !self.summary.threads.contains(&tid) {
                self.summary.threads.push(tid);
            }
        }
        let (call, op) = match e.call.as_str() {
            "accept" => ("accept", Op::Accept { listen_fd: -1 }),
            "connect" => ("connect", Op::Connect),
            "send" => ("send", Op::Send),
            "recv" => ("recv", Op::Recv),
            "ready" => ("mio poll", Op::Ready { token: e.token }),
            "shutdown" => ("shutdown", Op::Shutdown { how: "SHUT_RDWR" }),
            "close" => ("close", Op::Close),
            _ => return,
        };
        if matches!(op, Op::Accept { .. } | Op::Connect) || !self.open.contains_key(&e.fd) {
            self.close(e.fd);
            self.insert(e.fd, Some(Transport::Tcp), ts);
        }
        let Some(s) = self.open.get_mut(&e.fd) else {
            return;
        };
        s.local = e.local.or(s.local);
        s.remote = e.peer.or(s.remote);
        if op == Op::Connect {
            s.connect_at = Some(ts);
        }
        s.push(SockCall {
            tid: e.tid,
            ts,
            dur: None,
            call,
            op,
            asked: None,
            ret: e.bytes.and_then(|b| i64::try_from(b).ok()),
            errno: None,
        });
        if op == Op::Close {
            self.close(e.fd);
        }
    }

    fn insert(&mut self, fd: i64, transport: Option<Transport>, ts: u64) {
        if self.open.len() >= OPEN_MAX {
            return;
        }
        self.open.insert(
            fd,
            OpenSocket {
                fd,
                transport,
                first: ts,
                ..OpenSocket::default()
            },
        );
    }

    /// `-yy` told the socket's addresses: create the socket if its creation was not in
    /// the trace (strace attached late), else update it.
    fn annotate(&mut self, fd: i64, tag: &str, ts: u64) {
        let Some(tag) = parse::sock_tag(tag) else {
            return;
        };
        if !self.open.contains_key(&fd) {
            self.insert(fd, Some(tag.transport), ts);
        }
        if let Some(s) = self.open.get_mut(&fd) {
            s.transport = Some(tag.transport);
            s.local = tag.local.or(s.local);
            s.remote = tag.remote.or(s.remote);
        }
    }

    /// The fd was closed (or reused): the socket is finished; join it now, so that
    /// its calls are kept only when joined.
    fn close(&mut self, fd: i64) {
        if let Some(s) = self.open.remove(&fd) {
            self.settle(s);
        }
    }

    fn settle(&mut self, s: OpenSocket) {
        if s.transport != Some(Transport::Tcp) || s.remote.is_none() {
            return;
        }
        self.summary.sockets += 1;
        match self.index.find(&s) {
            Ok((conv, side)) => {
                self.summary.joined += 1;
                self.joined.push(SocketCalls {
                    trace: self.trace,
                    conv,
                    side,
                    fd: s.fd,
                    calls: s.calls,
                    calls_dropped: s.dropped,
                });
            }
            Err(true) => self.summary.other_time += 1,
            Err(false) => {}
        }
    }

    /// End of the trace: sockets still open are finished too.
    pub(super) fn finish(mut self, into: &mut BTreeMap<u64, Vec<SocketCalls>>) -> TraceSummary {
        let mut open: Vec<OpenSocket> = self.open.drain().map(|(_, s)| s).collect();
        open.sort_by_key(|s| s.first);
        for s in open {
            self.settle(s);
        }
        for s in self.joined {
            into.entry(s.conv).or_default().push(s);
        }
        self.summary
    }
}

/// Bytes a send/recv call asked to move: the length argument, or the iovecs' lengths.
fn asked(name: &str, args: &[&str]) -> Option<u64> {
    match name {
        "sendmsg" | "recvmsg" | "writev" | "readv" => {
            // sendmsg's msghdr and writev's iovec array are both the second argument.
            let lens = parse::fields(args.get(1)?, "iov_len", 1024);
            Some(lens.iter().sum())
        }
        _ => args.get(2)?.parse().ok(),
    }
}
