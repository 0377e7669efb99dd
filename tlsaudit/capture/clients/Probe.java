// tlsaudit capture client: Java's default HTTPS clients with default settings.
// Usage: java Probe.java https|socket URL    (or compiled: java -cp DIR Probe ...)
// Prints "OK <negotiated protocol>" (exit 0) or "FAIL <error>" (exit 1).
// Written for Java 6 and later: no lambdas, no try-with-resources, no diamond.
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

public class Probe {
    public static void main(String[] args) {
        String mode = args[0];
        URL url;
        try {
            url = new URL(args[1]);
            if (mode.equals("https")) {
                HttpsURLConnection conn = (HttpsURLConnection) url.openConnection();
                conn.setConnectTimeout(15000);
                conn.setReadTimeout(15000);
                int code = conn.getResponseCode();
                String suite = conn.getCipherSuite();
                InputStream in = conn.getInputStream();
                byte[] buf = new byte[4096];
                while (in.read(buf) >= 0) {
                    // drain
                }
                in.close();
                System.out.println("OK HTTP " + code + " " + suite);
            } else if (mode.equals("socket")) {
                SSLSocket socket = (SSLSocket) SSLContext.getDefault().getSocketFactory()
                        .createSocket(url.getHost(), url.getPort());
                socket.setSoTimeout(15000);
                socket.startHandshake();
                String protocol = socket.getSession().getProtocol();
                OutputStream out = socket.getOutputStream();
                out.write(("GET / HTTP/1.1\r\nHost: " + url.getHost() + "\r\nConnection: close\r\n\r\n")
                        .getBytes("US-ASCII"));
                out.flush();
                socket.getInputStream().read(new byte[1024]);
                socket.close();
                System.out.println("OK " + protocol);
            } else {
                System.out.println("UNAVAILABLE unknown mode " + mode);
                System.exit(3);
            }
        } catch (Exception e) {
            System.out.println("FAIL " + e);
            System.exit(1);
        }
        System.exit(0);
    }
}
