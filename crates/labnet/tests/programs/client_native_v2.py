# BUG: struct.pack('BII20s', ...) without '!': native alignment, 32 bytes per message,
# little-endian fields. It reads its echoes whole (calcsize), so only the layout is wrong.
import socket, struct, sys

FORMAT = 'BII20s'
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
for order, text in enumerate(['hello', 'native alignment', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack(FORMAT, 1, order, len(msg), msg))
    version, echo_order, size, payload = struct.unpack(FORMAT, recv_exact(sock, LEN))
    print('echo', version, echo_order, size, payload[:min(size, 20)].decode())
sock.close()
