# BUG: reads and prints each message right ('!BII20s', 29 bytes) but packs the echo
# with struct.pack('BII20s', ...) without '!': 32 bytes, native alignment, little-endian.
import socket, struct, sys, threading

def recv_exact(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data

def handle(conn, addr):
    with conn:
        while True:
            try:
                data = recv_exact(conn, 29)
            except ConnectionResetError:
                break
            if data is None:
                break
            version, order, size, payload = struct.unpack('!BII20s', data)
            print(addr, version, order, size, payload[:min(size, 20)], flush=True)
            conn.sendall(struct.pack('BII20s', version, order, size, payload))

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1])))
sock.listen(5)
print('port', sock.getsockname()[1], flush=True)
while True:
    conn, addr = sock.accept()
    threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
