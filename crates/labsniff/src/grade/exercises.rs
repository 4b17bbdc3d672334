//! The exercises of the lab guide and their requirements: a declarative table (the one
//! `--list` prints), each requirement naming the check in `checks` that decides it.

use super::checks::{
    one_thread_selects, served_concurrently, text_echoed, thread_per_client, two_source_ports,
    two_tcp_clients, udp_datagrams, v2_echoed, v2_messages, v3_echoed, v3_messages,
    v3_several_segments,
};
use super::{Exercise, Requirement, Verdict};

pub(super) const READABLE: Requirement = Requirement {
    name: "readable",
    what: "a pcap or pcapng file (gzip too) read to its end, on a link type labsniff decodes",
    trace: false,
    // Evaluated by `grade_file` itself: only it knows how reading went.
    eval: |_| Verdict::pass("", Vec::new()),
};
const UDP_DATAGRAMS: Requirement = Requirement {
    name: "udp_datagrams",
    what: "UDP datagrams sent to the lab port",
    trace: false,
    eval: udp_datagrams,
};
const TWO_SOURCE_PORTS: Requirement = Requirement {
    name: "two_source_ports",
    what: "those datagrams come from at least two source ports (two clients)",
    trace: false,
    eval: two_source_ports,
};
const TWO_TCP_CLIENTS: Requirement = Requirement {
    name: "two_tcp_clients",
    what: "at least two TCP clients on the lab port, each with its three-way handshake",
    trace: false,
    eval: two_tcp_clients,
};
const TEXT_ECHOED: Requirement = Requirement {
    name: "text_echoed",
    what: "every TCP client's text echoed back byte for byte",
    trace: false,
    eval: text_echoed,
};
const CONCURRENT: Requirement = Requirement {
    name: "served_concurrently",
    what: "the server answered one client while another, answered before, was still connected",
    trace: false,
    eval: served_concurrently,
};
const ONE_THREAD_SELECTS: Requirement = Requirement {
    name: "one_thread_selects",
    what: "from NAME.strace beside the capture: one server thread served several clients' \
           sockets, which its select/poll/epoll calls returned ready",
    trace: true,
    eval: one_thread_selects,
};
const THREAD_PER_CLIENT: Requirement = Requirement {
    name: "thread_per_client",
    what: "from NAME.strace beside the capture: each client's socket served (recv/send) by a \
           thread of its own",
    trace: true,
    eval: thread_per_client,
};
const V2_MESSAGES: Requirement = Requirement {
    name: "v2_messages",
    what: "the client sent v2 messages ('!BII20s'), exactly 29 bytes each",
    trace: false,
    eval: v2_messages,
};
const V2_ECHOED: Requirement = Requirement {
    name: "v2_echoed",
    what: "every v2 message echoed byte for byte (order and size kept)",
    trace: false,
    eval: v2_echoed,
};
const V3_MESSAGES: Requirement = Requirement {
    name: "v3_messages",
    what: "the client sent v3 messages ('!BII' + payload), each size field matching its payload",
    trace: false,
    eval: v3_messages,
};
const V3_ECHOED: Requirement = Requirement {
    name: "v3_echoed",
    what: "every v3 message echoed byte for byte",
    trace: false,
    eval: v3_echoed,
};
const V3_SEGMENTS: Requirement = Requirement {
    name: "v3_several_segments",
    what: "at least one v3 message carried by several TCP segments",
    trace: false,
    eval: v3_several_segments,
};

/// The exercises and their requirements: the one table `--list` prints.
pub static EXERCISES: &[Exercise] = &[
    Exercise {
        id: "1.2",
        title: "UDP client(s) and server: source ports",
        requirements: &[READABLE, UDP_DATAGRAMS, TWO_SOURCE_PORTS],
    },
    Exercise {
        id: "2.2",
        title: "TCP text, a thread per client",
        requirements: &[
            READABLE,
            TWO_TCP_CLIENTS,
            TEXT_ECHOED,
            CONCURRENT,
            THREAD_PER_CLIENT,
        ],
    },
    Exercise {
        id: "3.2",
        title: "TCP text, a selector",
        requirements: &[
            READABLE,
            TWO_TCP_CLIENTS,
            TEXT_ECHOED,
            CONCURRENT,
            ONE_THREAD_SELECTS,
        ],
    },
    Exercise {
        id: "4.2",
        title: "v2 fixed-size binary messages",
        requirements: &[READABLE, V2_MESSAGES],
    },
    Exercise {
        id: "4.3",
        title: "v2 with the server's echo",
        requirements: &[READABLE, V2_MESSAGES, V2_ECHOED],
    },
    Exercise {
        id: "5.2",
        title: "v3 variable-size binary messages",
        requirements: &[READABLE, V3_MESSAGES],
    },
    Exercise {
        id: "5.3",
        title: "v3 with the server's echo, a message over several segments",
        requirements: &[READABLE, V3_MESSAGES, V3_ECHOED, V3_SEGMENTS],
    },
];

/// The exercise with this id (`4.3`).
pub fn exercise(id: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}
