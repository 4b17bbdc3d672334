//! The direction of a segment or message, and the two ends: the basic vocabulary of the fact model,
//! in its own module so that the analysis the model records (`analysis::tcp_flags`)
//! can use it without depending on the model itself.

use serde::Serialize;

/// Direction of a message, relative to the client (the side that sent the SYN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Dir {
    #[serde(rename = "c2s")]
    ClientToServer,
    #[serde(rename = "s2c")]
    ServerToClient,
}

impl Dir {
    /// 0 for client-to-server, 1 for server-to-client (index into per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            Dir::ClientToServer => 0,
            Dir::ServerToClient => 1,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Dir::ClientToServer => "c2s",
            Dir::ServerToClient => "s2c",
        }
    }
    /// The end that sends in this direction.
    pub fn side(self) -> Side {
        match self {
            Dir::ClientToServer => Side::Client,
            Dir::ServerToClient => Side::Server,
        }
    }
    /// The name of the end that sends in this direction (`client`, `server`).
    pub fn sender(self) -> &'static str {
        self.side().as_str()
    }
    pub const BOTH: [Dir; 2] = [Dir::ClientToServer, Dir::ServerToClient];
    /// The other direction.
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ClientToServer => Dir::ServerToClient,
            Dir::ServerToClient => Dir::ClientToServer,
        }
    }
}

/// One end of a conversation: the client (the side that sent the SYN, or the first
/// datagram) or the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Client,
    Server,
}

impl Side {
    /// `client` or `server`, as JSON writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Client => "client",
            Side::Server => "server",
        }
    }
    /// The direction this end sends in.
    pub fn sends(self) -> Dir {
        match self {
            Side::Client => Dir::ClientToServer,
            Side::Server => Dir::ServerToClient,
        }
    }
}
