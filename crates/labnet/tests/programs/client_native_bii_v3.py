# BUG: struct.pack('BII', ...) + payload without '!': native alignment, a 12-byte
# little-endian header (3 padding bytes after the version). Its first message,
# 01 00 00 00 01 00 00 00 05 00 00 00 'hello', also reads as a valid '!BII' header
# (version 1, order 1, size 5) + 00 00 00 'he', leaving 'llo': only the bytes after
# it tell. It reads its echoes whole, the same wrong way, so only the layout is wrong.
import socket, struct, sys

HEADER = struct.calcsize('BII')

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
    sock.sendall(struct.pack('BII', 1, order, len(msg)) + msg)
    version, echo_order, size = struct.unpack('BII', recv_exact(sock, HEADER))
    print('echo', version, echo_order, size, recv_exact(sock, size).decode())
sock.close()
