# client_v3.py taking the server's address as its second argument (default
# 127.0.0.1), as a client for a remote machine must: python3 client_addr_v3.py PORT IP
import socket, struct, sys

def recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            sys.exit('the server closed after %d of %d bytes' % (len(data), n))
        data += chunk
    return data

sock = socket.create_connection((sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1',
                                 int(sys.argv[1])), timeout=10)
for order, text in enumerate(['hello', 'a longer message for v3', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('!BII', 1, order, len(msg)) + msg)
    version, echo_order, size = struct.unpack('!BII', recv_exact(sock, 9))
    print('echo', version, echo_order, size, recv_exact(sock, size).decode())
sock.close()
