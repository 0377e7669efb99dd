<?php
// tlsaudit capture client: PHP's default HTTPS clients, one per mode, with default settings.
// Usage: php probe.php curl|https|tls URL
// Prints "OK <detail>" (exit 0), "FAIL <error>" (exit 1) or "UNAVAILABLE <why>" (exit 3).
$mode = $argv[1];
$url = $argv[2];
if ($mode === 'curl') {
    if (!function_exists('curl_init')) {
        echo "UNAVAILABLE ext/curl is not loaded\n";
        exit(3);
    }
    $ch = curl_init($url);
    curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
    curl_setopt($ch, CURLOPT_TIMEOUT, 15);
    $body = curl_exec($ch);
    if ($body === false) {
        echo "FAIL ", curl_error($ch), "\n";
        exit(1);
    }
    echo "OK HTTP ", curl_getinfo($ch, CURLINFO_HTTP_CODE), "\n";
    exit(0);
}
if ($mode === 'https') {
    $body = @file_get_contents($url);
    if ($body === false) {
        $err = error_get_last();
        echo "FAIL ", $err ? $err['message'] : 'unknown error', "\n";
        exit(1);
    }
    echo "OK body ", strlen($body), " bytes\n";
    exit(0);
}
if ($mode === 'tls') {
    $parts = parse_url($url);
    $errno = 0;
    $errstr = '';
    $fp = @stream_socket_client('tls://' . $parts['host'] . ':' . $parts['port'], $errno, $errstr, 15);
    if ($fp === false) {
        $err = error_get_last();
        echo "FAIL ", $errstr !== '' ? $errstr : ($err ? $err['message'] : 'unknown error'), "\n";
        exit(1);
    }
    $meta = stream_get_meta_data($fp);
    fwrite($fp, "GET / HTTP/1.1\r\nHost: " . $parts['host'] . "\r\nConnection: close\r\n\r\n");
    fread($fp, 1024);
    fclose($fp);
    echo "OK ", isset($meta['crypto']['protocol']) ? $meta['crypto']['protocol'] : 'connected', "\n";
    exit(0);
}
echo "UNAVAILABLE unknown mode $mode\n";
exit(3);
