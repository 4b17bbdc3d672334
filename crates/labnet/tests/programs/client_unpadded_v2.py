# BUG: struct.pack('!BII%ds' % len(msg), ...): the v2 payload is not padded to 20
# bytes. The first message has exactly 20 characters, so its 29 bytes are a perfect
# '!BII20s' message; the next ones are 9 + len bytes. It reads each echo as a header
# then size bytes, so only the layout is wrong.
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
for order, text in enumerate(['twenty bytes exactly', 'hi', 'bye now'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('!BII%ds' % len(msg), 1, order, len(msg), msg))
    version, echo_order, size = struct.unpack('!BII', recv_exact(sock, 9))
    print('echo', version, echo_order, size, recv_exact(sock, size).decode())
sock.close()
