import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * A JSSE server for the tlsaudit tests: java TlsServer KEYSTORE.p12 PASSWORD HOST.
 *
 * Binds an ephemeral port of HOST, prints "LISTENING port protocol,protocol,..." once it accepts
 * connections, and answers each completed handshake with a small HTTP response. The protocols come
 * from the JDK's own settings (-Djdk.tls.server.protocols, java.security), never from this code.
 */
public final class TlsServer {
    private static final byte[] RESPONSE =
        "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII);

    private TlsServer() {
    }

    public static void main(String[] args) throws Exception {
        char[] password = args[1].toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[0])) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), null, null);
        SSLServerSocket listener = (SSLServerSocket) context.getServerSocketFactory()
            .createServerSocket(0, 128, InetAddress.getByName(args[2]));
        System.out.println("LISTENING " + listener.getLocalPort() + " "
            + String.join(",", listener.getEnabledProtocols()));
        System.out.flush();
        while (true) {
            Socket socket = listener.accept();
            Thread worker = new Thread(() -> handle((SSLSocket) socket));
            worker.setDaemon(true);
            worker.start();
        }
    }

    private static void handle(SSLSocket socket) {
        try (socket) {
            socket.setSoTimeout(5000);
            socket.startHandshake();
            OutputStream out = socket.getOutputStream();
            out.write(RESPONSE);
            out.flush();
        } catch (IOException e) {
            // a refused or broken handshake is what the tests provoke
        }
    }
}
