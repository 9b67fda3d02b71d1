/** `sockchan --help`: the syntax, the options, and examples to copy. */
export const HELP_TEXT = `sockchan: Tcl's socket command at the shell.

Usage:
  sockchan ?-myaddr addr? ?-myport myport? ?-async? ?channel options? host port
      Connects and copies stdin to the socket and the socket to stdout (like netcat).
      At the end of stdin it half-closes the socket (sends FIN) and waits for the
      peer to close; it exits when the peer has closed its side.
  sockchan -server echo|cat|time ?-myaddr addr? ?-proxy-from list? ?channel options? port
      Listens (every local family unless -myaddr is given; port 0 lets the OS choose,
      the address is printed on stderr) until Ctrl-C:
        echo  sends each line back
        cat   prints what clients send to stdout
        time  the time server of Tcl's socket manual page
      -proxy-from list: connections from these proxies (addresses or CIDR blocks,
      comma-separated: 127.0.0.1,10.0.0.0/8) must begin with a PROXY protocol header
      (v1 or v2, haproxy's send-proxy); clients are then shown with their own address.
  sockchan ?-async? ?channel options? -unix path
  sockchan -server echo|cat|time ?channel options? -unix path
      The same over a Unix-domain socket (a file path, or @name for a Linux
      abstract name). A server replaces a stale socket file, refuses a live one,
      and removes its file when it stops.

Channel options (the socket's, as with chan configure; Tcl's defaults otherwise):
  -encoding name         e.g. utf-8, iso8859-1, binary (default: the system encoding)
  -translation mode      auto, binary, cr, lf, crlf or platform, or "in out"
                         (default "auto crlf": lines go out with CRLF, any end is read).
                         binary makes that direction byte-transparent, stdin/stdout included.
  -buffering mode        full, line or none (default full; the input is still sent
                         whenever stdin has nothing more for now)

TLS options (TclTLS's; any of them, or -tls alone, makes the socket TLS):
  -tls                   TLS with the defaults: the server's certificate is verified
                         (chain and host name) against the system CA store
  -cafile file           trusted CA certificates (PEM) instead of the CA store
  -certfile file         our certificate (PEM; a TLS server needs one)
  -keyfile file          its private key (default: the certificate file)
  -servername name       SNI and the name verified (default: the host)
  -alpn list             ALPN protocols, e.g. h2,http/1.1

Exit status: 0 done, 1 connection or I/O error, 2 bad command line,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Examples:
  sockchan -server time 9900 &            # the manual's time server
  sockchan localhost 9900                 # its two lines, then the server closes
  sockchan -server echo -myaddr 127.0.0.1 7777
  printf 'GET / HTTP/1.0\\n\\n' | sockchan example.org 80    # lines go out as CRLF
  sockchan -translation binary host 9000 < file.bin > reply.bin
  sockchan -async -encoding iso8859-1 localhost 25
  sockchan -server cat 0 > received.txt   # port chosen by the OS, shown on stderr
  sockchan -server time -proxy-from 127.0.0.1 9900   # behind haproxy's send-proxy
  sockchan -server echo -unix /tmp/echo.sock &
  printf 'hi\n' | sockchan -unix /tmp/echo.sock
  sockchan -tls example.org 443           # verified TLS
  sockchan -server echo -certfile srv.pem -keyfile srv.key 8443
  sockchan -cafile ca.pem -alpn http/1.1 localhost 8443
`;
