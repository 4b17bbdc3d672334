# BUG (the worst case for the battery's time): accepts every client, never reads,
# never answers, never closes.
import socket, sys

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1])))
sock.listen(50)
print('port', sock.getsockname()[1], flush=True)
clients = []
while True:
    conn, addr = sock.accept()
    clients.append(conn)
