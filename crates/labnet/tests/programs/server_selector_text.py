# serverTCPsel.py: one thread, a selector, non-blocking sockets; echoes the text read.
import selectors, socket, sys

sel = selectors.DefaultSelector()

class Client:
    def __init__(self, addr):
        self.addr = addr
        self.out = b''
        self.eof = False

def accept(sock):
    conn, addr = sock.accept()
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, Client(addr))

def close(conn):
    sel.unregister(conn)
    conn.close()

def serve(conn, client, mask):
    if mask & selectors.EVENT_READ:
        try:
            data = conn.recv(1024)
        except BlockingIOError:
            return
        except ConnectionResetError:
            close(conn)
            return
        if data:
            # The address from accept(): getpeername() fails once the peer has reset.
            print(client.addr, data[:40], flush=True)
            client.out += data
        else:
            client.eof = True
    if client.out:
        try:
            sent = conn.send(client.out)
        except BlockingIOError:
            sent = 0
        except (ConnectionResetError, BrokenPipeError):
            close(conn)
            return
        client.out = client.out[sent:]
    if not client.out and client.eof:
        close(conn)
        return
    events = selectors.EVENT_WRITE if client.eof else selectors.EVENT_READ
    if client.out and not client.eof:
        events |= selectors.EVENT_WRITE
    sel.modify(conn, events, client)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(('127.0.0.1', int(sys.argv[1])))
sock.listen(5)
sock.setblocking(False)
sel.register(sock, selectors.EVENT_READ, None)
print('port', sock.getsockname()[1], flush=True)
while True:
    for key, mask in sel.select():
        if key.data is None:
            accept(key.fileobj)
        else:
            serve(key.fileobj, key.data, mask)
