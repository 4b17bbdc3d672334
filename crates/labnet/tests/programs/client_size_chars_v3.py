# BUG: the size field is len(text), the characters, not len(text.encode()), the bytes.
# 'hello' is 5 of each, so the first message is a perfect '!BII' one; 'olá mundo' has
# 9 characters but 10 bytes (á is 2 in UTF-8).
import socket, struct, sys

def recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit('the server closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=3)
for order, text in enumerate(['hello', 'olá mundo', 'bye'], start=1):
    sock.sendall(struct.pack('!BII', 1, order, len(text)) + text.encode())
    version, echo_order, size = struct.unpack('!BII', recv_exact(sock, 9))
    print('echo', version, echo_order, size, recv_exact(sock, size))
sock.close()
