// A Go crypto/tls server for the tlsaudit tests:
//
//	tls_server -key KEY -chain CHAIN -host HOST -min VERSION -max VERSION [-ciphers A,B] [-curves X,Y]
//
// VERSION is one of 1.0, 1.1, 1.2, 1.3. -ciphers takes IANA names (tls.CipherSuites and
// tls.InsecureCipherSuites); Go ignores them for TLS 1.3. -curves takes Go's names (X25519, CurveP256,
// CurveP384, CurveP521). Binds an ephemeral port of HOST (loopback only), prints
// "LISTENING port go-version" once it accepts connections, and answers each completed handshake with
// a small HTTP response.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

var versions = map[string]uint16{
	"1.0": tls.VersionTLS10,
	"1.1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12,
	"1.3": tls.VersionTLS13,
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tls_server: "+format+"\n", args...)
	os.Exit(2)
}

func version(name string) uint16 {
	v, ok := versions[name]
	if !ok {
		fail("unknown version %q", name)
	}
	return v
}

func cipherSuites(list string) []uint16 {
	if list == "" {
		return nil
	}
	known := map[string]uint16{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[s.Name] = s.ID
	}
	var ids []uint16
	for _, name := range strings.Split(list, ",") {
		id, ok := known[name]
		if !ok {
			fail("unknown cipher suite %q", name)
		}
		ids = append(ids, id)
	}
	return ids
}

func curves(list string) []tls.CurveID {
	if list == "" {
		return nil
	}
	known := map[string]tls.CurveID{}
	for _, c := range []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384, tls.CurveP521} {
		known[c.String()] = c
	}
	var ids []tls.CurveID
	for _, name := range strings.Split(list, ",") {
		id, ok := known[name]
		if !ok {
			fail("unknown curve %q", name)
		}
		ids = append(ids, id)
	}
	return ids
}

func serve(conn *tls.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := conn.Handshake(); err != nil {
		return // a refused or broken handshake is what the tests provoke
	}
	_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"))
	// close_notify, then drain the request (if any) so the close is not a reset.
	_ = conn.CloseWrite()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = io.Copy(io.Discard, conn)
}

func main() {
	key := flag.String("key", "", "PEM private key")
	chain := flag.String("chain", "", "PEM certificate chain, leaf first")
	host := flag.String("host", "127.0.0.1", "loopback address to bind")
	minVersion := flag.String("min", "1.0", "lowest TLS version")
	maxVersion := flag.String("max", "1.3", "highest TLS version")
	ciphers := flag.String("ciphers", "", "comma-separated IANA cipher suite names (TLS 1.0-1.2)")
	curveList := flag.String("curves", "", "comma-separated curve names in preference order")
	flag.Parse()

	ip := net.ParseIP(*host)
	if ip == nil || !ip.IsLoopback() {
		fail("refusing to listen on %q: loopback only", *host)
	}
	pair, err := tls.LoadX509KeyPair(*chain, *key)
	if err != nil {
		fail("certificate: %v", err)
	}
	config := &tls.Config{
		Certificates:     []tls.Certificate{pair},
		MinVersion:       version(*minVersion),
		MaxVersion:       version(*maxVersion),
		CipherSuites:     cipherSuites(*ciphers),
		CurvePreferences: curves(*curveList),
	}
	listener, err := tls.Listen("tcp", net.JoinHostPort(*host, "0"), config)
	if err != nil {
		fail("listen: %v", err)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		_ = listener.Close()
		os.Exit(0)
	}()
	fmt.Printf("LISTENING %d %s\n", listener.Addr().(*net.TCPAddr).Port, runtime.Version())
	for {
		conn, err := listener.Accept()
		if err != nil {
			if strings.Contains(err.Error(), "use of closed network connection") {
				return
			}
			continue
		}
		go serve(conn.(*tls.Conn))
	}
}
