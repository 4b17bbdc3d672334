# BUG: takes one recv(1024) for one whole message: a header split over two segments
# makes struct.unpack fail, and a second message in the same recv() is lost.
import socket, struct, sys, threading

def handle(conn, addr):
    with conn:
        while True:
            data = conn.recv(1024)
            if not data:
                break
            version, order, size = struct.unpack('!BII', data[:9])
            payload = data[9:9 + size]
            print(addr, version, order, size, payload[:40], flush=True)
            conn.sendall(data[:9] + payload)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1])))
sock.listen(5)
print('port', sock.getsockname()[1], flush=True)
while True:
    conn, addr = sock.accept()
    threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
