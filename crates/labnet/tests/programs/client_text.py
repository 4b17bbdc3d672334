# clientTCP.py: text messages, each echo read until all its bytes arrived.
import socket, sys

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
for text in ['hello', 'text from the lab client', 'bye']:
    msg = text.encode()
    sock.sendall(msg)
    echo = b''
    while len(echo) < len(msg):
        chunk = sock.recv(1024)
        if not chunk:
            sys.exit('the server closed')
        echo += chunk
    print('echo', echo.decode())
sock.close()
