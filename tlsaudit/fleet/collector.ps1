# tlsaudit fleet collector for Windows hosts: raw observations as one JSON document on stdout, exit 0.
# Runs on Windows PowerShell 2.0+ (Server 2008 R2 and later) and PowerShell 7; reads only, installs nothing,
# judges nothing. The controller (tlsaudit.fleet.observed) turns the document into the same facts as the
# local inspectors: the registry values feed tlsaudit.inspectors.dotnet through RecordedRegistry.
#
# Recorded: .NET Framework setup keys (NDP v4\Full Release DWORD, v3.5 Install/Version), SchUseStrongCrypto
# and SystemDefaultTlsVersions under .NETFramework v4.0.30319 and v2.0.50727 in the 64- and 32-bit registry
# views, the SCHANNEL\Protocols client keys (TLS 1.0-1.3), the Windows version, `dotnet --list-runtimes`
# for .NET (Core) hosts, and installed browsers (Chrome, Edge, Firefox) with their file versions.
$ErrorActionPreference = 'Continue'
$errors = New-Object System.Collections.ArrayList

function ConvertTo-JsonText($value) {
    # A small serializer: ConvertTo-Json is missing from PowerShell 2.0.
    if ($null -eq $value) { return 'null' }
    if ($value -is [bool]) { if ($value) { return 'true' } else { return 'false' } }
    if ($value -is [int] -or $value -is [long] -or $value -is [uint32] -or $value -is [double]) {
        return [string]$value
    }
    if ($value -is [string]) {
        $sb = New-Object System.Text.StringBuilder
        [void]$sb.Append('"')
        foreach ($ch in $value.ToCharArray()) {
            $code = [int]$ch
            if ($ch -eq '"') { [void]$sb.Append('\"') }
            elseif ($ch -eq '\') { [void]$sb.Append('\\') }
            elseif ($code -lt 32 -or $code -gt 126) { [void]$sb.Append(('\u{0:x4}' -f $code)) }
            else { [void]$sb.Append($ch) }
        }
        [void]$sb.Append('"')
        return $sb.ToString()
    }
    if ($value -is [System.Collections.IDictionary]) {
        $parts = @()
        foreach ($key in $value.Keys) { $parts += (ConvertTo-JsonText ([string]$key)) + ':' + (ConvertTo-JsonText $value[$key]) }
        return '{' + ($parts -join ',') + '}'
    }
    if ($value -is [System.Collections.IEnumerable]) {
        $parts = @()
        foreach ($item in $value) { $parts += (ConvertTo-JsonText $item) }
        return '[' + ($parts -join ',') + ']'
    }
    return ConvertTo-JsonText ([string]$value)
}

$registry = @{ '64' = @{}; '32' = @{} }

function Read-Key([string]$view, [string]$path, [string[]]$names) {
    # $path: HKLM\... ; records the values present (DWORD as numbers, strings as strings)
    try {
        $regView = if ($view -eq '64') { [Microsoft.Win32.RegistryView]::Registry64 } else { [Microsoft.Win32.RegistryView]::Registry32 }
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, $regView)
    } catch {
        # .NET 3.5 (PowerShell 2.0) has no RegistryView: the 64-bit view is the provider's own
        if ($view -ne '64') { return }
        $base = [Microsoft.Win32.Registry]::LocalMachine
    }
    $sub = $path.Substring(5)
    $key = $null
    try { $key = $base.OpenSubKey($sub) } catch { [void]$errors.Add("cannot open $path ($view-bit): $($_.Exception.Message)") }
    if ($null -eq $key) { return }
    $values = @{}
    foreach ($name in $names) {
        $v = $key.GetValue($name)
        if ($null -ne $v) {
            if ($v -is [int] -or $v -is [long]) { $values[$name] = [long]$v } else { $values[$name] = [string]$v }
        }
    }
    $registry[$view][$path] = $values
    $key.Close()
}

$ndp = 'HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP'
$netfx = @('HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319', 'HKLM\SOFTWARE\Microsoft\.NETFramework\v2.0.50727')
$schannel = 'HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols'
$nt = 'HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion'

