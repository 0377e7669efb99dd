'use strict';
// A Node `tls` server for the tlsaudit tests: node tls_server.js KEY CHAIN HOST MIN_VERSION MAX_VERSION
// Binds an ephemeral port of HOST, prints "LISTENING port openssl-version" once it accepts connections,
// and answers each completed handshake with a small HTTP response.
const fs = require('fs');
const tls = require('tls');

const [key, cert, host, minVersion, maxVersion] = process.argv.slice(2);
const server = tls.createServer(
  {
    key: fs.readFileSync(key),
    cert: fs.readFileSync(cert),
    minVersion,
    maxVersion,
    // OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above
    ciphers: 'DEFAULT:@SECLEVEL=0',
  },
  (socket) => {
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('error', () => {});
    socket.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n');
  },
);
// A refused or broken handshake is what the tests provoke.
server.on('tlsClientError', () => {});
server.listen(0, host, () => {
  process.stdout.write(`LISTENING ${server.address().port} ${process.versions.openssl}\n`);
});
process.on('SIGTERM', () => process.exit(0));
