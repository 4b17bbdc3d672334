# BUG: struct.pack('!BII21s', ...): one byte too many in the payload field, 30 bytes
# per message instead of 29. It reads its echoes whole (calcsize), the same wrong way.
import socket, struct, sys

FORMAT = '!BII21s'
LEN = struct.calcsize(FORMAT)

def recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit('the server closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
for order, text in enumerate(['hello', 'one byte too many', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack(FORMAT, 1, order, len(msg), msg))
    version, echo_order, size, payload = struct.unpack(FORMAT, recv_exact(sock, LEN))
    print('echo', version, echo_order, size, payload[:size].decode())
sock.close()
