//! The Python programs the tests talk to, written the way the lab's originals are.

/// Client: `script.py PROTO PORT`; sends three messages with `struct`, checks each echo
/// is byte-identical, prints the decoded echoes, exits non-zero on any difference.
pub const PY_CLIENT: &str = r#"
import socket, struct, sys
proto, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection(('127.0.0.1', port), timeout=5)
print('local port', s.getsockname()[1], flush=True)
msgs = [b'hello', b'a message longer than twenty bytes', b'bye']
def recv_exact(n):
    data = b''
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            sys.exit('server closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data
for order, m in enumerate(msgs, start=1):
    if proto == 'text':
        wire = m
    elif proto == 'v2':
        wire = struct.pack('!BII20s', 1, order, len(m), m)
    else:
        wire = struct.pack('!BII', 1, order, len(m)) + m
    s.sendall(wire)
    echo = recv_exact(len(wire))
    if echo != wire:
        sys.exit('echo differs: sent %r got %r' % (wire, echo))
    if proto == 'v2':
        v, o, size, payload = struct.unpack('!BII20s', echo)
        print('echo', v, o, size, payload[:min(size, 20)].decode())
    elif proto == 'v3':
        v, o, size = struct.unpack('!BII', echo[:9])
        print('echo', v, o, size, echo[9:].decode())
    else:
        print('echo', echo.decode())
s.close()
print('ok')
"#;

/// Server: `script.py PROTO`; threads, one per client, echoes every message; prints
/// `port N` first, then `got ...` per message.
pub const PY_SERVER: &str = r#"
import socket, struct, sys, threading
proto = sys.argv[1]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(('127.0.0.1', 0))
srv.listen(16)
srv.settimeout(30)
print('port', srv.getsockname()[1], flush=True)
def recv_exact(c, n):
    data = b''
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data
def handle(c):
    c.settimeout(10)
    while True:
        if proto == 'text':
            data = c.recv(1024)
            if not data: break
            print('got', data.decode(), flush=True)
        elif proto == 'v2':
            data = recv_exact(c, 29)
            if data is None: break
            v, o, size, payload = struct.unpack('!BII20s', data)
            print('got', v, o, size, payload[:min(size, 20)].decode(), flush=True)
        else:
            head = recv_exact(c, 9)
            if head is None: break
            v, o, size = struct.unpack('!BII', head)
            payload = recv_exact(c, size) if size else b''
            if payload is None: break
            data = head + payload
            print('got', v, o, size, payload.decode(), flush=True)
        c.sendall(data)
    c.close()
while True:
    c, addr = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
"#;

/// UDP client: `script.py PORT`; sends two datagrams, prints its local port.
pub const PY_UDP_CLIENT: &str = r#"
import socket, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'from python', ('127.0.0.1', port))
print('local port', s.getsockname()[1], flush=True)
s.sendto(b'second', ('127.0.0.1', port))
"#;
