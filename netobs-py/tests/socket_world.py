"""Run inside a namespace by the socket tests: opens sockets in known
states, prints "ready", and keeps them until stdin closes.

- TCP listener 127.0.0.1:5000 (backlog 7) with 3 connections; the server
  side of the first has 1000 unread bytes (Recv-Q 1000);
- TCP listener [::1]:5001 (backlog 3) with 1 connection;
- UDP 127.0.0.1:5353 unconnected, UDP 127.0.0.1:5354 connected to :5353;
- a unix stream listener on the abstract name in argv[1] with one
  connection whose server end has 500 unread bytes, and a unix datagram
  socket bound to the path in argv[2].
"""
import socket
import sys
import time

keep = []
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
lst.bind(("127.0.0.1", 5000))
lst.listen(7)
keep.append(lst)
for i in range(3):
    c = socket.create_connection(("127.0.0.1", 5000))
    s, _ = lst.accept()
    keep += [c, s]
    if i == 0:
        c.sendall(b"x" * 1000)
lst6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
lst6.bind(("::1", 5001))
lst6.listen(3)
c6 = socket.create_connection(("::1", 5001))
s6, _ = lst6.accept()
keep += [lst6, c6, s6]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 5353))
uc = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
uc.bind(("127.0.0.1", 5354))
uc.connect(("127.0.0.1", 5353))
keep += [u, uc]
ul = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
ul.bind("\0" + sys.argv[1])
ul.listen(5)
uc = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
uc.connect("\0" + sys.argv[1])
us, _ = ul.accept()
uc.sendall(b"y" * 500)
ud = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ud.bind(sys.argv[2])
keep += [ul, uc, us, ud]
time.sleep(0.2)  # let the 1000 bytes land in the receive queue
print("ready", flush=True)
sys.stdin.read()
