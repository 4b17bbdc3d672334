# BUG: sends its messages and closes without ever reading an echo.
import socket, struct, sys

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
for order, text in enumerate(['hello', 'nobody reads the echo', 'bye'], start=1):
    msg = text.encode()
    sock.sendall(struct.pack('!BII', 1, order, len(msg)) + msg)
sock.close()
