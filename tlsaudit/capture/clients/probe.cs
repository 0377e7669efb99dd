// tlsaudit capture client for Mono: HttpWebRequest as a .NET Framework-era application uses it.
// Usage: mono probe.exe URL [PROTOCOL]   PROTOCOL: SecurityProtocolType name(s), e.g. Tls or Tls12
// Prints "OK <detail>" (exit 0) or "FAIL <error>" (exit 1). The certificate is not checked: only the
// handshake the runtime negotiates matters here.
using System;
using System.IO;
using System.Net;

public static class Probe
{
    public static int Main(string[] args)
    {
        try
        {
            if (args.Length > 1)
            {
                ServicePointManager.SecurityProtocol =
                    (SecurityProtocolType)Enum.Parse(typeof(SecurityProtocolType), args[1]);
            }
            ServicePointManager.ServerCertificateValidationCallback = (s, c, ch, e) => true;
            var request = (HttpWebRequest)WebRequest.Create(args[0]);
            request.Timeout = 15000;
            using (var response = (HttpWebResponse)request.GetResponse())
            using (var reader = new StreamReader(response.GetResponseStream()))
            {
                reader.ReadToEnd();
                Console.WriteLine("OK HTTP " + (int)response.StatusCode);
            }
            return 0;
        }
        catch (Exception exc)
        {
            Console.WriteLine("FAIL " + exc.GetType().Name + ": " + exc.Message);
            return 1;
        }
    }
}
