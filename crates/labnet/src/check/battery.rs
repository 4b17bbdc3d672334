//! The batteries: which checks run against a server or a client, per protocol, and
//! what each one proves. Names are stable (they are the `check` field of `--json`).

use labproto::Proto;
use std::time::Duration;

/// One check of a battery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub name: &'static str,
    /// What it does, in one line (shown by the table).
    pub what: &'static str,
}

/// How long one answer may take before a check calls it missing. Loopback answers in
/// well under a millisecond; a second leaves room for a loaded lab machine.
pub const ANSWER: Duration = Duration::from_millis(1000);
/// The pause between the two halves of a split message: far longer than any delayed
/// ACK or Nagle timer, so the halves really arrive as two reads.
pub const SPLIT_PAUSE: Duration = Duration::from_millis(100);
/// How long the second client may wait while the first stays idle.
pub const SECOND_CLIENT: Duration = Duration::from_millis(1000);
/// How long "nothing comes back" is watched for with --no-echo.
pub const SILENCE: Duration = Duration::from_millis(300);

pub const ECHO: Check = Check {
    name: "echo",
    what: "one short message, echoed byte for byte",
};
pub const SILENT: Check = Check {
    name: "silent",
    what: "one message, nothing comes back (--no-echo)",
};
pub const SPLIT: Check = Check {
    name: "split",
    what: "a message split over two segments 100 ms apart (v3: one cut in its header, one in its payload)",
};
pub const COALESCED: Check = Check {
    name: "coalesced",
    what: "2, then 10 messages in one segment, each echoed",
};
pub const LARGE: Check = Check {
    name: "large",
    what: "a 100 kB message (many segments), echoed whole",
};
pub const V2_LONG: Check = Check {
    name: "v2_long",
    what: "a 37-byte message: 29 bytes on the wire, size 37 kept",
};
pub const V3_EMPTY: Check = Check {
    name: "v3_empty",
    what: "a message with size 0: the 9-byte header echoed",
};
pub const CONCURRENT: Check = Check {
    name: "concurrent",
    what: "a 2nd client answered within 1 s while the 1st stays idle",
};
pub const RESET: Check = Check {
    name: "reset",
    what: "a client resets mid-message; the next client is served",
};
pub const HALF_CLOSE: Check = Check {
    name: "half_close",
    what: "a client half-closes: echo, then the server closes",
};

/// Only with `check server -- CMD`: the messages the server printed, against the sent.
pub const PRINTS: Check = Check {
    name: "prints",
    what: "the messages your server printed are the ones the checks sent",
};

/// The server battery for `proto`, in the order it runs.
pub fn server(proto: Proto, echo: bool) -> Vec<Check> {
    if !echo {
        // Without echoes only what the server does with the connection can be seen.
        return vec![SILENT, RESET, HALF_CLOSE];
    }
    let mut checks = vec![ECHO];
    // Text has no message boundaries: a split text is just two texts.
    if proto != Proto::Text {
        checks.push(SPLIT);
    }
    checks.push(COALESCED);
    if proto != Proto::V2 {
        checks.push(LARGE);
    }
    match proto {
        Proto::V2 => checks.push(V2_LONG),
        Proto::V3 => checks.push(V3_EMPTY),
        Proto::Text => {}
    }
    checks.extend([CONCURRENT, RESET, HALF_CLOSE]);
    checks
}

pub const CONNECTS: Check = Check {
    name: "connects",
    what: "the client connects to the lab server",
};
pub const FORMAT: Check = Check {
    name: "format",
    what: "every message has the lab's layout",
};
pub const ORDER: Check = Check {
    name: "order",
    what: "order numbers 1, 2, 3, ...",
};
pub const SIZE: Check = Check {
    name: "size",
    what: "each size field matches its payload",
};
pub const READS_ECHOES: Check = Check {
    name: "reads_echoes",
    what: "every echo read whole (split, delayed halves)",
};
pub const CLOSES: Check = Check {
    name: "closes",
    what: "the connection closed, the program exited 0",
};

/// The client battery for `proto`.
pub fn client(proto: Proto) -> Vec<Check> {
    if proto == Proto::Text {
        return vec![CONNECTS, READS_ECHOES, CLOSES];
    }
    vec![CONNECTS, FORMAT, ORDER, SIZE, READS_ECHOES, CLOSES]
}
