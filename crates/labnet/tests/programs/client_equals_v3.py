# BUG: struct.pack('=BII', ...): standard sizes, no padding, but the machine's byte
# order (little-endian), not the network's. Its first message is empty: 01 01 00 00 00
# 00 00 00 00 also reads as a valid '!BII' header (version 1, order 16777216, size 0);
# only the next message tells. It reads its echoes the same way.
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
for order, text in enumerate(['', 'hello', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('=BII', 1, order, len(msg)) + msg)
    version, echo_order, size = struct.unpack('=BII', recv_exact(sock, 9))
    payload = recv_exact(sock, size) if size else b''
    print('echo', version, echo_order, size, payload.decode())
sock.close()
