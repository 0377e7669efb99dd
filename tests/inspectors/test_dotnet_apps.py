""".NET application configs (--dotnet-config) judged with and without the machine's registry (--registry)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tlsaudit.engine import evaluate, load_ruleset
from tlsaudit.inspectors import InspectOptions, inspect_runtimes
from tlsaudit.inspectors.dotnet_apps import app_config_runtime, dotnet_inputs
from tlsaudit.inspectors.regfile import read_reg_file
from tlsaudit.models import FindingStatus, Readiness, RuntimeFacts

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "registry"

WEB_CONFIG_45 = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.web>
    <compilation debug="false" targetFramework="4.5.2" />
    <httpRuntime targetFramework="4.5.2" maxRequestLength="4096" />
  </system.web>
</configuration>
"""
APP_CONFIG_472_SWITCHED_OFF = """<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <startup>
    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.7.2" />
  </startup>
  <runtime>
    <AppContextSwitchOverrides value="Switch.System.Net.DontEnableSchUseStrongCrypto=true;\
Switch.System.Net.DontEnableSystemDefaultTlsVersions=true" />
  </runtime>
</configuration>
"""
APP_CONFIG_40_SWITCHED_ON = """<?xml version="1.0"?>
<configuration xmlns="urn:example">
  <startup><supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.0" /></startup>
  <runtime>
    <AppContextSwitchOverrides value="Switch.System.Net.DontEnableSchUseStrongCrypto=false" />
  </runtime>
</configuration>
"""
RUNTIMECONFIG = {
    "runtimeOptions": {
        "tfm": "net8.0",
        "framework": {"name": "Microsoft.NETCore.App", "version": "8.0.0"},
        "configProperties": {"System.Reflection.Metadata.MetadataUpdater.IsSupported": False},
    }
}


def judge(rt: RuntimeFacts) -> tuple[Readiness, set[str], set[str]]:
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[rt])
    fails = {f.rule_id for f in evaluation.findings if f.status == FindingStatus.FAIL}
    warns = {f.rule_id for f in evaluation.findings if f.status == FindingStatus.WARN}
    errors = [f.message for f in evaluation.findings if f.status == FindingStatus.ERROR]
    assert not errors, errors
    return evaluation.readiness[rt.subject], fails, warns


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_45_target_without_opt_in_offers_no_tls12(tmp_path: Path) -> None:
    rt = app_config_runtime(write(tmp_path, "web.config", WEB_CONFIG_45), None)
    assert rt.version == "4.5.2" and rt.details["target_framework_source"] == "httpRuntime targetFramework"
    assert rt.details["security_protocol_default"] == ("Ssl3", "Tls")
    readiness, fails, _ = judge(rt)
    assert "runtime.dotnet.app-tls12-off" in fails and readiness == Readiness.READY_WITH_CONFIG


def test_45_target_with_the_registry_opt_in_in_both_views(tmp_path: Path) -> None:
    registry = read_reg_file(SAMPLES / "win2016-netfx48-strong-crypto.reg")
    rt = app_config_runtime(write(tmp_path, "web.config", WEB_CONFIG_45), registry)
    assert rt.details["app_tls12_by_default"] is True and rt.details["framework_release"] == 528049
    assert rt.details["security_protocol_default"] == ("SystemDefault",)
    readiness, fails, _ = judge(rt)
    assert not fails and readiness == Readiness.READY


def test_45_target_with_an_opt_in_in_one_view_only(tmp_path: Path) -> None:
    registry = read_reg_file(SAMPLES / "win7-schannel-tls12-off-wow-only.reg")
    rt = app_config_runtime(write(tmp_path, "web.config", WEB_CONFIG_45), registry)
    assert rt.details["app_tls12_by_default"] is False  # SchUseStrongCrypto=0 in the 64-bit view
    _, fails, _ = judge(rt)
    assert "runtime.dotnet.app-tls12-off" in fails


