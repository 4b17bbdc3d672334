#!/usr/bin/env python3
"""A v3 echo server in the spirit of the lab's serverTCPsel.py, for `cargo xtask bench`.

One thread, the `selectors` module, one key per connection; each connection buffers
what it reads, decodes `!BII` + payload messages and echoes them back. It is written
the way a careful student would (non-blocking sockets, a write buffer per connection),
so the comparison with labnet's selector server is fair.

usage: selectors_v3_server.py PORT
"""
import selectors
import socket
import struct
import sys

HEADER = struct.Struct('!BII')


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5005
    sel = selectors.DefaultSelector()
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', port))
    lsock.listen(1024)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ, data=None)
    print(f'listening on 127.0.0.1:{port}', flush=True)
    try:
        while True:
            for key, mask in sel.select(timeout=1):
                if key.data is None:
                    conn, _ = key.fileobj.accept()
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(conn, selectors.EVENT_READ, data={'rx': b'', 'tx': b''})
                    continue
                sock, st = key.fileobj, key.data
                if mask & selectors.EVENT_READ:
                    try:
                        chunk = sock.recv(65536)
                    except ConnectionError:
                        chunk = b''
                    if not chunk:
                        sel.unregister(sock)
                        sock.close()
                        continue
                    st['rx'] += chunk
                    rx = st['rx']
                    while len(rx) >= HEADER.size:
                        _, _, size = HEADER.unpack_from(rx)
                        if len(rx) < HEADER.size + size:
                            break
                        st['tx'] += rx[:HEADER.size + size]
                        rx = rx[HEADER.size + size:]
                    st['rx'] = rx
                if st['tx']:
                    try:
                        sent = sock.send(st['tx'])
                        st['tx'] = st['tx'][sent:]
                    except BlockingIOError:
                        pass
                    except ConnectionError:
                        sel.unregister(sock)
                        sock.close()
                        continue
                    want = selectors.EVENT_READ | (selectors.EVENT_WRITE if st['tx'] else 0)
                    if want != key.events:
                        sel.modify(sock, want, data=st)
                elif key.events & selectors.EVENT_WRITE:
                    sel.modify(sock, selectors.EVENT_READ, data=st)
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
