//! Starting a TCP server: the configured model (one thread per client, or one
//! selector loop) binds and serves in the background. The models themselves are
//! [`crate::tcp_threads`] and [`crate::tcp_selector`]; what they are told and the
//! handle they return are [`crate::server`]'s.

use crate::error::NetError;
use crate::server::{Model, ServerHandle, TcpServerConfig};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Bind and start a TCP server in the background; it stops when `stop` is set.
pub fn start_tcp_server(
    config: TcpServerConfig,
    stop: Arc<AtomicBool>,
) -> Result<ServerHandle, NetError> {
    match config.model {
        Model::Threads => crate::tcp_threads::start(config, stop),
        Model::Selector => crate::tcp_selector::start(config, stop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Log;
    use labproto::Message;
    use labproto::Proto;
    use std::io::{Read, Write};
    use std::time::Duration;

    /// The library API: start on port 0 in-process, talk to it, stop it, read its log.
    #[test]
    fn in_process_servers_echo_and_stop() {
        for model in [Model::Threads, Model::Selector] {
            let (log, lines) = Log::memory(false);
            let config =
                TcpServerConfig::new(model, Proto::V3, "127.0.0.1:0".parse().unwrap(), log);
            let stop = Arc::new(AtomicBool::new(false));
            let server = start_tcp_server(config, stop).unwrap();
            let addr = server.local_addr();
            assert_ne!(addr.port(), 0);
            let wire = Message::new(Proto::V3, 1, 1, b"in process")
                .unwrap()
                .encode();
            let mut s = std::net::TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            s.write_all(&wire).unwrap();
            let mut echo = vec![0u8; wire.len()];
            s.read_exact(&mut echo).unwrap();
            assert_eq!(echo, wire);
            drop(s);
            std::thread::sleep(Duration::from_millis(100));
            server.stop().unwrap();
            let lines = lines.lock().unwrap();
            assert!(
                lines
                    .iter()
                    .any(|l| l
                        .contains("received v3 version=1 order=1 size=10 payload=\"in process\"")),
                "{model:?}: {lines:?}"
            );
            assert!(
                lines
                    .last()
                    .unwrap()
                    .ends_with(&format!("stopped listening on {addr}")),
                "{model:?}: {lines:?}"
            );
        }
    }
}
