// tlsaudit capture client: .NET HttpClient with default settings, run as an F# script (`dotnet fsi`),
// which needs an SDK but no project and no package restore.
// Usage: dotnet fsi probe.fsx URL
// Prints "OK <detail>" (exit 0) or "FAIL <error>" (exit 1).
open System.Net.Http

let url = fsi.CommandLineArgs.[1]
let code =
    try
        use client = new HttpClient(Timeout = System.TimeSpan.FromSeconds 15.0)
        let response = client.GetAsync(url).Result
        printfn "OK HTTP %d" (int response.StatusCode)
        0
    with e ->
        printfn "FAIL %s: %s" (e.GetBaseException().GetType().Name) (e.GetBaseException().Message)
        1
exit code
