# BUG: the 9-byte header is read in a loop (a split header is fine), but the payload
# with one recv(size): on loopback one recv() returned the whole 100,000-byte payload,
# across a network it returns what has arrived (a few 1,448-byte segments), and the
# rest of the payload is then read as the next messages' headers.
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
            header = recv_exact(conn, 9)
            if header is None:
                break
            version, order, size = struct.unpack('!BII', header)
            payload = conn.recv(size) if size else b''
            print(addr, version, order, size, payload[:40], flush=True)
            conn.sendall(header + payload)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('', int(sys.argv[1])))
sock.listen(5)
print('port', sock.getsockname()[1], flush=True)
while True:
    conn, addr = sock.accept()
    threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
