# BUG: struct.pack('<BII', ...): the v3 header in little-endian byte order. It reads
# its echoes whole, the same wrong way, so only the layout is wrong.
import socket, struct, sys

def recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit('the server closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
for order, text in enumerate(['hello', 'little-endian header', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('<BII', 1, order, len(msg)) + msg)
    version, echo_order, size = struct.unpack('<BII', recv_exact(sock, 9))
    print('echo', version, echo_order, size, recv_exact(sock, size).decode())
sock.close()
