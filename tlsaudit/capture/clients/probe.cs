// tlsaudit capture client for Mono: HttpWebRequest as a .NET Framework-era application uses it.
// Usage: mono probe.exe URL [PROTOCOL]   PROTOCOL: SecurityProtocolType name(s), e.g. Tls or Tls12
//        mono probe.exe --info           the runtime's TLS defaults as one TLSAUDIT-JSON: line
// Prints "OK <detail>" (exit 0) or "FAIL <error>" (exit 1). The certificate is not checked: only the
// handshake the runtime negotiates matters here.
using System;
using System.IO;
using System.Net;

public static class Probe
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--info")
        {
            return Info();
        }
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

    // ServicePointManager.SecurityProtocol as the runtime starts, and the TLS provider it picks
    // (MONO_TLS_PROVIDER), read through reflection so that no Mono.Security reference is needed to build.
    static int Info()
    {
        string protocol = ServicePointManager.SecurityProtocol.ToString();
        string provider = "";
        string providerError = "";
        try
        {
            var factory = Type.GetType("Mono.Security.Interface.MonoTlsProviderFactory, Mono.Security");
            var instance = factory.GetMethod("GetProvider", Type.EmptyTypes).Invoke(null, null);
            provider = (string)instance.GetType().GetProperty("Name").GetValue(instance, null);
        }
        catch (Exception exc)
        {
            var inner = exc.InnerException ?? exc;
            while (inner.InnerException != null) inner = inner.InnerException;
            providerError = inner.GetType().Name + ": " + inner.Message;
        }
        Console.WriteLine("TLSAUDIT-JSON:{\"security_protocol\":" + Quote(protocol) + ",\"provider\":" + Quote(provider)
            + ",\"provider_error\":" + Quote(providerError) + ",\"clr\":" + Quote(Environment.Version.ToString()) + "}");
        return 0;
    }

    static string Quote(string text)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (char ch in text)
        {
            if (ch == '"' || ch == '\\') sb.Append('\\').Append(ch);
            else if (ch < ' ') sb.Append("\\u").Append(((int)ch).ToString("x4"));
            else sb.Append(ch);
        }
        return sb.Append('"').ToString();
    }
}
