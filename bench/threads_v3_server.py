#!/usr/bin/env python3
"""A v3 echo server in the spirit of the lab's serverTCP.py, for `cargo xtask bench`.

The main thread accepts; each client gets a new `threading.Thread` that reads the
9-byte `!BII` header, then `size` payload bytes, and echoes the message back with
sendall(): the lab's threads model, written the way a careful student would.

usage: threads_v3_server.py PORT
"""
import socket
import struct
import sys
import threading

HEADER = struct.Struct('!BII')


def recv_exactly(conn, n):
    data = b''
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def serve(conn):
    with conn:
        while True:
            header = recv_exactly(conn, HEADER.size)
            if header is None:
                return
            _, _, size = HEADER.unpack(header)
            payload = recv_exactly(conn, size)
            if payload is None:
                return
            conn.sendall(header + payload)


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 5005
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(('127.0.0.1', port))
    lsock.listen(1024)
    print(f'listening on 127.0.0.1:{port}', flush=True)
    try:
        while True:
            conn, _ = lsock.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == '__main__':
    main()
