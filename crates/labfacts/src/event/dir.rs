//! The direction of a segment or message: the basic vocabulary of the fact model,
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
    /// Who sends in this direction.
    pub fn sender(self) -> &'static str {
        match self {
            Dir::ClientToServer => "client",
            Dir::ServerToClient => "server",
        }
    }
    pub const BOTH: [Dir; 2] = [Dir::ClientToServer, Dir::ServerToClient];
}
