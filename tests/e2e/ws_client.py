"""A minimal WebSocket client (RFC 6455), standard library only, for the
agent stream: handshake with headers, a reader thread that collects text
frames (reassembling fragments), answers pings and records the close frame.

    ws = WebSocket.connect(("127.0.0.1", port), "/v1/agent/stream",
                           headers={"Authorization": "Bearer ..."})
    ws.messages       # [(monotonic arrival time, text)] in arrival order
    ws.close_code     # the code of the server's close frame, once one came
    ws.wait_closed(10)
    ws.close()

Frames the client sends are masked, as the RFC requires of clients.
"""

import base64
import hashlib
import os
import socket
import struct
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeError(AssertionError):
    def __init__(self, message, status=None, headers=None, body=b""):
        super().__init__(message)
        self.status, self.headers, self.body = status, headers or {}, body


class WebSocket:
    def __init__(self, sock, name=""):
        self.sock = sock
        self.name = name
        self.messages = []          # [(arrival monotonic time, str)]
        self.errors = []            # protocol problems seen by the reader
        self.close_code = None      # from the server's close frame
        self.close_reason = None
        self.close_at = None        # monotonic time the close frame arrived
        self.close_received = threading.Event()
        self.handshake_headers = {}  # lower-case names, of the 101 answer
        self.ended = threading.Event()  # the reader is done (close, EOF or error)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._closing_sent = False
        self._reader = None
        self._reading = threading.Event()  # cleared by pause(): the reader stops taking bytes off the socket
        self._reading.set()

    # ---- connecting

    @classmethod
    def connect(cls, address, path, headers=None, timeout=10.0, name="", receive_buffer=None):
        """``receive_buffer``: SO_RCVBUF in bytes, set before connecting (a
        small one makes a paused client's backlog reach the server soon)."""
        if receive_buffer is None:
            sock = socket.create_connection(address, timeout=timeout)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.settimeout(timeout)
            sock.connect(address)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: {address[0]}:{address[1]}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        data = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in data:
            if time.monotonic() > deadline:
                sock.close()
                raise HandshakeError(f"no handshake answer for {path} in {timeout} s (got {data[:300]!r})")
            chunk = sock.recv(4096)
            if not chunk:
                sock.close()
                raise HandshakeError(f"connection closed during the handshake for {path} (got {data[:300]!r})")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if status != 101:
            body = rest
            try:
                n = int(hdrs.get("content-length", "0"))
                sock.settimeout(2)
                while len(body) < n:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    body += chunk
            except (OSError, ValueError):
                pass
            sock.close()
            raise HandshakeError(f"GET {path}: expected 101 Switching Protocols, got {lines[0]!r} {body[:300]!r}",
                                 status, hdrs, body)
        expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if hdrs.get("sec-websocket-accept") != expected:
            sock.close()
            raise HandshakeError(f"GET {path}: Sec-WebSocket-Accept {hdrs.get('sec-websocket-accept')!r}, "
                                 f"expected {expected!r}", status, hdrs)
        sock.settimeout(None)
        ws = cls(sock, name)
        ws.handshake_headers = hdrs
        ws._buffer = rest
        ws._reader = threading.Thread(target=ws._read_loop, name=f"ws-{name}", daemon=True)
        ws._reader.start()
        return ws

    # ---- reading

    def _recv_exact(self, n):
        while len(self._buffer) < n:
            self._reading.wait()
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self._buffer += chunk
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def _read_frame(self):
        b0, b1 = self._recv_exact(2)
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        if b0 & 0x70:
            self.errors.append(f"reserved bits set in a frame header: {b0:#x}")
        masked, length = bool(b1 & 0x80), b1 & 0x7F
        if masked:
            self.errors.append("the server sent a masked frame (RFC 6455 5.1 forbids it)")
        if length == 126:
            (length,) = struct.unpack("!H", self._recv_exact(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", self._recv_exact(8))
        mask = self._recv_exact(4) if masked else None
        payload = self._recv_exact(length)
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return fin, opcode, payload

    def _read_loop(self):
        fragments, frag_op = [], None
        try:
            while True:
                fin, opcode, payload = self._read_frame()
                if opcode == OP_PING:
                    self._send(OP_PONG, payload)
                    continue
                if opcode == OP_PONG:
                    continue
                if opcode == OP_CLOSE:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                    with self._lock:
                        self.close_code = code
                        self.close_at = time.monotonic()
                        self.close_reason = payload[2:].decode("utf-8", errors="replace")
                        self._cond.notify_all()
                    self.close_received.set()
                    try:  # echo the close, as the RFC asks
                        self._send(OP_CLOSE, payload[:2])
                    except OSError:
                        pass
                    # Then the server closes TCP first (RFC 6455 7.1.1); we
                    # close ours on its EOF (or after 2 s), as browsers do.
                    try:
                        self.sock.settimeout(2.0)
                        while self.sock.recv(65536):
                            pass
                    except OSError:
                        pass
                    self.sock.close()
                    return
                if opcode in (OP_TEXT, OP_BINARY):
                    fragments, frag_op = [payload], opcode
                elif opcode == OP_CONT:
                    if frag_op is None:
                        self.errors.append("a continuation frame with no message to continue")
                        continue
                    fragments.append(payload)
                else:
                    self.errors.append(f"unknown opcode {opcode:#x}")
                    continue
                if fin:
                    data = b"".join(fragments)
                    if frag_op == OP_BINARY:
                        self.errors.append(f"a binary message: {data[:100]!r}")
                    try:
                        text = data.decode("utf-8")
                    except UnicodeDecodeError:
                        self.errors.append(f"a text message that is not UTF-8: {data[:100]!r}")
                        text = data.decode("utf-8", errors="replace")
                    with self._lock:
                        self.messages.append((time.monotonic(), text))
                        self._cond.notify_all()
                    fragments, frag_op = [], None
        except (EOFError, OSError):
            pass
        finally:
            self.ended.set()
            with self._lock:
                self._cond.notify_all()

    # ---- writing

    def _send(self, opcode, payload=b""):
        if isinstance(payload, str):
            payload = payload.encode()
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        masked = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        with self._send_lock:
            if opcode == OP_CLOSE:
                if self._closing_sent:
                    return
                self._closing_sent = True
            self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        self._send(OP_TEXT, text)

    # ---- a client that stops reading

    def pause(self):
        """Stops reading: what the server sends piles up in the socket buffers, then on the server."""
        self._reading.clear()

    def resume(self):
        self._reading.set()

    # ---- waiting

    def snapshot(self):
        with self._lock:
            return list(self.messages)

    def wait_for(self, predicate, timeout):
        """Waits until predicate(messages) is true; returns it (False on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                ok = predicate(self.messages)
                if ok or self.ended.is_set():
                    return ok
                left = deadline - time.monotonic()
                if left <= 0:
                    return ok
                self._cond.wait(left)

    def wait_closed(self, timeout):
        return self.close_received.wait(timeout)

    def abort(self):
        """Drops the connection without a close frame (a lost network)."""
        self._reading.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if self._reader is not None:
            self._reader.join(2)

    def close(self, code=1000):
        """Sends a close frame (when none was sent) and closes the socket."""
        self._reading.set()
        try:
            if not self.ended.is_set():
                self._send(OP_CLOSE, struct.pack("!H", code))
                self.ended.wait(2)
        except OSError:
            pass
        self.abort()
