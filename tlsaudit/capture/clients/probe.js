// tlsaudit capture client: Node's https module with default options.
// Usage: node probe.js URL
// Prints "OK <negotiated protocol>" (exit 0) or "FAIL <error>" (exit 1).
'use strict';
const https = require('https');
const req = https.get(process.argv[2], { timeout: 15000 }, (res) => {
  const protocol = res.socket.getProtocol();
  res.resume();
  res.on('end', () => {
    console.log('OK ' + protocol);
    process.exit(0);
  });
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (err) => {
  console.log('FAIL ' + (err.code ? err.code + ' ' : '') + err.message);
  process.exit(1);
});
