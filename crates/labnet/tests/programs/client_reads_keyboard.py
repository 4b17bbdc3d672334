# clientTCP.py as many students write it: the messages come from the keyboard
# (input()), one per line, until end of input. Given no input it sends nothing.
import socket, sys

sock = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
while True:
    try:
        line = input('message: ')
    except EOFError:
        break
    sock.sendall(line.encode())
    print('echo:', sock.recv(1024).decode())
sock.close()