foreach ($view in @('64', '32')) {
    Read-Key $view "$ndp\v4\Full" @('Release', 'Version', 'Install')
    Read-Key $view "$ndp\v3.5" @('Install', 'Version', 'SP')
    foreach ($path in $netfx) { Read-Key $view $path @('SchUseStrongCrypto', 'SystemDefaultTlsVersions') }
}
foreach ($proto in @('TLS 1.0', 'TLS 1.1', 'TLS 1.2', 'TLS 1.3')) {
    Read-Key '64' "$schannel\$proto\Client" @('Enabled', 'DisabledByDefault')
}
Read-Key '64' $nt @('CurrentMajorVersionNumber', 'CurrentMinorVersionNumber', 'CurrentBuildNumber', 'CurrentVersion', 'ProductName', 'DisplayVersion')

$targets = New-Object System.Collections.ArrayList
$runs = New-Object System.Collections.ArrayList
[void]$targets.Add(@{ kind = 'dotnet'; path = 'HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP' })

# .NET (Core) 5+: the dotnet host, as the Linux collector runs it
$dotnet = Join-Path $env:ProgramFiles 'dotnet\dotnet.exe'
if (Test-Path -LiteralPath $dotnet -PathType Leaf) {
    [void]$targets.Add(@{ kind = 'dotnet'; path = $dotnet })
    $run = @{ key = @($dotnet, '--list-runtimes'); argv = @($dotnet, '--list-runtimes'); started = $true; stdout = ''; stderr = ''; exit_code = $null }
    try {
        $out = & $dotnet --list-runtimes 2>&1
        $run.stdout = (($out | ForEach-Object { [string]$_ }) -join "`n") + "`n"
        $run.exit_code = [int]$LASTEXITCODE
    } catch {
        $run.started = $false
        $run.failure = "cannot run ${dotnet}: $($_.Exception.Message)"
    }
    [void]$runs.Add($run)
}

# Browsers: App Paths registration, else the usual install folders; version from the file's version info
$browsers = New-Object System.Collections.ArrayList
$known = @(
    @{ name = 'Google Chrome'; exe = 'chrome.exe'; dirs = @('Google\Chrome\Application') },
    @{ name = 'Microsoft Edge'; exe = 'msedge.exe'; dirs = @('Microsoft\Edge\Application') },
    @{ name = 'Mozilla Firefox'; exe = 'firefox.exe'; dirs = @('Mozilla Firefox') }
)
foreach ($b in $known) {
    $candidates = @()
    foreach ($root in @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\App Paths', 'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\App Paths')) {
        try { $p = (Get-ItemProperty -LiteralPath "$root\$($b.exe)" -ErrorAction Stop).'(default)'; if ($p) { $candidates += $p.Trim('"') } } catch { }
    }
    foreach ($base in @($env:ProgramFiles, ${env:ProgramFiles(x86)})) {
        if ($base) { foreach ($d in $b.dirs) { $candidates += (Join-Path (Join-Path $base $d) $b.exe) } }
    }
    foreach ($c in $candidates) {
        if (Test-Path -LiteralPath $c -PathType Leaf) {
            try {
                $version = (Get-Item -LiteralPath $c).VersionInfo.ProductVersion
                [void]$browsers.Add(@{ name = $b.name; path = $c; version = [string]$version })
            } catch { [void]$errors.Add("cannot read the version of ${c}: $($_.Exception.Message)") }
            break
        }
    }
}

$os = @{ system = 'Windows' }
try {
    $info = Get-WmiObject -Class Win32_OperatingSystem -ErrorAction Stop
    $os.pretty_name = [string]$info.Caption
    $os.release = [string]$info.Version
    $os.machine = [string]$info.OSArchitecture
} catch { [void]$errors.Add("Win32_OperatingSystem: $($_.Exception.Message)") }

$envOut = @{}
foreach ($name in @('PATH', 'JAVA_HOME', 'JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS', '_JAVA_OPTIONS', 'OPENSSL_CONF', 'CURL_SSL_BACKEND', 'DOTNET_ROOT', 'NODE_OPTIONS')) {
    $v = [Environment]::GetEnvironmentVariable($name)
    if ($null -ne $v) { $envOut[$name] = $v }
}

$document = @{
    format = 'tlsaudit-collector'; format_version = 1
    host = [Environment]::MachineName
    collected_at = [DateTime]::UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'")
    collector_python = ''
    collector = "powershell $($PSVersionTable.PSVersion)"
    os = $os; platform = 'win32'; env = $envOut
    targets = $targets; runs = $runs; files = @{}; globs = @{}
    registry = $registry; browsers = $browsers; errors = $errors
}
Write-Output (ConvertTo-JsonText $document)
exit 0