def test_switches_set_to_true_turn_the_472_defaults_off(tmp_path: Path) -> None:
    rt = app_config_runtime(write(tmp_path, "Service.exe.config", APP_CONFIG_472_SWITCHED_OFF), None)
    assert rt.version == "4.7.2" and rt.details["dont_enable_sch_use_strong_crypto"] is True
    readiness, fails, warns = judge(rt)
    assert "runtime.dotnet.app-switch-turns-tls-defaults-off" in warns
    assert "runtime.dotnet.app-tls12-off" in fails and readiness == Readiness.READY_WITH_CONFIG


def test_switch_set_to_false_opts_a_40_target_in(tmp_path: Path) -> None:
    rt = app_config_runtime(write(tmp_path, "app.config", APP_CONFIG_40_SWITCHED_ON), None)
    assert rt.details["app_strong_crypto"] is True
    readiness, fails, warns = judge(rt)
    assert not fails and "runtime.dotnet.app-switch-turns-tls-defaults-off" not in warns
    assert readiness == Readiness.READY


def test_runtimeconfig_and_bad_xml(tmp_path: Path) -> None:
    rt = app_config_runtime(write(tmp_path, "App.runtimeconfig.json", json.dumps(RUNTIMECONFIG)), None)
    assert rt.details["product"] == "core-app" and rt.details["framework_version"] == "8.0.0"
    bad = app_config_runtime(write(tmp_path, "web.config", "<configuration><system.web>"), None)
    assert "inspect_error" in bad.details
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><configuration>&a;</configuration>'
    refused = app_config_runtime(write(tmp_path, "app.config", bomb), None)
    assert "inspect_error" in refused.details  # defusedxml refuses entity declarations
    evaluation = evaluate(load_ruleset("sage-intacct-2018"), runtimes=[bad])
    [error] = [f for f in evaluation.findings if f.status == FindingStatus.ERROR]
    assert error.rule_id == "runtime.not-assessed" and "line 1, column 27" in error.message
    assert evaluation.readiness[bad.subject] == Readiness.UNKNOWN


def test_inspect_runtimes_reads_configs_from_a_folder_with_the_registry(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "bin").mkdir(parents=True)
    write(site, "web.config", WEB_CONFIG_45)
    write(site / "bin", "Tool.exe.config", APP_CONFIG_472_SWITCHED_OFF)
    (site / "node_modules").mkdir()
    write(site / "node_modules", "web.config", WEB_CONFIG_45)
    registry, configs = dotnet_inputs(str(SAMPLES / "win2012r2-netfx452-no-optin.reg"), [str(site)])
    assert [c.name for c in configs] == ["Tool.exe.config", "web.config"]
    runtimes = inspect_runtimes(
        InspectOptions(
            kinds=("dotnet",), extra_paths={"dotnet": configs}, search_system=False, registry=registry
        )
    )
    paths = sorted(rt.path for rt in runtimes)
    assert paths == sorted(
        [*(str(c) for c in configs), "HKLM/SOFTWARE/Microsoft/NET Framework Setup/NDP/v4/Full"]
    )


def test_cli_registry_and_config_options(tmp_path: Path) -> None:
    write(tmp_path, "web.config", WEB_CONFIG_45)
    out = tmp_path / "r.json"
    argv = [sys.executable, "-m", "tlsaudit", "runtimes", "--kind", "dotnet", "--no-system-search"]
    done = subprocess.run(
        [
            *argv,
            "--registry",
            str(SAMPLES / "win2012r2-netfx452-no-optin.reg"),
            "--dotnet-config",
            str(tmp_path),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(out.read_text())
    fired = {f["rule_id"] for f in report["findings"] if f["status"] == "fail"}
    assert {"runtime.dotnet.app-tls12-off", "runtime.dotnet.framework-4.5-tls12-off"} <= fired
    bad = tmp_path / "bad.reg"
    bad.write_text('Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\X]\n"A"=dword:xyz\n')
    done = subprocess.run(
        [*argv, "--registry", str(bad)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2 and f"{bad}:4:" in done.stderr
