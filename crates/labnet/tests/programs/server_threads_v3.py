# serverTCPv3.py with the echo of 5.3: a thread per client, 9 header bytes then size more.
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
                head = recv_exact(conn, 9)
                if head is None:
                    break
                version, order, size = struct.unpack('!BII', head)
                payload = recv_exact(conn, size) if size else b''
                if payload is None:
                    break
            except ConnectionResetError:
                break
            print(addr, version, order, size, payload[:40], flush=True)
            conn.sendall(head + payload)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1])))
sock.listen(5)
print('port', sock.getsockname()[1], flush=True)
while True:
    conn, addr = sock.accept()
    threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
