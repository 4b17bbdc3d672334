# clientTCPv2.py with the echo of 4.3: 29-byte messages, each echo read whole.
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
for order, text in enumerate(['hello', 'a message longer than twenty bytes', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('!BII20s', 1, order, len(msg), msg))
    version, echo_order, size, payload = struct.unpack('!BII20s', recv_exact(sock, 29))
    print('echo', version, echo_order, size, payload[:min(size, 20)].decode())
sock.close()
